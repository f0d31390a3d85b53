"""The change feed's classifier (docs/api.md section 7): which changes of a transaction are
business changes, under which detail-type, with which `previous` and `cause`."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.domain.changes import TransactionChange
from chalicelib.domain.documents import transaction_document
from chalicelib.domain.events import Outcome
from chalicelib.domain.feed import SOURCE, feed_event, is_business_change
from chalicelib.domain.risk_assessment import RiskAssessment, RiskLevel, RiskReason
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import ArchivePointer, EventRecord, MergeState, Transaction

AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def record(event_id: str, type_: str = "payment_intent.succeeded", outcome: Outcome = Outcome.APPLIED) -> EventRecord:
    return EventRecord(event_id=event_id, type=type_, occurred_at=AT, received_at=AT, outcome=outcome)


def txn(version: int = 1, status: Status = Status.PENDING, refunded: int = 0,
        events: tuple[EventRecord, ...] = (), **fields: object) -> Transaction:
    values: dict = dict(
        provider="stripe", id="pi_1", status=status, amount=2000, currency="USD",
        amount_refunded=refunded, merchant_id="acct_1", created_at=AT, updated_at=AT,
        last_event_at=AT, events=events, version=version,
        merge=MergeState(frontier="k1", frontier_status=status, first_event_at=AT),
    )
    values.update(fields)
    return Transaction(**values)


def assessed(level: RiskLevel, score: int = 10) -> RiskAssessment:
    return RiskAssessment(score=score, level=level, assessed_at=AT,
                          reasons=(RiskReason(rule="velocity", detail="6 in 600 s"),))


def change(before: Transaction | None, after: Transaction | None) -> TransactionChange:
    return TransactionChange(before, after, "101")


def test_a_new_transaction_is_published_under_its_status_with_no_previous() -> None:
    created = txn(events=(record("evt_1", "payment_intent.created"),))
    event = feed_event(change(None, created))
    assert event is not None
    assert event.detail_type == "payment.pending"
    assert event.detail == {
        "id": "stripe/pi_1/1", "version": 1,
        "transaction": transaction_document(created, with_events=False),
        "previous": None, "cause": {"event_id": "evt_1", "type": "payment_intent.created"},
    }
    assert "events" not in event.detail["transaction"]
    assert event.sequence == "101" and event.id == "stripe/pi_1/1" and SOURCE == "payment-webhooks"


def test_a_new_status_names_the_detail_type_and_the_before_image_is_previous() -> None:
    before = txn(version=1, events=(record("evt_1"),))
    after = txn(version=2, status=Status.PARTIALLY_REFUNDED, refunded=500,
                events=(record("evt_1"), record("evt_2", "charge.refunded")))
    event = feed_event(change(before, after))
    assert event is not None
    assert event.detail_type == "payment.partially_refunded"
    assert event.detail["id"] == "stripe/pi_1/2"
    assert event.detail["previous"] == {"status": "pending", "amount_refunded": 0}
    assert event.detail["cause"] == {"event_id": "evt_2", "type": "charge.refunded"}


def test_a_change_of_facts_without_a_new_status_is_payment_updated() -> None:
    before = txn(version=3, customer_id=None)
    after = txn(version=4, customer_id="cus_9", events=(record("evt_4"),))
    event = feed_event(change(before, after))
    assert event is not None and event.detail_type == "payment.updated"


def test_a_larger_refund_total_at_the_same_status_is_payment_updated() -> None:
    before = txn(status=Status.PARTIALLY_REFUNDED, refunded=300)
    after = txn(version=2, status=Status.PARTIALLY_REFUNDED, refunded=700)
    event = feed_event(change(before, after))
    assert event is not None and event.detail_type == "payment.updated"
    assert event.detail["previous"] == {"status": "partially_refunded", "amount_refunded": 300}


def test_a_refund_recorded_by_id_is_a_business_change_even_when_the_total_stays() -> None:
    before = txn(refunds={"re_1": 500}, refunded=500, status=Status.PARTIALLY_REFUNDED)
    after = txn(version=2, refunds={"re_1": 500, "re_2": 0}, refunded=500, status=Status.PARTIALLY_REFUNDED)
    assert is_business_change(before, after)


def test_a_stale_event_listed_on_the_transaction_publishes_nothing() -> None:
    before = txn(version=2, events=(record("evt_1"),))
    after = txn(version=3, events=(record("evt_1"), record("evt_0", outcome=Outcome.STALE)))
    assert feed_event(change(before, after)) is None


def test_archival_publishes_nothing() -> None:
    before = txn(version=5, events=(record("evt_1"),))
    after = txn(version=6, archived=ArchivePointer(at=AT, object="archive/2026/03/01/part.jsonl.gz"))
    assert feed_event(change(before, after)) is None


def test_the_emulators_identical_reput_and_keys_only_insert_and_a_removal_publish_nothing() -> None:
    same = txn(version=2)
    assert feed_event(change(same, same)) is None
    assert feed_event(change(None, None)) is None


def test_risk_rising_to_high_is_risk_flagged_without_a_cause() -> None:
    before = txn(version=2, events=(record("evt_1"),), risk=assessed(RiskLevel.LOW))
    after = txn(version=3, events=(record("evt_1"),), risk=assessed(RiskLevel.HIGH, 90))
    event = feed_event(change(before, after))
    assert event is not None
    assert event.detail_type == "payment.risk_flagged"
    assert event.detail["cause"] is None and event.detail["id"] == "stripe/pi_1/3"


def test_a_first_assessment_at_review_is_payment_updated() -> None:
    event = feed_event(change(txn(version=2), txn(version=3, risk=assessed(RiskLevel.REVIEW, 50))))
    assert event is not None and event.detail_type == "payment.updated"


def test_a_first_assessment_at_high_is_risk_flagged() -> None:
    event = feed_event(change(txn(version=2), txn(version=3, risk=assessed(RiskLevel.HIGH, 95))))
    assert event is not None and event.detail_type == "payment.risk_flagged"


def test_a_risk_write_that_leaves_the_level_low_or_unchanged_or_lowers_it_publishes_nothing() -> None:
    assert feed_event(change(txn(version=2), txn(version=2, risk=assessed(RiskLevel.LOW)))) is None
    unchanged = (txn(version=3, risk=assessed(RiskLevel.REVIEW, 40)),
                 txn(version=3, risk=assessed(RiskLevel.REVIEW, 60)))
    assert feed_event(change(*unchanged)) is None
    lowered = (txn(version=3, risk=assessed(RiskLevel.HIGH, 90)), txn(version=4, risk=assessed(RiskLevel.LOW)))
    assert feed_event(change(*lowered)) is None


def test_a_new_status_wins_over_a_risk_rise_in_the_same_change() -> None:
    before = txn(version=2)
    after = txn(version=3, status=Status.FAILED, risk=assessed(RiskLevel.HIGH, 90),
                updated_at=AT + timedelta(seconds=1))
    event = feed_event(change(before, after))
    assert event is not None and event.detail_type == "payment.failed"


def test_a_late_event_on_an_archived_record_names_its_cause() -> None:
    pointer = ArchivePointer(at=AT, object="archive/part.jsonl.gz")
    before = txn(version=6, status=Status.SUCCEEDED, archived=pointer)
    after = txn(version=7, status=Status.DISPUTED, archived=pointer,
                events=(record("evt_9", "charge.dispute.created"),))
    event = feed_event(change(before, after))
    assert event is not None and event.detail_type == "payment.disputed"
    assert event.detail["cause"] == {"event_id": "evt_9", "type": "charge.dispute.created"}
    assert event.detail["transaction"]["archived"] == {"at": "2026-03-01T12:00:00Z", "object": "archive/part.jsonl.gz"}


def test_a_write_that_only_moves_the_version_is_reannounced_as_payment_updated_under_the_new_version() -> None:
    before = txn(version=4, status=Status.SUCCEEDED, events=(record("evt_1"),))
    after = before.model_copy(update={"version": 5})
    event = feed_event(change(before, after))
    assert event is not None and event.detail_type == "payment.updated"
    assert event.detail["id"] == "stripe/pi_1/5" and event.detail["cause"] is None
    assert event.detail["previous"] == {"status": "succeeded", "amount_refunded": 0}
    assert feed_event(change(after, before)) is None  # a version going back is nothing of the kind
