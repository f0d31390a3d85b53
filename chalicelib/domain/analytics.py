"""Daily analytics arithmetic (contract section 3): what one transaction adds to its
(created day, provider, currency) bucket, and what one change of a transaction adds.

Figures form a group under addition, so a bucket's figures are the sum of the contributions
of the transactions in it, and a change moves a bucket by `contribution(new) -
contribution(old)`. Summing every change of a transaction telescopes to the contribution of
its latest state, which is why the stream handler can keep exact totals from deltas alone.
A contribution depends only on summary fields, so archival (which rewrites a transaction
into a compact record with the same summary) moves nothing. Pure: no I/O, no clock.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING

from chalicelib.domain.status import Status

if TYPE_CHECKING:
    from chalicelib.domain.transaction import Transaction


@dataclass(frozen=True, order=True)
class DayBucket:
    """One row of `GET /analytics/daily`: a UTC day, a provider, a currency."""

    day: date
    provider: str
    currency: str


@dataclass(frozen=True)
class DailyFigures:
    """Counts and volumes of one bucket, or a change to them (then any may be negative).

    `by_status` never holds zero entries, so equal figures compare equal."""

    count: int = 0
    by_status: Mapping[Status, int] = field(default_factory=dict)
    gross_volume: int = 0
    refunded_volume: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_status", {s: n for s, n in self.by_status.items() if n})

    @property
    def net_volume(self) -> int:
        return self.gross_volume - self.refunded_volume

    @property
    def is_zero(self) -> bool:
        return self == ZERO

    def __add__(self, other: DailyFigures) -> DailyFigures:
        statuses = {**self.by_status}
        for status, n in other.by_status.items():
            statuses[status] = statuses.get(status, 0) + n
        return DailyFigures(
            count=self.count + other.count, by_status=statuses,
            gross_volume=self.gross_volume + other.gross_volume,
            refunded_volume=self.refunded_volume + other.refunded_volume,
        )

    def __neg__(self) -> DailyFigures:
        return DailyFigures(
            count=-self.count, by_status={s: -n for s, n in self.by_status.items()},
            gross_volume=-self.gross_volume, refunded_volume=-self.refunded_volume,
        )

    def __sub__(self, other: DailyFigures) -> DailyFigures:
        return self + -other


ZERO = DailyFigures()


@dataclass(frozen=True)
class CountedTransaction:
    """A transaction as the daily figures count it: only what decides its bucket and its
    part of that bucket's figures. (Not `events.PaymentFacts`, what one event states.)"""

    provider: str
    status: Status
    amount: int
    currency: str
    amount_refunded: int
    created_at: datetime

    @property
    def bucket(self) -> DayBucket:
        return DayBucket(self.created_at.astimezone(timezone.utc).date(), self.provider, self.currency)


def counted_transaction(txn: Transaction | None) -> CountedTransaction | None:
    """What analytics sees of a transaction: nothing until its amount and currency are known
    (a payment known so far only from a refund, say): such a transaction is not counted."""
    if txn is None or txn.amount is None or txn.currency is None:
        return None
    return CountedTransaction(provider=txn.provider, status=txn.status, amount=txn.amount,
                              currency=txn.currency, amount_refunded=txn.amount_refunded,
                              created_at=txn.created_at)


def contribution(counted: CountedTransaction | None) -> dict[DayBucket, DailyFigures]:
    """One transaction's part of the daily figures: nothing, or exactly one bucket."""
    if counted is None:
        return {}
    return {counted.bucket: DailyFigures(
        count=1, by_status={counted.status: 1},
        gross_volume=counted.amount if counted.status.captured else 0,
        refunded_volume=counted.amount_refunded,
    )}


def change_delta(old: CountedTransaction | None, new: CountedTransaction | None) -> dict[DayBucket, DailyFigures]:
    """How one change of a transaction moves the buckets: new minus old, leaving out the
    buckets it does not move. Two buckets when the created day or currency changed."""
    delta = add_up([contribution(new), {b: -f for b, f in contribution(old).items()}])
    return {bucket: figures for bucket, figures in delta.items() if not figures.is_zero}


def add_up(parts: Iterable[Mapping[DayBucket, DailyFigures]]) -> dict[DayBucket, DailyFigures]:
    """Bucket-wise sum (keeps buckets that sum to zero: callers decide what that means)."""
    total: dict[DayBucket, DailyFigures] = {}
    for part in parts:
        for bucket, figures in part.items():
            total[bucket] = total.get(bucket, ZERO) + figures
    return total
