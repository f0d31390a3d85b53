"""`GET /analytics/daily` parameters (contract section 3): anything malformed is
`400 invalid_request`; the stream handler's response shape."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.api.analytics import daily_query, daily_view
from chalicelib.domain.analytics import DailyFigures, DayBucket
from chalicelib.domain.status import Status
from chalicelib.errors import InvalidRequest
from chalicelib.services.analytics import DailyQuery


def test_a_date_range_with_optional_filters_is_read() -> None:
    assert daily_query({"from": "2026-01-01", "to": "2026-01-31"}) == DailyQuery(
        date(2026, 1, 1), date(2026, 1, 31))
    assert daily_query({"from": "2026-01-01", "to": "2026-01-01", "provider": "stripe", "currency": "usd"}) == \
        DailyQuery(date(2026, 1, 1), date(2026, 1, 1), "stripe", "USD")


def test_a_range_of_exactly_366_days_is_accepted() -> None:
    assert daily_query({"from": "2024-01-01", "to": "2024-12-31"}).last_day == date(2024, 12, 31)  # leap year


@pytest.mark.parametrize("params, field", [
    ({}, "from"),
    ({"to": "2026-01-01"}, "from"),
    ({"from": "2026-01-01"}, "to"),
    ({"from": "2026-1-1", "to": "2026-01-02"}, "from"),
    ({"from": "20260101", "to": "2026-01-02"}, "from"),
    ({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02"}, "from"),
    ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
    ({"from": "2026-01-01", "to": "２０２６-01-02"}, "to"),
    ({"from": "2026-01-01", "to": ""}, "to"),
    ({"from": "2026-01-02", "to": "2026-01-01"}, "from"),
    ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),
    ({"from": "2026-01-01", "to": "2026-01-02", "provider": "worldpay"}, "provider"),
    ({"from": "2026-01-01", "to": "2026-01-02", "provider": ""}, "provider"),
    ({"from": "2026-01-01", "to": "2026-01-02", "currency": "XYZ"}, "currency"),
    ({"from": "2026-01-01", "to": "2026-01-02", "currency": " EUR"}, "currency"),
    ({"from": "2026-01-01", "to": "2026-01-02", "currency": ""}, "currency"),
    ({"from": "2026-01-01", "to": "2026-01-02", "limit": "5"}, "limit"),
])
def test_malformed_parameters_are_invalid_requests_naming_the_field(params: dict, field: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        daily_query(params)
    assert raised.value.code == "invalid_request" and raised.value.message.startswith(f"{field}:")


def test_the_view_has_the_contract_fields_with_net_volume_and_nonzero_statuses() -> None:
    figures = DailyFigures(count=3, by_status={Status.DISPUTED: 1, Status.SUCCEEDED: 2},
                           gross_volume=3000, refunded_volume=250)
    assert daily_view([(DayBucket(date(2026, 1, 1), "stripe", "USD"), figures)]) == {"days": [{
        "date": "2026-01-01", "provider": "stripe", "currency": "USD", "count": 3,
        "by_status": {"succeeded": 2, "disputed": 1}, "gross_volume": 3000,
        "refunded_volume": 250, "net_volume": 2750,
    }]}
    assert daily_view([]) == {"days": []}

