"""The events table: one item per provider event id, the dedupe key.

Key `pk` = `<provider>#<event_id>`. Each item keeps the exact raw bytes (for replay), the
arrival time and the outcome, and expires through TTL (`expires_at`) after the retention
period, which is how long a redelivery is recognised as a duplicate by it.

The raw bytes are stored zlib-compressed under `raw_zlib`: DynamoDB charges a write by the
KB of item, the body is most of the item, and provider JSON compresses to less than half.
Items written before that keep the bytes as they came under `raw`; both are read.

For providers whose signature covers no timestamp (Adyen, Square) a captured request stays
valid for ever, so their event ids are also recorded in a *seen* item (`pk` =
`seen#<provider>#<event_id>`, nothing else, no TTL) put under the same condition in the
same write: a redelivery however late is a duplicate, archived transaction or not. It is
the smallest item DynamoDB can hold, one write unit (two in a transaction)."""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.events import CanonicalEvent, Outcome
from chalicelib.domain.timestamps import format_iso, parse_iso
from chalicelib.storage.codec import from_attributes, to_attributes
from chalicelib.storage.errors import storage_errors


@dataclass(frozen=True)
class StoredEvent:
    provider: str
    event_id: str
    type: str
    occurred_at: datetime
    received_at: datetime
    outcome: Outcome
    transaction: str | None
    raw: bytes


def event_pk(provider: str, event_id: str) -> str:
    return f"{provider}#{event_id}"


def event_item(
    event: CanonicalEvent, raw: bytes, received_at: datetime, outcome: Outcome,
    retention: timedelta,
) -> dict[str, Any]:
    """The typed item to put, conditionally, when the event is first received."""
    return to_attributes({
        "pk": event_pk(event.provider, event.event_id),
        "provider": event.provider, "event_id": event.event_id, "type": event.type,
        "occurred_at": format_iso(event.occurred_at), "received_at": format_iso(received_at),
        "outcome": outcome.value, "transaction": event.transaction_ref,
        "raw_zlib": zlib.compress(raw), "expires_at": int((received_at + retention).timestamp()),
    })


def stored_event(item: dict[str, Any]) -> StoredEvent:
    """A typed item read back, in either layout of the raw bytes."""
    values = from_attributes(item)
    return StoredEvent(
        provider=values["provider"], event_id=values["event_id"], type=values["type"],
        occurred_at=parse_iso(values["occurred_at"]), received_at=parse_iso(values["received_at"]),
        outcome=Outcome(values["outcome"]), transaction=values.get("transaction"),
        raw=zlib.decompress(values["raw_zlib"]) if "raw_zlib" in values else values["raw"],
    )


def seen_item(provider: str, event_id: str) -> dict[str, Any]:
    """The permanent dedupe key of one event id (see the module docstring)."""
    return {"pk": {"S": f"{SEEN_PREFIX}{event_pk(provider, event_id)}"}}


SEEN_PREFIX = "seen#"


RECEIVED_INDEX = "by-provider-received"
"""Keys only (`pk`, `provider`, `received_at`): bulk replay (docs/api.md section 11) reads
each event again by its key, and an entry this small costs one write unit whatever the
body. The partition key is the provider, so one provider's index writes share a partition
(about 1,000 writes a second); beyond that the key would need a shard suffix."""


@dataclass(frozen=True)
class ReceivedPage:
    """Event ids in received order, each with its index key (where a later page may start
    after it), and where the next page starts (None after the last)."""

    events: list[tuple[str, dict[str, Any]]]
    last_key: dict[str, Any] | None


class EventRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    @property
    def table_name(self) -> str:
        return self._table

    def get(self, provider: str, event_id: str) -> StoredEvent | None:
        with storage_errors():
            response = self._client.get_item(
                TableName=self._table, ConsistentRead=True,
                Key=to_attributes({"pk": event_pk(provider, event_id)}),
            )
        return stored_event(response["Item"]) if "Item" in response else None


    def received_between(self, provider: str, start: datetime, end: datetime,
                         after: dict[str, Any] | None, limit: int) -> ReceivedPage:
        """Event ids of `provider` received from `start` to `end` inclusive, oldest first.
        `received_at` is written without trailing zero microseconds, so its string order can
        differ from time order within one second: the query takes a second either side and
        the exact range is applied to the parsed times here."""
        request: dict[str, Any] = {
            "TableName": self._table, "IndexName": RECEIVED_INDEX, "Limit": limit,
            "KeyConditionExpression": "provider = :p AND received_at BETWEEN :s AND :e",
            "ExpressionAttributeValues": to_attributes({
                ":p": provider, ":s": format_iso(start - timedelta(seconds=1)),
                ":e": format_iso(end + timedelta(seconds=1))}),
        }
        if after:
            request["ExclusiveStartKey"] = after
        with storage_errors():
            response = self._client.query(**request)
        prefix = event_pk(provider, "")
        events = [(from_attributes(item)["pk"].removeprefix(prefix), item) for item in response.get("Items", [])
                  if start <= parse_iso(from_attributes(item)["received_at"]) <= end]
        return ReceivedPage(events, response.get("LastEvaluatedKey"))
