"""Operators' commands that run from a workstation, cron or CI against any stage (the
emulator of `make run`, or a deployed stage with the caller's own AWS credentials)."""
