"""Operator-side tooling for deployed stages: IAM policy files, the package and deploy
paths, edge protection. Runs on a workstation or in CI, never in Lambda (Chalice packages
only `app.py`, `chalicelib/` and the requirements)."""
