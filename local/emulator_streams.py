"""DynamoDB stream records in the local emulator live 24 hours, as in DynamoDB. A patch of
moto 5.2.5's StreamShard (local/emulator.py refuses any other version).

Why: moto keeps every stream record forever, each with the item's old and new images, so
a long-running `make run` grows without bound although DynamoDB would have let the
records go after a day.

Trimming drops the oldest records and moves the shard's first sequence number forward by
as many, so every other record keeps its sequence number and an iterator pointing at a
kept record reads on as before (the stream poller resumes from its checkpoint by sequence
number). Reading from before the trim horizon answers TrimmedDataAccessException, as
DynamoDB does, instead of moto's failed assertion (a 500). One difference from DynamoDB
remains: DescribeStream's StartingSequenceNumber is the oldest record kept.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import table as moto_table

RETENTION = timedelta(hours=24)


class TrimmedDataAccessException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("TrimmedDataAccessException",
                         "The requested records are older than the stream's 24-hour retention")


def _created(record: Any) -> datetime:
    return record.record["dynamodb"]["ApproximateCreationDateTime"]


def trim_expired(shard: Any, now: datetime) -> int:
    """Drop the records created before `now - RETENTION`; answers how many went."""
    expired = bisect.bisect_left(shard.items, now - RETENTION, key=_created)
    if expired:
        del shard.items[:expired]
        shard.starting_sequence_number += expired
    return expired


def trimming_add(add: Callable[..., None]) -> Callable[..., None]:
    """StreamShard.add that first lets expired records go (the shard is only ever read or
    written under the emulator's request lock, so this never races a reader)."""

    def add_after_trimming(self: Any, old: Any, new: Any) -> None:
        trim_expired(self, moto_table.utcnow())
        add(self, old, new)

    add_after_trimming.__wrapped__ = add  # type: ignore[attr-defined]
    return add_after_trimming


def refusing_trimmed(get: Callable[..., list[dict[str, Any]]]) -> Callable[..., list[dict[str, Any]]]:
    """StreamShard.get that answers TrimmedDataAccessException for a trimmed position."""

    def get_unless_trimmed(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
        if start < self.starting_sequence_number:
            raise TrimmedDataAccessException()
        return get(self, start, quantity)

    get_unless_trimmed.__wrapped__ = get  # type: ignore[attr-defined]
    return get_unless_trimmed


def install() -> None:
    """Patch moto in this process (idempotent). Call before serving requests."""
    shard = moto_table.StreamShard
    if not hasattr(shard.add, "__wrapped__"):
        shard.add = trimming_add(shard.add)
    if not hasattr(shard.get, "__wrapped__"):
        shard.get = refusing_trimmed(shard.get)
