"""Parsing path and query parameters; anything malformed is `400 invalid_request`."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timezone
from urllib.parse import unquote

from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import InvalidTimestamp, parse_iso
from chalicelib.errors import InvalidRequest
from chalicelib.services.queries import TransactionQuery

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
_LIST_PARAMS = {"merchant_id", "customer_id", "status", "created_from", "created_to", "limit", "cursor"}


def path_id(name: str, raw: str) -> str:
    """Path parameters arrive percent-encoded (Chalice issue 688): decode, then check."""
    value = unquote(raw)
    if not 1 <= len(value) <= 255 or "/" in value:
        raise InvalidRequest(f"{name}: must be 1 to 255 characters without '/'")
    return value


def transaction_query(params: Mapping[str, str] | None) -> TransactionQuery:
    params = dict(params or {})
    unknown = sorted(set(params) - _LIST_PARAMS)
    if unknown:
        raise InvalidRequest(f"{unknown[0]}: unknown parameter")
    merchant_id, customer_id = params.get("merchant_id"), params.get("customer_id")
    if not merchant_id and not customer_id:
        raise InvalidRequest("merchant_id or customer_id is required")
    status = None
    if "status" in params:
        try:
            status = Status(params["status"])
        except ValueError:
            raise InvalidRequest(f"status: must be one of {', '.join(s.value for s in Status)}") from None
    created_from = _moment("created_from", params.get("created_from"), time.min)
    created_to = _moment("created_to", params.get("created_to"), time.max)
    if created_from and created_to and created_from > created_to:
        raise InvalidRequest("created_from: must not be after created_to")
    return TransactionQuery(
        merchant_id=merchant_id or None, customer_id=customer_id or None, status=status,
        created_from=created_from, created_to=created_to,
        limit=_limit(params.get("limit")), cursor=params.get("cursor") or None,
    )


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidRequest(f"limit: must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def _moment(name: str, raw: str | None, day_edge: time) -> datetime | None:
    """A full ISO-8601 timestamp, or a date meaning that whole UTC day (inclusive)."""
    if raw is None:
        return None
    try:
        if len(raw) == 10:
            day = datetime.strptime(raw, "%Y-%m-%d").date()
            return datetime.combine(day, day_edge, tzinfo=timezone.utc)
        return parse_iso(raw)
    except (ValueError, InvalidTimestamp):
        raise InvalidRequest(f"{name}: must be YYYY-MM-DD or an ISO-8601 timestamp with a UTC offset") from None
