"""The transactions table's DynamoDB stream, as Lambda delivers it, read into changes.

This is the one place that knows both the Lambda stream event's shape and the transactions
item layout (`transaction_items.py`) as it appears in stream images (DynamoDB JSON).

Sequence numbers are decimal strings of 21 to 40 digits whose numeric order is stream order
within a shard; they are compared as zero-padded fixed-width strings (`position`), which is
also how they are stored, so DynamoDB condition expressions compare them correctly.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.analytics import PaymentFacts
from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import InvalidTimestamp, parse_iso
from chalicelib.storage.codec import from_attributes

POSITION_WIDTH = 40
_FACT_FIELDS = ("provider", "status", "amount", "currency", "created_at")


class UnreadableRecord(ValueError):
    """A stream record this service cannot make sense of (retrying will not help)."""


@dataclass(frozen=True)
class StreamChange:
    """One record: the transaction before and after, as far as analytics cares.

    REMOVE records carry neither side: archival and TTL deletions are not business events."""

    sequence_number: str
    position: str
    old: PaymentFacts | None
    new: PaymentFacts | None


@dataclass(frozen=True)
class StreamBatch:
    """One invocation's records, all from one shard (`lane`), in stream order, each once."""

    lane: str
    changes: list[StreamChange]
    unreadable: list[str]
    windowed: bool


def read_batch(event: Mapping[str, Any]) -> StreamBatch:
    """Lambda names the shard only in tumbling-window events (`shardId`); without it the
    stream ARN stands for the lane, which is exact only while one shard is read at a time."""
    records = event.get("Records") or []
    lane = event.get("shardId") or next(
        (r.get("eventSourceARN") for r in records if r.get("eventSourceARN")), "stream")
    changes: dict[str, StreamChange] = {}
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


def read_record(record: Mapping[str, Any]) -> StreamChange:
    sequence_number = _sequence_number(record)
    stream = record.get("dynamodb")
    if not isinstance(stream, Mapping):
        raise UnreadableRecord("record without a dynamodb section")
    name = record.get("eventName")
    if name == "REMOVE":
        return StreamChange(sequence_number, position(sequence_number), None, None)
    if name not in ("INSERT", "MODIFY"):
        raise UnreadableRecord(f"unknown eventName {name!r}")
    return StreamChange(
        sequence_number, position(sequence_number),
        old=payment_facts(_image(stream.get("OldImage"))),
        new=payment_facts(_image(stream.get("NewImage"))),
    )


def position(sequence_number: str) -> str:
    """The sequence number zero-padded to a fixed width: string order is stream order."""
    if not sequence_number.isdigit() or not sequence_number.isascii() or len(sequence_number) > POSITION_WIDTH:
        raise UnreadableRecord("SequenceNumber is not a decimal number of at most 40 digits")
    return sequence_number.zfill(POSITION_WIDTH)


def payment_facts(item: Mapping[str, Any] | None) -> PaymentFacts | None:
    """A transactions item (plain values) as analytics sees it; None while it lacks any of
    provider, status, amount, currency or created_at (moto's keys-only first INSERT, a
    payment known so far only from a refund). Present but malformed is unreadable."""
    if item is None or any(item.get(name) is None for name in _FACT_FIELDS):
        return None
    try:
        return PaymentFacts(
            provider=_text(item["provider"]), status=Status(item["status"]),
            amount=_integer(item["amount"]), currency=_text(item["currency"]),
            amount_refunded=_integer(item.get("amount_refunded") or 0),
            created_at=parse_iso(item["created_at"]),
        )
    except (ValueError, TypeError, InvalidTimestamp) as exc:
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


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("expected a non-empty string")
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    return value
