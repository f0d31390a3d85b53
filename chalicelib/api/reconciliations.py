"""`GET /admin/reconciliations` (docs/api.md section 11): its one parameter and its answer."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.errors import InvalidRequest
from chalicelib.storage.reconciliation.exports import ReportSummary

DEFAULT_LIMIT, MAX_LIMIT = 10, 50


def limit(params: Mapping[str, str] | None) -> int:
    """`limit`, 1 to 50 (default 10); anything else is refused, not clamped."""
    params = params or {}
    unknown = sorted(set(params) - {"limit"})
    if unknown:
        raise InvalidRequest(f"{unknown[0][:64]}: unknown parameter")
    raw = params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_LIMIT))) or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidRequest(f"limit: must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def reports_view(reports: list[ReportSummary]) -> dict[str, Any]:
    return {"items": [report.as_item() for report in reports]}
