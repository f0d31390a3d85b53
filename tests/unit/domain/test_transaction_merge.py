"""The merge rule (contract section 2): the final state never depends on delivery order."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.events import CanonicalEvent, Outcome, PaymentFacts, RefundFact
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import ArchivePointer, Transaction, in_order_write, merge_event

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
RECEIVED = T0 + timedelta(days=1)


def event(event_id: str, minute: int, status: Status | None, refund_by_amount: bool = False,
          sequence: int | None = None, **facts: object) -> CanonicalEvent:
    return CanonicalEvent(
        provider="stripe", event_id=event_id, type=f"test.{event_id}",
        occurred_at=T0 + timedelta(minutes=minute), payment_id="pi_1", status=status,
        refund_by_amount=refund_by_amount, sequence=sequence, facts=PaymentFacts(**facts),
    )


def refund(event_id: str, minute: int, refund_id: str, amount: int) -> CanonicalEvent:
    """One refund reported on its own (Adyen REFUND item, Square refund): its own amount."""
    return event(event_id, minute, Status.PARTIALLY_REFUNDED, True, currency="EUR",
                 refund=RefundFact(id=refund_id, amount=amount))


PAYMENT = dict(amount=2000, currency="USD", created_at=T0, customer_id="cus_9", merchant_id="acct_1")
AUTHORISED = dict(amount=10100, currency="EUR", created_at=T0, merchant_id="AcmeKitECOM")


def fold(events: list[CanonicalEvent]) -> Transaction:
    txn = None
    for item in events:
        txn = merge_event(txn, item, RECEIVED).transaction
    assert txn is not None
    return txn


SEQUENCES = {
    "success then partial and full refund": (
        [
            event("created", 0, Status.PENDING, **PAYMENT),
            event("succeeded", 1, Status.SUCCEEDED, **PAYMENT, payment_method="card"),
            event("refund-1", 5, Status.PARTIALLY_REFUNDED, True, amount=2000, currency="USD", amount_refunded=500),
            event("refund-2", 9, Status.PARTIALLY_REFUNDED, True, amount=2000, currency="USD", amount_refunded=2000),
        ],
        dict(status=Status.REFUNDED, amount=2000, amount_refunded=2000, payment_method="card",
             created_at=T0, last_event_at=T0 + timedelta(minutes=9)),
    ),
    "failure then retry success": (
        [
            event("failed", 1, Status.FAILED, **PAYMENT),
            event("succeeded", 3, Status.SUCCEEDED, **PAYMENT),
        ],
        dict(status=Status.SUCCEEDED, amount=2000, amount_refunded=0),
    ),
    "dispute after partial refund": (
        [
            event("succeeded", 1, Status.SUCCEEDED, **PAYMENT),
            event("refund", 2, Status.PARTIALLY_REFUNDED, True, amount=2000, currency="USD", amount_refunded=700),
            event("dispute", 3, Status.DISPUTED, currency="USD"),
        ],
        dict(status=Status.DISPUTED, amount=2000, amount_refunded=700),
    ),
    "refund that knows no amount, before the authorisation": (
        [
            event("auth", 1, Status.SUCCEEDED, amount=1500, currency="EUR", merchant_id="m-1"),
            event("refund", 4, Status.PARTIALLY_REFUNDED, True, currency="EUR", amount_refunded=1500),
        ],
        dict(status=Status.REFUNDED, amount=1500, amount_refunded=1500, created_at=T0 + timedelta(minutes=1)),
    ),
    "refund and succeeded at the same instant": (
        [
            event("succeeded", 2, Status.SUCCEEDED, **PAYMENT),
            event("refund", 2, Status.PARTIALLY_REFUNDED, True, amount=2000, currency="USD", amount_refunded=100),
        ],
        dict(status=Status.PARTIALLY_REFUNDED, amount_refunded=100),
    ),
    "authorisation and two partial refunds reported one by one": (
        [
            event("auth", 0, Status.SUCCEEDED, **AUTHORISED),
            refund("refund-a", 5, "R-A", 3000),
            refund("refund-b", 9, "R-B", 2000),
        ],
        dict(status=Status.PARTIALLY_REFUNDED, amount=10100, amount_refunded=5000, created_at=T0),
    ),
    "refunds one by one that add up to the whole payment": (
        [
            event("auth", 0, Status.SUCCEEDED, **AUTHORISED),
            refund("refund-a", 5, "R-A", 6100),
            refund("refund-b", 9, "R-B", 4000),
        ],
        dict(status=Status.REFUNDED, amount=10100, amount_refunded=10100),
    ),
    "a refund reported before its authorisation is known": (
        [
            refund("refund", 1, "R-A", 10100),
            event("auth", 0, Status.SUCCEEDED, **AUTHORISED),
        ],
        dict(status=Status.REFUNDED, amount=10100, amount_refunded=10100, created_at=T0),
    ),
    "chargeback after a partial refund reported by id": (
        [
            event("auth", 0, Status.SUCCEEDED, **AUTHORISED),
            refund("refund", 5, "R-A", 1100),
            event("chargeback", 9, Status.DISPUTED, currency="EUR"),
        ],
        dict(status=Status.DISPUTED, amount=10100, amount_refunded=1100),
    ),
    "one refund reported twice under two event ids, once with a larger amount": (
        [
            event("auth", 0, Status.SUCCEEDED, **AUTHORISED),
            refund("refund-created", 5, "R-A", 1000),
            refund("refund-updated", 6, "R-A", 1500),
            refund("refund-again", 7, "R-A", 1000),
        ],
        dict(status=Status.PARTIALLY_REFUNDED, amount_refunded=1500),
    ),
    "same time and status: the higher payment version wins, whatever the event ids": (
        [
            event("evt-z", 3, Status.SUCCEEDED, sequence=2, **dict(PAYMENT, customer_id="cus_old")),
            event("evt-a", 3, Status.SUCCEEDED, sequence=10, **dict(PAYMENT, customer_id="cus_new")),
            event("evt-m", 1, Status.PENDING, sequence=1, **PAYMENT),
        ],
        dict(status=Status.SUCCEEDED, customer_id="cus_new"),
    ),
}


def state(txn: Transaction) -> tuple:
    return (*sorted(txn.summary().items()), tuple(sorted(txn.refunds.items())))


@pytest.mark.parametrize("name", SEQUENCES)
def test_every_delivery_order_ends_in_the_same_expected_state(name: str) -> None:
    events, expected = SEQUENCES[name]
    states = {state(fold(list(order))) for order in itertools.permutations(events)}
    assert len(states) == 1
    final = fold(events).summary()
    for field, value in expected.items():
        assert final[field] == value, field


@pytest.mark.parametrize("name", SEQUENCES)
def test_redelivered_events_change_nothing(name: str) -> None:
    events, _ = SEQUENCES[name]
    once = fold(events)
    twice = fold(events + list(reversed(events)))
    assert state(twice) == state(once)
    for item in events:
        assert merge_event(once, item, RECEIVED).outcome is Outcome.STALE


def test_an_older_event_arriving_late_is_stale_and_keeps_the_newer_status() -> None:
    succeeded = event("succeeded", 5, Status.SUCCEEDED, **PAYMENT)
    pending = event("created", 0, Status.PENDING, **PAYMENT)
    txn = merge_event(None, succeeded, RECEIVED).transaction
    result = merge_event(txn, pending, RECEIVED + timedelta(seconds=1))
    assert result.outcome is Outcome.STALE
    assert result.transaction.status is Status.SUCCEEDED
    assert [r.event_id for r in result.transaction.events] == ["succeeded", "created"]
    assert result.transaction.updated_at == RECEIVED


def test_a_late_event_that_fills_in_a_missing_fact_is_applied() -> None:
    dispute = event("dispute", 9, Status.DISPUTED, currency="USD")
    txn = merge_event(None, dispute, RECEIVED).transaction
    assert txn.amount is None and txn.created_at == dispute.occurred_at
    result = merge_event(txn, event("succeeded", 1, Status.SUCCEEDED, **PAYMENT), RECEIVED)
    assert result.outcome is Outcome.APPLIED
    assert (result.transaction.status, result.transaction.amount, result.transaction.created_at) == (
        Status.DISPUTED, 2000, T0)


def test_amount_refunded_is_the_largest_total_reported_not_the_latest() -> None:
    txn = fold([
        event("succeeded", 1, Status.SUCCEEDED, **PAYMENT),
        event("refund-big", 2, Status.PARTIALLY_REFUNDED, True, amount=2000, currency="USD", amount_refunded=1200),
        event("refund-small", 3, Status.PARTIALLY_REFUNDED, True, amount=2000, currency="USD", amount_refunded=300),
    ])
    assert txn.amount_refunded == 1200


def test_replaying_a_listed_event_does_not_list_it_twice() -> None:
    item = event("succeeded", 1, Status.SUCCEEDED, **PAYMENT)
    txn = merge_event(None, item, RECEIVED).transaction
    again = merge_event(txn, item, RECEIVED, replay=True)
    assert again.outcome is Outcome.STALE
    assert len(again.transaction.events) == 1


def test_in_order_write_sets_what_the_merge_would_for_a_newest_event() -> None:
    first = event("created", 0, Status.PENDING, **PAYMENT)
    newest = event("refund", 5, Status.PARTIALLY_REFUNDED, True, amount=2000, currency="USD", amount_refunded=2000)
    merged = merge_event(merge_event(None, first, RECEIVED).transaction, newest, RECEIVED).transaction
    write = in_order_write(newest, RECEIVED)
    assert write is not None and not write.may_create
    for name, value in write.sets.items():
        assert getattr(merged, name) == value, name
    assert write.merge_sets["frontier"] == merged.merge.frontier


def test_in_order_write_is_refused_for_a_refund_whose_status_needs_the_payment_amount() -> None:
    assert in_order_write(event("refund", 5, Status.PARTIALLY_REFUNDED, True, amount_refunded=10), RECEIVED) is None


def test_events_that_describe_no_payment_cannot_be_merged() -> None:
    ignored = CanonicalEvent(provider="stripe", event_id="e", type="customer.created", occurred_at=T0)
    with pytest.raises(ValueError):
        merge_event(None, ignored, RECEIVED)
    assert in_order_write(ignored, RECEIVED) is None


def test_refunds_reported_one_by_one_are_kept_by_id_and_summed() -> None:
    txn = fold([
        event("auth", 0, Status.SUCCEEDED, **AUTHORISED),
        refund("refund-a", 5, "R-A", 3000),
        refund("refund-b", 9, "R-B", 2000),
    ])
    assert txn.refunds == {"R-A": 3000, "R-B": 2000}
    assert txn.amount_refunded == 5000


def test_a_refund_already_counted_is_stale_under_another_event_id() -> None:
    txn = fold([event("auth", 0, Status.SUCCEEDED, **AUTHORISED), refund("refund-created", 5, "R-A", 1000)])
    result = merge_event(txn, refund("refund-updated", 5, "R-A", 1000), RECEIVED)
    assert result.outcome is Outcome.STALE
    assert result.transaction.amount_refunded == 1000


def test_an_archived_record_without_events_still_adds_a_late_refund_once() -> None:
    txn = fold([event("auth", 0, Status.SUCCEEDED, **AUTHORISED), refund("refund-a", 5, "R-A", 3000)])
    archived = txn.model_copy(update={
        "events": (), "archived": ArchivePointer(at=RECEIVED, object="s3://archive/part-00000.jsonl.gz")})
    late = merge_event(archived, refund("refund-b", 60 * 24 * 90, "R-B", 7100), RECEIVED).transaction
    assert (late.status, late.amount_refunded) == (Status.REFUNDED, 10100)
    assert merge_event(late, refund("refund-a-again", 6, "R-A", 3000), RECEIVED).outcome is Outcome.STALE


def test_in_order_write_is_refused_for_one_refund_of_several() -> None:
    assert in_order_write(refund("refund", 5, "R-A", 10), RECEIVED) is None


def test_the_sequence_orders_as_a_number_inside_the_string_key() -> None:
    low = event("evt-b", 3, Status.SUCCEEDED, sequence=9)
    high = event("evt-a", 3, Status.SUCCEEDED, sequence=10)
    unversioned = event("evt-c", 3, Status.SUCCEEDED)
    assert unversioned.order_key < low.order_key < high.order_key
    assert len(low.order_key) == len(high.order_key)
    later_status = event("evt-0", 3, Status.DISPUTED, sequence=1)
    assert later_status.order_key > high.order_key  # status precedence comes before the sequence
