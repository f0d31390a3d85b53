"""The transactions table's DynamoDB stream, as Lambda delivers it, read into changes.

The one reader of the stream: every consumer gets `TransactionChange`s from here, never raw
records. This is the one place that knows both the Lambda stream event's shape and how the
transactions item layout (`transaction_items.py`) appears in stream images (DynamoDB JSON).

moto, which serves the stream locally and in tests, differs from DynamoDB in two ways this
reader absorbs: an `update_item` that creates an item emits a keys-only INSERT before the
full one (read as a change from nothing to nothing), and an identical re-put emits a MODIFY
whose two sides are equal (a change that changes nothing, which consumers must take in
their stride anyway).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.changes import SEQUENCE_WIDTH, TransactionChange
from chalicelib.domain.transaction import Transaction
from chalicelib.storage.codec import from_attributes
from chalicelib.storage.transaction_items import KEY_ATTRIBUTES, from_item


class UnreadableRecord(ValueError):
    """A stream record this service cannot make sense of (retrying will not help)."""


@dataclass(frozen=True)
class StreamBatch:
    """One invocation's records, all from one shard (`lane`), in stream order, each once.

    `unreadable` holds the sequence numbers of records that could not be read (reported
    failed for every consumer); `windowed` says the event came from a mapping with a tumbling
    window, whose answer must carry a `state`."""

    lane: str
    changes: list[TransactionChange]
    unreadable: list[str]
    windowed: bool


def read_batch(event: Mapping[str, Any]) -> StreamBatch:
    """Lambda names the shard only in tumbling-window events (`shardId`); without it the
    stream ARN stands for the lane, which is exact only while one shard is read at a time."""
    records = event.get("Records") or []
    lane = event.get("shardId") or next(
        (r.get("eventSourceARN") for r in records if r.get("eventSourceARN")), "stream")
    changes: dict[str, TransactionChange] = {}
    unreadable: list[str] = []
    for record in records:
        try:
            change = read_record(record)
        except UnreadableRecord:
            unreadable.append(_sequence_number(record))
            continue
        changes.setdefault(change.position, change)
    return StreamBatch(
        lane=str(lane), changes=[changes[p] for p in sorted(changes)], unreadable=unreadable,
        windowed="window" in event,
    )


def read_record(record: Mapping[str, Any]) -> TransactionChange:
    sequence_number = _sequence_number(record)
    position(sequence_number)
    stream = record.get("dynamodb")
    if not isinstance(stream, Mapping):
        raise UnreadableRecord("record without a dynamodb section")
    name = record.get("eventName")
    if name == "REMOVE":
        return TransactionChange(None, None, sequence_number)
    if name not in ("INSERT", "MODIFY"):
        raise UnreadableRecord(f"unknown eventName {name!r}")
    return TransactionChange(
        before=transaction(_image(stream.get("OldImage"))),
        after=transaction(_image(stream.get("NewImage"))),
        sequence=sequence_number,
    )


def position(sequence_number: str) -> str:
    """The sequence number zero-padded to a fixed width: string order is stream order."""
    if not sequence_number.isdigit() or not sequence_number.isascii() or len(sequence_number) > SEQUENCE_WIDTH:
        raise UnreadableRecord(f"SequenceNumber is not a decimal number of at most {SEQUENCE_WIDTH} digits")
    return sequence_number.zfill(SEQUENCE_WIDTH)


def transaction(item: dict[str, Any] | None) -> Transaction | None:
    """A transactions item (plain values) as the domain transaction; None for no image or
    one holding only the key (moto's first INSERT). Anything else that does not fit the
    item layout is unreadable: a consumer must never act on a guess."""
    if item is None or set(item) <= set(KEY_ATTRIBUTES):
        return None
    try:
        return from_item(item)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:  # ValidationError is a ValueError
        raise UnreadableRecord(f"transaction image does not fit the item layout: {exc}") from None


def _image(image: Any) -> dict[str, Any] | None:
    if image is None:
        return None
    try:
        return from_attributes(image)
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError) as exc:
        raise UnreadableRecord(f"image is not DynamoDB JSON: {exc}") from None


def _sequence_number(record: Mapping[str, Any]) -> str:
    stream = record.get("dynamodb")
    value = stream.get("SequenceNumber") if isinstance(stream, Mapping) else None
    return value if isinstance(value, str) else ""
