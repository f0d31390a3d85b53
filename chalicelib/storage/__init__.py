"""Repositories: the only code that knows table layouts, key formats and conditions."""
