"""Cutting archived lines into gzip JSON Lines parts. Pure."""
from __future__ import annotations

import gzip
import hashlib

import pytest

from chalicelib.storage.archive.parts import (
    PartBuilder, PartLimits, encode_line, line_digest, part_lines, split_into_parts,
)


def lines(count: int, width: int = 20) -> list[bytes]:
    return [encode_line({"id": f"pi_{n}", "pad": "x" * width}) for n in range(count)]


def test_a_line_is_compact_utf8_json_with_a_newline_in_the_given_key_order() -> None:
    assert encode_line({"b": 1, "a": "é"}) == '{"b":1,"a":"é"}\n'.encode()


def test_parts_are_cut_at_the_line_cap_and_keep_every_line_in_order() -> None:
    source = lines(7)
    parts = list(split_into_parts(iter(source), PartLimits(max_lines=3)))
    assert [p.lines for p in parts] == [3, 3, 1]
    assert [line for p in parts for line in part_lines(p.body)] == source


def test_parts_are_cut_at_the_byte_cap_and_a_longer_line_still_gets_a_part() -> None:
    source = lines(4, width=100)  # ~117 bytes a line
    assert [p.lines for p in split_into_parts(iter(source), PartLimits(max_bytes=250))] == [3, 1]
    assert [p.lines for p in split_into_parts(iter(source), PartLimits(max_bytes=10))] == [1, 1, 1, 1]


def test_no_lines_make_no_part() -> None:
    assert list(split_into_parts(iter([]), PartLimits())) == []


def test_the_same_lines_always_make_the_same_bytes_and_checksum() -> None:
    first, second = (list(split_into_parts(iter(lines(5)), PartLimits(max_lines=5)))[0] for _ in range(2))
    assert first.body == second.body
    assert first.sha256 == hashlib.sha256(first.body).hexdigest()
    assert gzip.decompress(first.body) == b"".join(lines(5))


def test_a_builder_reports_full_at_its_cap() -> None:
    builder = PartBuilder(PartLimits(max_lines=2))
    builder.add(b"{}\n")
    assert not builder.full and not builder.empty
    builder.add(b"{}\n")
    assert builder.full and builder.raw_bytes == 6


def test_a_snapshot_is_identified_by_its_exact_line() -> None:
    a, b = lines(2)
    assert line_digest(a) == line_digest(bytes(a)) != line_digest(b)


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        PartLimits(max_lines=0)
