"""The archival use cases: the nightly run, one partition at a time, and the audit restore."""
