"""The events table: one item per provider event id, the dedupe key.

Key `pk` = `<provider>#<event_id>`. Each item keeps the exact raw bytes (for replay), the
arrival time and the outcome, and expires through TTL (`expires_at`) after the retention
period, which is also how long a redelivery is recognised as a duplicate.

The raw bytes are stored zlib-compressed under `raw_zlib`: DynamoDB charges a write by the
KB of item, the body is most of the item, and provider JSON compresses to less than half.
Items written before that keep the bytes as they came under `raw`; both are read."""
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
