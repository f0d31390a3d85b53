"""One module per payment provider: verify its signature over raw bytes, parse its events."""
