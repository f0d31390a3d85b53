"""Pagination cursors: tamper-evident, bound to their query, and refused (400) rather than
crashing whatever text a caller sends as one."""
from __future__ import annotations

import pytest

from chalicelib.errors import InvalidRequest
from chalicelib.services.cursor import CursorCodec

QUERY = {"merchant_id": "m-1"}
KEY = {"merchant_id": "m-1", "created_key": "2026-01-01T00:00:00.000000Z#stripe#pi_1", "pk": "stripe#pi_1"}


def test_a_cursor_reads_back_the_key_it_was_issued_for() -> None:
    codec = CursorCodec(lambda: [b"k" * 32])
    assert codec.decode(codec.encode(KEY, QUERY), QUERY) == KEY


@pytest.mark.parametrize("cursor", ["\u00e9.\u00e9", "abc.\u00e9", "\u00e9", "abc.\ud800", "..", "a" * 300])
def test_a_cursor_with_foreign_characters_is_invalid_request(cursor: str) -> None:
    with pytest.raises(InvalidRequest, match="cursor"):
        CursorCodec(lambda: [b"k" * 32]).decode(cursor, QUERY)


def test_a_cursor_signed_with_the_previous_key_is_accepted_and_new_ones_use_the_current_key() -> None:
    old = CursorCodec(lambda: [b"old"]).encode(KEY, QUERY)
    rotated = CursorCodec(lambda: [b"new", b"old"])
    assert rotated.decode(old, QUERY) == KEY
    assert CursorCodec(lambda: [b"new"]).decode(rotated.encode(KEY, QUERY), QUERY) == KEY
    with pytest.raises(InvalidRequest):
        CursorCodec(lambda: [b"newer", b"new"]).decode(old, QUERY)
