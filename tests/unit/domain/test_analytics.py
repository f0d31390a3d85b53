"""The analytics arithmetic (contract section 3): a transaction's contribution to its
(created day, provider, currency) bucket, and a change as new minus old."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain.analytics import (
    ZERO, DailyFigures, DayBucket, CountedTransaction, add_up, change_delta, contribution, counted_transaction,
)
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import MergeState, Transaction

JAN_1 = DayBucket(date(2026, 1, 1), "stripe", "USD")
JAN_2 = DayBucket(date(2026, 1, 2), "stripe", "USD")


def counted(status: Status = Status.SUCCEEDED, amount: int = 2000, refunded: int = 0,
          created: str = "2026-01-01T10:00:00", currency: str = "USD") -> CountedTransaction:
    return CountedTransaction("stripe", status, amount, currency, refunded,
                        datetime.fromisoformat(created).replace(tzinfo=timezone.utc))


@pytest.mark.parametrize("status", [Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED, Status.DISPUTED])
def test_a_captured_payment_counts_its_amount_in_gross_volume(status: Status) -> None:
    assert contribution(counted(status, refunded=300)) == {
        JAN_1: DailyFigures(count=1, by_status={status: 1}, gross_volume=2000, refunded_volume=300)}


@pytest.mark.parametrize("status", [Status.PENDING, Status.FAILED, Status.CANCELED])
def test_a_payment_whose_money_never_moved_is_counted_without_volume(status: Status) -> None:
    assert contribution(counted(status)) == {JAN_1: DailyFigures(count=1, by_status={status: 1})}


def test_a_transaction_not_yet_counted_contributes_nothing() -> None:
    assert contribution(None) == {}
    assert change_delta(None, None) == {}


def test_the_bucket_is_the_created_day_in_utc() -> None:
    late_evening_in_new_york = datetime(2026, 1, 1, 20, 0, tzinfo=timezone.utc).astimezone(
        timezone(timedelta(hours=-5)))
    assert replace(counted(), created_at=late_evening_in_new_york).bucket == JAN_1
    assert counted(created="2026-01-01T23:59:59.999999").bucket == JAN_1
    assert counted(created="2026-01-02T00:00:00").bucket == JAN_2


def test_a_new_transaction_adds_its_whole_contribution() -> None:
    assert change_delta(None, counted()) == contribution(counted())


def test_a_status_change_moves_one_count_between_statuses_and_adjusts_volumes() -> None:
    delta = change_delta(counted(Status.PENDING), counted(Status.PARTIALLY_REFUNDED, refunded=500))
    assert delta == {JAN_1: DailyFigures(
        count=0, by_status={Status.PENDING: -1, Status.PARTIALLY_REFUNDED: 1},
        gross_volume=2000, refunded_volume=500)}


def test_a_dispute_after_success_keeps_gross_and_moves_the_status_count() -> None:
    assert change_delta(counted(Status.SUCCEEDED), counted(Status.DISPUTED)) == {
        JAN_1: DailyFigures(by_status={Status.SUCCEEDED: -1, Status.DISPUTED: 1})}


def test_a_change_of_created_day_takes_the_transaction_out_of_one_bucket_into_another() -> None:
    delta = change_delta(counted(created="2026-01-02T00:00:05"), counted(created="2026-01-01T23:59:58"))
    assert delta == {
        JAN_2: DailyFigures(count=-1, by_status={Status.SUCCEEDED: -1}, gross_volume=-2000),
        JAN_1: DailyFigures(count=1, by_status={Status.SUCCEEDED: 1}, gross_volume=2000),
    }


def test_a_change_of_currency_moves_the_transaction_between_currency_buckets() -> None:
    delta = change_delta(counted(currency="USD"), counted(currency="EUR"))
    assert set(delta) == {JAN_1, DayBucket(date(2026, 1, 1), "stripe", "EUR")}
    assert delta[JAN_1].count == -1


def test_a_change_that_leaves_the_summary_alone_moves_nothing() -> None:
    """Archival rewrites a transaction into a compact record with the same summary."""
    assert change_delta(counted(Status.REFUNDED, refunded=2000), counted(Status.REFUNDED, refunded=2000)) == {}


def test_deltas_of_a_history_add_up_to_the_contribution_of_its_last_state() -> None:
    history = [None, counted(Status.PENDING, created="2026-01-02T00:00:00"), counted(Status.SUCCEEDED),
               counted(Status.PARTIALLY_REFUNDED, refunded=100), counted(Status.REFUNDED, refunded=2000)]
    total = add_up(change_delta(old, new) for old, new in zip(history, history[1:]))
    assert {b: f for b, f in total.items() if not f.is_zero} == contribution(history[-1])


def test_figures_form_a_group_and_net_is_gross_minus_refunded() -> None:
    a = DailyFigures(count=2, by_status={Status.SUCCEEDED: 2}, gross_volume=500, refunded_volume=100)
    b = DailyFigures(count=1, by_status={Status.FAILED: 1})
    assert a + b - b == a and (a - a).is_zero and a + ZERO == a
    assert (a + b).by_status == {Status.SUCCEEDED: 2, Status.FAILED: 1}
    assert a.net_volume == 400
    assert DailyFigures(by_status={Status.FAILED: 0}) == ZERO


def test_a_transaction_is_counted_once_its_amount_and_currency_are_known() -> None:
    at = datetime(2026, 1, 1, 10, tzinfo=timezone.utc)
    txn = Transaction(provider="stripe", id="pi_1", status=Status.PARTIALLY_REFUNDED, amount=2000,
                      currency="USD", amount_refunded=300, created_at=at, updated_at=at, last_event_at=at,
                      merge=MergeState(frontier="f", frontier_status=Status.SUCCEEDED, first_event_at=at))
    assert counted_transaction(txn) == counted(Status.PARTIALLY_REFUNDED, refunded=300)
    assert counted_transaction(txn.model_copy(update={"amount": None})) is None
    assert counted_transaction(txn.model_copy(update={"currency": None})) is None
    assert counted_transaction(None) is None
