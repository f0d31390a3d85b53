"""The bytes of an archive part: gzip JSON Lines, one transaction per line.

A part is built in memory up to a cap (lines and uncompressed bytes), so the job's memory is
bounded by the cap, never by the number of transactions. The gzip header carries no time
(`mtime=0`), so the same lines always give the same bytes and the same SHA-256."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_LINES = 5_000
DEFAULT_MAX_BYTES = 32 * 1024 * 1024


def encode_line(view: dict[str, Any]) -> bytes:
    """One JSON Lines line: compact, key order as given, UTF-8, newline-terminated."""
    return json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def line_digest(line: bytes) -> bytes:
    """Identity of one snapshot: two lines are the same snapshot iff their digests match."""
    return hashlib.sha256(line).digest()


@dataclass(frozen=True)
class PartLimits:
    """A part is sealed once it holds `max_lines` lines or `max_bytes` of uncompressed
    JSON, whichever comes first (a single larger line still makes a part of its own)."""

    max_lines: int = DEFAULT_MAX_LINES
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if self.max_lines < 1 or self.max_bytes < 1:
            raise ValueError("part limits must be positive")


@dataclass(frozen=True)
class SealedPart:
    body: bytes
    lines: int
    raw_bytes: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


class PartBuilder:
    """Accumulates lines into one gzip member; `full` says when to seal."""

    def __init__(self, limits: PartLimits) -> None:
        self._limits = limits
        self._buffer = io.BytesIO()
        self._gzip = gzip.GzipFile(fileobj=self._buffer, mode="wb", mtime=0)
        self.lines = 0
        self.raw_bytes = 0

    def add(self, line: bytes) -> None:
        self._gzip.write(line)
        self.lines += 1
        self.raw_bytes += len(line)

    @property
    def empty(self) -> bool:
        return self.lines == 0

    @property
    def full(self) -> bool:
        return self.lines >= self._limits.max_lines or self.raw_bytes >= self._limits.max_bytes

    def seal(self) -> SealedPart:
        self._gzip.close()
        return SealedPart(self._buffer.getvalue(), self.lines, self.raw_bytes)


def split_into_parts(lines: Iterator[bytes], limits: PartLimits) -> Iterator[SealedPart]:
    """Cut a stream of lines into sealed parts (what the job does, minus the uploads)."""
    builder = PartBuilder(limits)
    for line in lines:
        builder.add(line)
        if builder.full:
            yield builder.seal()
            builder = PartBuilder(limits)
    if not builder.empty:
        yield builder.seal()


def part_lines(body: bytes) -> Iterator[bytes]:
    """The lines of a stored part, newline included (so digests match `encode_line`)."""
    with gzip.GzipFile(fileobj=io.BytesIO(body), mode="rb") as stream:
        yield from stream
