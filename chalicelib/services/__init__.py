"""Use cases, one per module, composed from domain, providers and storage."""
