"""`GET /analytics/daily` (contract section 3): its parameters and its JSON shape.

Anything malformed is `400 invalid_request`: a date that is not exactly `YYYY-MM-DD`, a
reversed range, more than 366 days, a provider this service has no receiver for, a
currency that is not ISO 4217, an unknown or empty parameter."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from chalicelib.domain.analytics import DailyFigures, DayBucket
from chalicelib.domain.currencies import UnknownCurrency, normalise_currency
from chalicelib.domain.status import Status
from chalicelib.errors import InvalidRequest
from chalicelib.providers.registry import provider_names
from chalicelib.services.analytics import DailyQuery

MAX_DAYS = 366
_PARAMS = ("from", "to", "provider", "currency")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def daily_query(params: Mapping[str, str] | None) -> DailyQuery:
    params = dict(params or {})
    unknown = sorted(set(params) - set(_PARAMS))
    if unknown:
        raise InvalidRequest(f"{unknown[0][:64]}: unknown parameter")
    first_day, last_day = _day(params, "from"), _day(params, "to")
    if first_day > last_day:
        raise InvalidRequest("from: must not be after to")
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise InvalidRequest(f"to: the range may span at most {MAX_DAYS} days")
    return DailyQuery(first_day, last_day, _provider(params.get("provider")), _currency(params.get("currency")))


def daily_view(rows: list[tuple[DayBucket, DailyFigures]]) -> dict[str, Any]:
    return {"days": [
        {
            "date": bucket.day.isoformat(), "provider": bucket.provider, "currency": bucket.currency,
            "count": figures.count,
            "by_status": {s.value: figures.by_status[s] for s in Status if figures.by_status.get(s)},
            "gross_volume": figures.gross_volume, "refunded_volume": figures.refunded_volume,
            "net_volume": figures.net_volume,
        }
        for bucket, figures in rows
    ]}


def _day(params: Mapping[str, str], name: str) -> date:
    raw = params.get(name)
    if raw is None:
        raise InvalidRequest(f"{name}: required (YYYY-MM-DD)")
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(f"{name}: must be a date YYYY-MM-DD") from None


def _provider(raw: str | None) -> str | None:
    if raw is None:
        return None
    if raw not in provider_names():
        raise InvalidRequest(f"provider: must be one of {', '.join(sorted(provider_names()))}")
    return raw


def _currency(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        if len(raw) != 3:
            raise UnknownCurrency(raw)
        return normalise_currency(raw)
    except UnknownCurrency:
        raise InvalidRequest("currency: must be an ISO 4217 code such as EUR") from None

