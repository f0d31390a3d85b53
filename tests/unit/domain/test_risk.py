"""The risk rules (docs/api.md section 8), each at, below and above its threshold. Pure."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.documents import risk_document, risk_from_document, transaction_document
from chalicelib.domain.risk import CustomerActivity, RiskThresholds, Rule, assess, level_of, same_finding
from chalicelib.domain.risk_assessment import RiskLevel
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import MergeState, Transaction

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(hours=2)
THRESHOLDS = RiskThresholds(amount={"USD": 1_000_000, "JPY": 150_000_000, "KWD": 3_000_000},
                            velocity_max=5, velocity_window=timedelta(seconds=600), failures_max=3)


def txn(**fields) -> Transaction:
    values = dict(provider="stripe", id="pi_1", status=Status.SUCCEEDED, amount=2000, currency="USD",
                  customer_id="cus_1", created_at=T0, updated_at=T0, last_event_at=T0,
                  merge=MergeState(frontier="k", frontier_status=Status.SUCCEEDED, first_event_at=T0))
    values.update(fields)
    return Transaction(**values)


def earlier(count: int, spacing: timedelta, status: Status = Status.SUCCEEDED, start: timedelta = timedelta(0)) -> list[CustomerActivity]:
    """`count` other transactions of the customer, the newest `start` before T0."""
    return [CustomerActivity(f"stripe/pi_other{n}", T0 - start - n * spacing, status) for n in range(count)]


def rules(risk) -> list[Rule]:
    return [Rule(reason.rule) for reason in risk.reasons]


# amount_over_threshold -------------------------------------------------------------------

@pytest.mark.parametrize(("currency", "limit"), [("USD", 1_000_000), ("JPY", 150_000_000), ("KWD", 3_000_000)])
def test_an_amount_at_or_above_its_currencys_threshold_alone_is_high_and_below_it_is_low(currency, limit) -> None:
    """Minor units throughout: yen have none (150,000,000 is ¥150,000,000), dinars three."""
    below, at, above = (assess(txn(amount=limit + d, currency=currency), [], THRESHOLDS, NOW) for d in (-1, 0, 1))
    assert (below.level, below.score, below.reasons) == (RiskLevel.LOW, 0, ())
    for risk in (at, above):
        assert risk.level is RiskLevel.HIGH and rules(risk) == [Rule.AMOUNT_OVER_THRESHOLD]
        assert currency in risk.reasons[0].detail and str(limit) in risk.reasons[0].detail


def test_a_currency_without_a_threshold_and_an_unknown_amount_are_not_checked() -> None:
    assert assess(txn(amount=10 ** 12, currency="CHF"), [], THRESHOLDS, NOW).level is RiskLevel.LOW
    assert assess(txn(amount=None, currency=None), [], THRESHOLDS, NOW).level is RiskLevel.LOW


def test_the_default_thresholds_are_the_contracts() -> None:
    defaults = RiskThresholds()
    assert dict(defaults.amount) == {"USD": 1_000_000, "EUR": 1_000_000, "GBP": 1_000_000, "JPY": 150_000_000}
    assert (defaults.velocity_max, defaults.velocity_window, defaults.failures_max) == (5, timedelta(seconds=600), 3)


# velocity --------------------------------------------------------------------------------

@pytest.mark.parametrize(("others", "fires"), [(4, False), (5, True), (6, True)])
def test_more_than_the_maximum_of_a_customers_transactions_within_the_window_is_velocity(others, fires) -> None:
    """This one plus `others` created in the 10 minutes up to it: 5 is the maximum, 6 fires."""
    risk = assess(txn(), earlier(others, timedelta(seconds=100)), THRESHOLDS, NOW)
    assert (Rule.VELOCITY in rules(risk)) is fires
    assert risk.level is (RiskLevel.REVIEW if fires else RiskLevel.LOW)


def test_velocity_counts_only_the_window_up_to_this_one() -> None:
    just_outside = [CustomerActivity("stripe/old", T0 - timedelta(seconds=601), Status.SUCCEEDED)]
    at_the_edge = [CustomerActivity("stripe/edge", T0 - timedelta(seconds=600), Status.SUCCEEDED)]
    later = [CustomerActivity(f"stripe/later{n}", T0 + timedelta(seconds=n + 1), Status.SUCCEEDED) for n in range(9)]
    four = earlier(4, timedelta(seconds=10))
    assert Rule.VELOCITY not in rules(assess(txn(), four + just_outside + later, THRESHOLDS, NOW))
    assert Rule.VELOCITY in rules(assess(txn(), four + at_the_edge, THRESHOLDS, NOW))


def test_this_transaction_is_counted_once_even_when_the_index_returns_it() -> None:
    itself = [CustomerActivity("stripe/pi_1", T0, Status.SUCCEEDED)]
    assert Rule.VELOCITY not in rules(assess(txn(), earlier(4, timedelta(seconds=1)) + itself, THRESHOLDS, NOW))


def test_a_transaction_without_a_customer_is_not_checked_by_the_customer_rules() -> None:
    crowd = earlier(20, timedelta(seconds=1), Status.FAILED)
    assert assess(txn(customer_id=None, status=Status.FAILED), crowd, THRESHOLDS, NOW).reasons == ()


# card_testing ----------------------------------------------------------------------------

@pytest.mark.parametrize(("failed_before", "fires"), [(1, False), (2, True), (3, True)])
def test_the_maximum_or_more_failed_transactions_within_the_hour_is_card_testing(failed_before, fires) -> None:
    """This failed one and `failed_before` earlier failures within the hour: 3 fire."""
    risk = assess(txn(status=Status.FAILED), earlier(failed_before, timedelta(minutes=25), Status.FAILED), THRESHOLDS, NOW)
    assert (Rule.CARD_TESTING in rules(risk)) is fires
    assert risk.level is (RiskLevel.REVIEW if fires else RiskLevel.LOW)


def test_card_testing_counts_failures_only_within_the_hour_up_to_this_one() -> None:
    inside = earlier(2, timedelta(minutes=1), Status.FAILED)
    an_hour_and_a_second_ago = [CustomerActivity("stripe/old", T0 - timedelta(hours=1, seconds=1), Status.FAILED)]
    succeeded = earlier(5, timedelta(minutes=5), Status.SUCCEEDED, start=timedelta(minutes=30))
    assert Rule.CARD_TESTING not in rules(assess(txn(), inside + an_hour_and_a_second_ago + succeeded, THRESHOLDS, NOW))
    exactly_an_hour = [CustomerActivity("stripe/edge", T0 - timedelta(hours=1), Status.FAILED)]
    assert Rule.CARD_TESTING in rules(assess(txn(), inside + exactly_an_hour, THRESHOLDS, NOW))


def test_card_testing_and_velocity_together_are_high() -> None:
    risk = assess(txn(status=Status.FAILED), earlier(5, timedelta(seconds=30), Status.FAILED), THRESHOLDS, NOW)
    assert rules(risk) == [Rule.VELOCITY, Rule.CARD_TESTING]
    assert (risk.score, risk.level) == (90, RiskLevel.HIGH)


# rapid_refund ----------------------------------------------------------------------------

@pytest.mark.parametrize(("after", "fires"), [(timedelta(minutes=59), True), (timedelta(hours=1), True),
                                              (timedelta(hours=1, seconds=1), False)])
def test_a_full_refund_within_the_hour_of_creation_is_a_rapid_refund(after, fires) -> None:
    refunded = txn(status=Status.REFUNDED, amount_refunded=2000, last_event_at=T0 + after)
    assert (Rule.RAPID_REFUND in rules(assess(refunded, [], THRESHOLDS, NOW))) is fires


def test_a_partial_refund_is_not_a_rapid_refund() -> None:
    partial = txn(status=Status.PARTIALLY_REFUNDED, amount_refunded=1999, last_event_at=T0 + timedelta(minutes=5))
    assert assess(partial, [], THRESHOLDS, NOW).reasons == ()


def test_a_rapidly_refunded_large_yen_payment_scores_the_sum_capped_at_100() -> None:
    risk = assess(txn(currency="JPY", amount=150_000_000, status=Status.REFUNDED, amount_refunded=150_000_000,
                      last_event_at=T0 + timedelta(minutes=1)), [], THRESHOLDS, NOW)
    assert rules(risk) == [Rule.AMOUNT_OVER_THRESHOLD, Rule.RAPID_REFUND]
    assert (risk.score, risk.level) == (100, RiskLevel.HIGH)


# score, level, document ------------------------------------------------------------------

def test_levels_follow_the_score() -> None:
    assert [level_of(s) for s in (0, 29, 30, 69, 70, 100)] == [
        RiskLevel.LOW, RiskLevel.LOW, RiskLevel.REVIEW, RiskLevel.REVIEW, RiskLevel.HIGH, RiskLevel.HIGH]


def test_an_assessment_is_dated_by_the_time_passed_in_and_reads_back_from_its_document() -> None:
    risk = assess(txn(amount=1_000_000), earlier(6, timedelta(seconds=1)), THRESHOLDS, NOW)
    document = risk_document(risk)
    assert document["assessed_at"] == "2026-11-20T12:00:00Z"
    assert list(document) == ["score", "level", "reasons", "assessed_at"]
    assert document["reasons"][0] == {"rule": "amount_over_threshold", "detail": risk.reasons[0].detail}
    assert risk_from_document(document) == risk
    assert transaction_document(txn(risk=risk))["risk"] == document


def test_the_same_state_assessed_again_is_the_same_finding_whenever_it_runs() -> None:
    first = assess(txn(amount=1_000_000), [], THRESHOLDS, NOW)
    again = assess(txn(amount=1_000_000), [], THRESHOLDS, NOW + timedelta(days=3))
    assert same_finding(again, first) and again.assessed_at != first.assessed_at
    assert not same_finding(assess(txn(), [], THRESHOLDS, NOW), first)
    assert not same_finding(first, None)
