"""Bodies are decoded strictly: text that no storage can keep (a lone surrogate, bytes that
are not UTF-8) and nesting deeper than `MAX_DEPTH` are `400 invalid_payload` when the body
is decoded, before any provider reads a field of it."""
from __future__ import annotations

import json

import pytest

from chalicelib.errors import InvalidPayload
from chalicelib.providers.payload import MAX_DEPTH, load_object


def nested(depth: int) -> bytes:
    """An object `depth` levels deep counting the outermost one."""
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("raw", [
    b'{"type": "\\ud800"}', b'{"type": "x\\udfff"}', b'{"\\udc00": 1}', b'{"a": ["\\uD83D"]}',
])
def test_an_escaped_lone_surrogate_is_invalid_payload(raw: bytes) -> None:
    with pytest.raises(InvalidPayload, match="body"):
        load_object(raw)


def test_an_escaped_surrogate_pair_is_one_character() -> None:
    assert load_object(b'{"type": "\\ud83d\\ude00"}') == {"type": "\U0001F600"}


@pytest.mark.parametrize("raw", [b'{"type": "\xed\xa0\x80"}', b'{"type": "\xff"}', b'{"type": "\xc0\xaf"}'])
def test_bytes_that_are_not_utf8_are_invalid_payload(raw: bytes) -> None:
    with pytest.raises(InvalidPayload, match="body"):
        load_object(raw)


def test_nesting_up_to_the_bound_is_read_and_one_level_more_is_invalid_payload() -> None:
    assert load_object(nested(MAX_DEPTH))
    with pytest.raises(InvalidPayload, match="nested"):
        load_object(nested(MAX_DEPTH + 1))
    with pytest.raises(InvalidPayload, match="nested"):
        load_object(b'{"a": ' + b"[" * 900 + b"]" * 900 + b"}")


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    document = {"note": "[" * 500 + '{"' * 100, "quoted": '\\"[[[['}
    assert load_object(json.dumps(document).encode()) == document
