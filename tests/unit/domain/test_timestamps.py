"""UTC timestamps: providers' formats in, the contract's `Z` form out."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.timestamps import (
    InvalidTimestamp,
    format_iso,
    from_epoch,
    parse_iso,
    sortable,
)

MOMENT = datetime(2026, 11, 20, 10, 0, 0, tzinfo=timezone.utc)


def test_epoch_seconds_are_read_as_utc():
    assert from_epoch(1795168800) == MOMENT
    assert from_epoch(1795168800).tzinfo == timezone.utc


@pytest.mark.parametrize(
    "text",
    ["2026-11-20T10:00:00Z", "2026-11-20T10:00:00z", "2026-11-20T10:00:00+00:00",
     "2026-11-20T11:00:00+01:00", "2026-11-20T05:30:00-04:30"],
)
def test_an_iso_timestamp_with_an_offset_is_read_as_the_same_utc_instant(text):
    parsed = parse_iso(text)
    assert parsed == MOMENT
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["2026-11-20T10:00:00", "2026-11-20"])
def test_a_timestamp_without_an_offset_is_refused_rather_than_guessed(text):
    with pytest.raises(InvalidTimestamp, match="no UTC offset"):
        parse_iso(text)


@pytest.mark.parametrize(
    "text",
    ["yesterday", "", "2026-13-01T00:00:00Z", None, 1795168800,
     "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"],
)
def test_anything_else_is_not_a_timestamp(text):
    with pytest.raises(InvalidTimestamp):
        parse_iso(text)


def test_the_contract_form_ends_in_z_and_shows_microseconds_only_when_present():
    assert format_iso(MOMENT) == "2026-11-20T10:00:00Z"
    assert format_iso(MOMENT.replace(microsecond=5)) == "2026-11-20T10:00:00.000005Z"
    assert format_iso(MOMENT.astimezone(timezone(timedelta(hours=9)))) == "2026-11-20T10:00:00Z"
    assert format_iso(MOMENT.replace(year=999)) == "0999-11-20T10:00:00Z"


def test_formatting_and_parsing_round_trip():
    precise = MOMENT.replace(microsecond=123)
    assert parse_iso(format_iso(precise)) == precise


def test_the_sortable_form_orders_like_time_whatever_the_offset_or_precision():
    moments = [
        MOMENT + timedelta(microseconds=1),
        MOMENT.astimezone(timezone(timedelta(hours=-8))),
        MOMENT - timedelta(days=400),
        MOMENT + timedelta(seconds=1),
        MOMENT.replace(year=999),
        MOMENT.replace(year=9999),
    ]
    assert sorted(moments, key=sortable) == sorted(moments)
