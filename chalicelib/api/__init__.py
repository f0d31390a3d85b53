"""HTTP-facing pieces: request parameters in, JSON views and error responses out."""
