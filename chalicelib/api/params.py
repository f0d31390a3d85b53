"""Parsing path and query parameters; anything malformed is `400 invalid_request`."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timezone
from urllib.parse import unquote

from chalicelib.domain.identifiers import MAX_ID_CHARS, id_problem
from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import InvalidTimestamp, parse_iso
from chalicelib.errors import InvalidRequest
from chalicelib.services.queries import TransactionQuery

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
MAX_CURSOR_CHARS = 16384
"""Far above any cursor this service issues (its keys are bounded ids), far below a size
worth decoding and hashing."""
_LIST_PARAMS = {"merchant_id", "customer_id", "status", "created_from", "created_to", "limit", "cursor"}


def path_id(name: str, raw: str) -> str:
    """Path parameters arrive percent-encoded (Chalice issue 688): decode, then check."""
    value = unquote(raw)
    problem = id_problem(value)
    if problem is not None:
        raise InvalidRequest(f"{name}: {problem}")
    return value


def transaction_query(params: Mapping[str, str] | None) -> TransactionQuery:
    params = dict(params or {})
    unknown = sorted(set(params) - _LIST_PARAMS)
    if unknown:
        raise InvalidRequest(f"{unknown[0]}: unknown parameter")
    merchant_id, customer_id = _owner(params, "merchant_id"), _owner(params, "customer_id")
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
        limit=_limit(params.get("limit")), cursor=_cursor(params.get("cursor")),
    )


def _owner(params: Mapping[str, str], name: str) -> str | None:
    """A merchant or customer id as stored: no longer than any id a provider can set."""
    value = params.get(name)
    if value is not None and len(value) > MAX_ID_CHARS:
        raise InvalidRequest(f"{name}: longer than {MAX_ID_CHARS} characters")
    return value


def _limit(raw: str | None) -> int:
    """ASCII digits only (`str.isdigit` also takes `²` and Arabic-Indic digits, which
    `int` then refuses or reads), and no more of them than the largest limit has."""
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_LIMIT))) \
            or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidRequest(f"limit: must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def _cursor(raw: str | None) -> str | None:
    if raw is not None and len(raw) > MAX_CURSOR_CHARS:
        raise InvalidRequest("cursor: not a cursor issued by this service")
    return raw or None


def _moment(name: str, raw: str | None, day_edge: time) -> datetime | None:
    """A full ISO-8601 timestamp, or a date meaning that whole UTC day (inclusive)."""
    if raw is None:
        return None
    try:
        if not raw.isascii():  # strptime and fromisoformat also read non-ASCII digits
            raise ValueError(raw)
        if len(raw) == 10:
            day = datetime.strptime(raw, "%Y-%m-%d").date()
            return datetime.combine(day, day_edge, tzinfo=timezone.utc)
        return parse_iso(raw)
    except (ValueError, InvalidTimestamp):
        raise InvalidRequest(f"{name}: must be YYYY-MM-DD or an ISO-8601 timestamp with a UTC offset") from None


def page_limit(params: Mapping[str, str] | None, allowed: frozenset[str] = frozenset({"limit"})) -> int:
    """`limit` (1..200, default 50) of a listing that takes nothing else but `allowed`."""
    params = dict(params or {})
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise InvalidRequest(f"{unknown[0]}: unknown parameter")
    return _limit(params.get("limit"))
