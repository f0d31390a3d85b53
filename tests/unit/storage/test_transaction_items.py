"""The transactions table's item layout keeps the merge state a later event needs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.domain.events import CanonicalEvent, PaymentFacts, RefundFact
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import merge_event
from chalicelib.storage.codec import from_attributes, to_attributes
from chalicelib.storage.transaction_items import from_item, to_item

T0 = datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc)


def _event(event_id: str, minute: int, status: Status, **fields: object) -> CanonicalEvent:
    return CanonicalEvent(provider="adyen", event_id=event_id, type="T", payment_id="PSP1",
                          occurred_at=T0 + timedelta(minutes=minute), status=status, **fields)


def test_refunds_by_id_survive_a_round_trip_through_the_item() -> None:
    txn = merge_event(None, _event("auth", 0, Status.SUCCEEDED, facts=PaymentFacts(amount=900, currency="EUR")), T0).transaction
    refund = _event("refund", 5, Status.PARTIALLY_REFUNDED, refund_by_amount=True,
                    facts=PaymentFacts(refund=RefundFact(id="R-1", amount=300)))
    txn = merge_event(txn, refund, T0).transaction
    stored = from_attributes(to_attributes(to_item(txn)))
    assert stored["refunds"] == {"R-1": 300}
    assert from_item(stored) == txn


def test_a_transaction_without_refunds_by_id_stores_no_refunds_attribute() -> None:
    txn = merge_event(None, _event("auth", 0, Status.SUCCEEDED, facts=PaymentFacts(amount=900, currency="EUR")), T0).transaction
    item = to_attributes(to_item(txn))
    assert "refunds" not in item
    assert from_item(from_attributes(item)).refunds == {}
