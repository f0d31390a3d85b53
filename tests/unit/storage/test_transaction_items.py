"""The transactions table's item layout keeps the merge state a later event needs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.domain.events import CanonicalEvent, PaymentFacts, RefundFact
from chalicelib.domain.risk_assessment import RiskAssessment, RiskLevel, RiskReason
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


def test_a_risk_assessment_survives_the_item_and_a_later_merge() -> None:
    txn = merge_event(None, _event("auth", 0, Status.SUCCEEDED, facts=PaymentFacts(amount=900, currency="EUR")), T0).transaction
    risk = RiskAssessment(score=80, level=RiskLevel.HIGH, assessed_at=T0,
                          reasons=(RiskReason(rule="amount_over_threshold", detail="900 EUR"),))
    assessed = txn.model_copy(update={"risk": risk, "version": txn.version + 1})
    stored = from_attributes(to_attributes(to_item(assessed)))
    assert stored["risk"] == {"score": 80, "level": "high", "assessed_at": "2026-01-01T10:00:00Z",
                              "reasons": [{"rule": "amount_over_threshold", "detail": "900 EUR"}]}
    assert from_item(stored) == assessed
    later = merge_event(from_item(stored), _event("cancel", 5, Status.CANCELED), T0).transaction
    assert later.risk == risk and later.version == assessed.version + 1
    assert "risk" not in to_attributes(to_item(txn))
