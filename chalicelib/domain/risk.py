"""Risk assessment of one transaction (docs/api.md section 8). Pure: no I/O, no clock.

Four rules, each a weight when it fires; the score is their sum, capped at 100, and the
level follows the score. The weights are chosen so that the contract's one fixed point
holds (`amount_over_threshold` alone makes the level `high`), any other single rule asks
for a `review`, and two behavioural rules together (a customer failing cards *and* paying
fast, say) are `high`. A transaction no rule fires on scores 0 and is `low`.

The rules that look at the customer read only the customer's transactions created up to
this one (its `recent` activity, newest first or in any order), so an assessment is the
same whenever it runs for the same state: a redelivered or late assessment agrees with
the first. Thresholds are stage configuration handed in (`RiskThresholds`), never read
here from the environment.

The assessment's shape (`RiskAssessment`, `RiskLevel`, `RiskReason`) is the stored and
shown one of `domain/risk_assessment.py`; this module only produces it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING

from chalicelib.domain.risk_assessment import RiskAssessment, RiskLevel, RiskReason
from chalicelib.domain.status import Status

if TYPE_CHECKING:
    from chalicelib.domain.transaction import Transaction

CARD_TESTING_WINDOW = timedelta(hours=1)
RAPID_REFUND_WINDOW = timedelta(hours=1)

DEFAULT_AMOUNT_THRESHOLDS: Mapping[str, int] = {
    # Minor units: 10,000.00 in the two-decimal currencies, 1,500,000 yen.
    "USD": 1_000_000, "EUR": 1_000_000, "GBP": 1_000_000, "JPY": 150_000_000,
}
"""Defaults of `RISK_AMOUNT_THRESHOLDS`: a currency not listed is not checked."""


class Rule(str, Enum):
    AMOUNT_OVER_THRESHOLD = "amount_over_threshold"
    VELOCITY = "velocity"
    CARD_TESTING = "card_testing"
    RAPID_REFUND = "rapid_refund"


WEIGHTS: Mapping[Rule, int] = {
    Rule.AMOUNT_OVER_THRESHOLD: 70,
    Rule.CARD_TESTING: 50,
    Rule.VELOCITY: 40,
    Rule.RAPID_REFUND: 40,
}
HIGH_FROM = 70
REVIEW_FROM = 30


@dataclass(frozen=True)
class RiskThresholds:
    """The stage's configuration of the rules (env vars parsed by chalicelib/settings.py)."""

    amount: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_AMOUNT_THRESHOLDS))
    velocity_max: int = 5
    velocity_window: timedelta = timedelta(seconds=600)
    failures_max: int = 3

    @property
    def lookback(self) -> timedelta:
        """How far before a transaction's creation the customer rules look."""
        return max(self.velocity_window, CARD_TESTING_WINDOW)


@dataclass(frozen=True)
class CustomerActivity:
    """One of the customer's transactions as the customer rules need it."""

    ref: str
    created_at: datetime
    status: Status


def same_finding(new: RiskAssessment, stored: RiskAssessment | None) -> bool:
    """Equal but for when it was made: writing it again would tell nobody anything."""
    return stored is not None and (new.score, new.level, new.reasons) == (
        stored.score, stored.level, stored.reasons)


def assess(
    txn: Transaction, recent: Iterable[CustomerActivity], thresholds: RiskThresholds,
    now: datetime,
) -> RiskAssessment:
    """`recent`: the customer's transactions created within `thresholds.lookback` before
    `txn` (this one included or not: it is counted once either way); ignored when the
    transaction names no customer."""
    others = [a for a in recent if a.ref != txn.ref and a.created_at <= txn.created_at]
    mine = [CustomerActivity(txn.ref, txn.created_at, txn.status), *others] if txn.customer_id else []
    reasons = [
        reason for reason in (
            amount_over_threshold(txn, thresholds.amount),
            velocity(txn, mine, thresholds.velocity_max, thresholds.velocity_window),
            card_testing(txn, mine, thresholds.failures_max),
            rapid_refund(txn),
        ) if reason is not None
    ]
    score = min(100, sum(WEIGHTS[Rule(reason.rule)] for reason in reasons))
    return RiskAssessment(score=score, level=level_of(score), reasons=tuple(reasons), assessed_at=now)


def level_of(score: int) -> RiskLevel:
    if score >= HIGH_FROM:
        return RiskLevel.HIGH
    if score >= REVIEW_FROM:
        return RiskLevel.REVIEW
    return RiskLevel.LOW


def amount_over_threshold(txn: Transaction, limits: Mapping[str, int]) -> RiskReason | None:
    """`amount` at or above its currency's threshold, both in minor units, so a yen
    threshold is written in yen and a dinar one in fils (no conversion, no decimals)."""
    if txn.amount is None or txn.currency is None or txn.currency not in limits:
        return None
    limit = limits[txn.currency]
    if txn.amount < limit:
        return None
    return _reason(Rule.AMOUNT_OVER_THRESHOLD,
                      f"amount {txn.amount} {txn.currency} is at or above the threshold {limit}")


def velocity(
    txn: Transaction, mine: list[CustomerActivity], most: int, window: timedelta,
) -> RiskReason | None:
    """More than `most` of the customer's transactions created within `window` up to this
    one (this one counted)."""
    since = txn.created_at - window
    count = sum(1 for a in mine if since <= a.created_at <= txn.created_at)
    if count <= most:
        return None
    return _reason(Rule.VELOCITY, f"{count} transactions of the customer within "
                                     f"{_seconds(window)} s (more than {most})")


def card_testing(txn: Transaction, mine: list[CustomerActivity], most: int) -> RiskReason | None:
    """`most` or more `failed` transactions of the customer within the hour up to this one
    (this one counted when it failed)."""
    since = txn.created_at - CARD_TESTING_WINDOW
    failed = sum(1 for a in mine if a.status is Status.FAILED and since <= a.created_at <= txn.created_at)
    if failed < most:
        return None
    return _reason(Rule.CARD_TESTING, f"{failed} failed transactions of the customer within "
                                         f"{_seconds(CARD_TESTING_WINDOW)} s ({most} or more)")


def rapid_refund(txn: Transaction) -> RiskReason | None:
    """Fully refunded within the hour after `created_at`. The refund's time is taken as the
    newest event's time (`last_event_at`): the transaction keeps no time per refund, and
    while its status is `refunded` the newest event is the one that completed the refund
    (a later dispute, say, would have changed the status)."""
    if txn.status is not Status.REFUNDED:
        return None
    after = txn.last_event_at - txn.created_at
    if after > RAPID_REFUND_WINDOW:
        return None
    return _reason(Rule.RAPID_REFUND, f"fully refunded {_seconds(after)} s after creation "
                                         f"(within {_seconds(RAPID_REFUND_WINDOW)} s)")


def _seconds(span: timedelta) -> int:
    return int(span.total_seconds())


def _reason(rule: Rule, detail: str) -> RiskReason:
    return RiskReason(rule=rule.value, detail=detail)
