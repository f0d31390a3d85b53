"""The shared signature primitives: HMAC, comparison against every candidate, tolerance."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.errors import SignatureError
from chalicelib.providers.signatures import (
    any_signature_matches,
    check_tolerance,
    hmac_sha256,
    parse_unix_seconds,
)

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
T = int(NOW.timestamp())


def test_hmac_sha256_is_the_raw_32_byte_digest():
    assert hmac_sha256(b"key", b"message") == hmac.new(b"key", b"message", hashlib.sha256).digest()
    assert len(hmac_sha256(b"", b"")) == 32


@pytest.mark.parametrize(
    "expected, provided, matches",
    [
        ([b"a"], [b"a"], True),
        ([b"a", b"b"], [b"b"], True),
        ([b"a", b"b"], [b"a"], True),
        ([b"a"], [b"x", b"a"], True),
        ([b"a"], [b"a", b"x"], True),
        ([b"a", b"b"], [b"b", b"x", b"y"], True),
        ([b"a"], [b"b"], False),
        ([b"a"], [b"a\x00"], False),
        ([b"a"], [], False),
        ([], [b"a"], False),
    ],
)
def test_any_provided_signature_may_match_any_expected_one(expected, provided, matches):
    assert any_signature_matches(expected, provided) is matches


def test_expected_candidates_may_be_a_generator_used_against_every_provided_signature():
    assert any_signature_matches((d for d in [b"a", b"b"]), [b"x", b"b"]) is True


@pytest.mark.parametrize("age", [0, 1, 300, -300, 299.999])
def test_a_timestamp_within_tolerance_either_way_passes(age):
    check_tolerance(T, NOW + timedelta(seconds=age), 300, header="H")


@pytest.mark.parametrize("age", [300.001, 301, 10**6])
def test_a_timestamp_older_than_the_tolerance_has_expired(age):
    with pytest.raises(SignatureError, match=r"^H timestamp \d+ has expired"):
        check_tolerance(T, NOW + timedelta(seconds=age), 300, header="H")


@pytest.mark.parametrize("skew", [300.001, 301, 10**6])
def test_a_timestamp_further_in_the_future_than_the_tolerance_is_refused(skew):
    with pytest.raises(SignatureError, match="in the future"):
        check_tolerance(T, NOW - timedelta(seconds=skew), 300, header="H")


def test_a_naive_now_is_a_programming_error():
    with pytest.raises(ValueError):
        check_tolerance(T, NOW.replace(tzinfo=None), 300, header="H")


@pytest.mark.parametrize("text", ["0", "1767261602", "999999999999"])
def test_unix_seconds_are_plain_digits(text):
    assert parse_unix_seconds(text, header="H") == int(text)


@pytest.mark.parametrize("text", ["", " 1", "1.0", "-1", "+1", "1e9", "١٢٣", "9" * 13])
def test_anything_but_plain_digits_is_not_a_signed_timestamp(text):
    with pytest.raises(SignatureError, match="^H timestamp is not"):
        parse_unix_seconds(text, header="H")
