"""Archival storage: the archivable index of the transactions table, the S3 archive parts, the run lease."""
