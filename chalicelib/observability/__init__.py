"""Structured logs (and, later, traces and metrics)."""
