"""The events-table item: what is kept of every event received, typed for DynamoDB."""
from __future__ import annotations

import zlib
from datetime import datetime, timedelta, timezone

from chalicelib.domain.events import CanonicalEvent, Outcome
from chalicelib.domain.status import Status
from chalicelib.storage.codec import from_attributes, to_attributes
from chalicelib.storage.events import StoredEvent, event_item, stored_event
from tests.support.signing import fixture_bytes

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
RECEIVED = datetime(2026, 11, 21, 9, 30, 15, 250000, tzinfo=timezone.utc)
PAID = CanonicalEvent(provider="stripe", event_id="evt_1", type="payment_intent.succeeded",
                      occurred_at=T0, payment_id="pi_1", status=Status.SUCCEEDED)


def test_an_event_item_keeps_the_raw_bytes_the_arrival_and_the_outcome_and_expires_after_retention() -> None:
    item = event_item(PAID, b'{"id": "evt_1"}', RECEIVED, Outcome.APPLIED, timedelta(days=90))
    values = from_attributes(item)
    assert zlib.decompress(values.pop("raw_zlib")) == b'{"id": "evt_1"}'
    assert values == {
        "pk": "stripe#evt_1", "provider": "stripe", "event_id": "evt_1",
        "type": "payment_intent.succeeded", "occurred_at": "2026-11-20T10:00:00Z",
        "received_at": "2026-11-21T09:30:15.250000Z", "outcome": "applied",
        "transaction": "stripe/pi_1", "expires_at": int((RECEIVED + timedelta(days=90)).timestamp()),
    }


def test_an_event_that_describes_no_payment_has_no_transaction_attribute() -> None:
    event = CanonicalEvent(provider="stripe", event_id="evt_2", type="customer.created", occurred_at=T0)
    item = event_item(event, b"{}", RECEIVED, Outcome.IGNORED, timedelta(days=90))
    assert "transaction" not in item and item["outcome"] == {"S": "ignored"}


def test_the_raw_body_is_stored_compressed_and_read_back_byte_for_byte() -> None:
    raw = fixture_bytes("stripe", "payment_intent.succeeded")
    item = event_item(PAID, raw, RECEIVED, Outcome.APPLIED, timedelta(days=90))
    assert "raw" not in item and len(item["raw_zlib"]["B"]) < len(raw) / 2
    assert stored_event(item) == StoredEvent(
        provider="stripe", event_id="evt_1", type="payment_intent.succeeded", occurred_at=T0,
        received_at=RECEIVED, outcome=Outcome.APPLIED, transaction="stripe/pi_1", raw=raw)


def test_an_item_stored_before_compression_is_read_with_its_raw_bytes_as_they_came() -> None:
    raw = fixture_bytes("stripe", "payment_intent.succeeded")
    old = to_attributes({
        "pk": "stripe#evt_1", "provider": "stripe", "event_id": "evt_1",
        "type": "payment_intent.succeeded", "occurred_at": "2026-11-20T10:00:00Z",
        "received_at": "2026-11-21T09:30:15.250000Z", "outcome": "applied",
        "transaction": "stripe/pi_1", "raw": raw, "expires_at": 1771493415,
    })
    assert stored_event(old).raw == raw
    assert stored_event(old).received_at == RECEIVED
