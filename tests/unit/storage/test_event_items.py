"""The events-table item: what is kept of every event received, typed for DynamoDB."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.domain.events import CanonicalEvent, Outcome
from chalicelib.domain.status import Status
from chalicelib.storage.codec import from_attributes
from chalicelib.storage.events import event_item

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
RECEIVED = datetime(2026, 11, 21, 9, 30, 15, 250000, tzinfo=timezone.utc)


def test_an_event_item_keeps_the_raw_bytes_the_arrival_and_the_outcome_and_expires_after_retention() -> None:
    event = CanonicalEvent(provider="stripe", event_id="evt_1", type="payment_intent.succeeded",
                           occurred_at=T0, payment_id="pi_1", status=Status.SUCCEEDED)
    item = event_item(event, b'{"id": "evt_1"}', RECEIVED, Outcome.APPLIED, timedelta(days=90))
    assert from_attributes(item) == {
        "pk": "stripe#evt_1", "provider": "stripe", "event_id": "evt_1",
        "type": "payment_intent.succeeded", "occurred_at": "2026-11-20T10:00:00Z",
        "received_at": "2026-11-21T09:30:15.250000Z", "outcome": "applied",
        "transaction": "stripe/pi_1", "raw": b'{"id": "evt_1"}',
        "expires_at": int((RECEIVED + timedelta(days=90)).timestamp()),
    }


def test_an_event_that_describes_no_payment_has_no_transaction_attribute() -> None:
    event = CanonicalEvent(provider="stripe", event_id="evt_2", type="customer.created", occurred_at=T0)
    item = event_item(event, b"{}", RECEIVED, Outcome.IGNORED, timedelta(days=90))
    assert "transaction" not in item and item["outcome"] == {"S": "ignored"}
