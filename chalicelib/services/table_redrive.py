"""Redriving a stream-failure letter whose records the stream no longer holds (older than
its 24 hours): the transactions it names re-applied from the table to the consumer it
names (docs/api.md section 11, docs/incident-runbook.md).

Lambda's on-failure record names a shard, a sequence range and when the first and last
record reached the stream, not keys. Every change of a transaction's business state is
written by an event (a webhook, a sync, a replay) at about the time it is received, or a
little after it (a risk write follows the feed within seconds), so the transactions of
the range are found through the events table's `by-provider-received` index: the events of
every provider received from `ARRIVAL_MARGIN_BEFORE` before the first record's arrival to
`ARRIVAL_MARGIN_AFTER` after the last one, and the transactions they name, as they are now.
(A replay of an event received earlier is not found that way; the runbook says what to do.)

Then, per consumer, what makes it whole again, idempotently:
- the change feed (`publish_payment_changes`): each transaction is re-announced, its
  version moved on by one and nothing else (storage/announcements.py), and the feed
  publisher publishes that write as `payment.updated` through the stream, in order with any
  other change. It is a version never published, so no version already published is ever
  published as a different change, and a subscriber deduping on `detail.id` and applying
  newer versions ends at the transaction's current state. The write names the letter, so a
  second redrive of the same letter moves no version again.
- daily analytics (`update_daily_analytics`): its figures are sums of deltas guarded by
  per-shard marks, and the deltas of the lost records cannot be rebuilt. So each affected
  (day, provider) is recounted from the table (its transactions through the `by-provider`
  index, each read consistently) and every currency's bucket whose figures differ is set to
  the recount, on condition that its figures are still what was read. The affected days
  are each transaction's created day and the days its listed events occurred on: a lost
  change may have moved the created day (until a provider states it, it is the first
  event's time), and the day it moved from must lose what it counted. That is exact only
  if no change counted can also reach the bucket as a delta, before or after the recount;
  hence the recount is refused (the letter stays, failed) while any transaction of that day
  and provider changed less than `SETTLED_AFTER` ago, longer than the stream keeps records.
  Then none of the counted changes is in the stream any more (not in flight, not in another
  letter the stream could replay: such a letter takes this path too, and recounts the same
  figures), and a change made after the table was read is either applied by the consumer
  before the write, which then finds the figures moved and reads again, or after it, on top
  of figures that did not count it. A second recount finds every bucket exact and writes
  nothing. A day still changing is recounted by a redrive once it has settled. One case is
  left open: a transaction the letter does not name whose created day moved away from a
  recounted day within those 25 hours (a provider stating it late) is taken off that day twice,
  by the recount and by its own delta; the named transactions are checked for exactly that.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from chalicelib.domain.analytics import ZERO, add_up, contribution, counted_transaction
from chalicelib.domain.dead_letters import StreamFailure, UnreadableLetter
from chalicelib.domain.timestamps import format_iso
from chalicelib.domain.transaction import Transaction
from chalicelib.services.ports import (
    DailyFiguresStore, EventReader, ReceivedEvents, ReconciledPayments, TransactionAnnouncer, TransactionReader,
)
from chalicelib.storage.errors import PreconditionFailed

ARRIVAL_MARGIN_BEFORE = timedelta(minutes=10)
"""Events received this long before the first record's arrival count: a change may come a
while after its event (a risk write, a queued merge retry)."""
ARRIVAL_MARGIN_AFTER = timedelta(minutes=1)
"""An event is received before its write reaches the stream: this covers clock skew."""
SETTLED_AFTER = timedelta(hours=25)
"""The stream's 24 hours and an hour for a consumer still working on its oldest records."""
PAGE_SIZE = 100
RECOUNT_ATTEMPTS = 3

FEED = "publish_payment_changes"
ANALYTICS = "update_daily_analytics"


class NotReapplied(Exception):
    """The letter cannot be re-applied from the table now (the reason says why); it stays."""


@dataclass(frozen=True)
class Reapplied:
    """What one or more table redrives changed: transactions re-announced on the feed,
    analytics buckets set to their recount."""

    transactions: int = 0
    buckets: int = 0

    def __add__(self, other: Reapplied) -> Reapplied:
        return Reapplied(self.transactions + other.transactions, self.buckets + other.buckets)


class TableRedrive:
    def __init__(
        self, providers: tuple[str, ...], received: ReceivedEvents, events: EventReader,
        transactions: TransactionReader, announcer: TransactionAnnouncer, days: ReconciledPayments,
        figures: DailyFiguresStore, clock: Callable[[], datetime],
    ) -> None:
        self._providers = providers
        self._received = received
        self._events = events
        self._transactions = transactions
        self._announcer = announcer
        self._days = days
        self._figures = figures
        self._clock = clock

    def reapply(self, failure: StreamFailure, window: tuple[datetime, datetime],
                out_of_time: Callable[[], bool]) -> Reapplied:
        """Re-apply what the letter names to its consumer; `NotReapplied` (nothing or part
        done: a repeat is harmless) when it cannot be done now."""
        if failure.consumer not in (FEED, ANALYTICS):
            raise UnreadableLetter(f"no table redrive for consumer {failure.consumer!r}")
        named = self._named(window[0] - ARRIVAL_MARGIN_BEFORE, window[1] + ARRIVAL_MARGIN_AFTER, out_of_time)
        if failure.consumer == FEED:
            requester = f"{failure.consumer}/{failure.shard_id}/{failure.first_sequence}-{failure.last_sequence}"
            moved = 0
            for txn in named:
                _check(out_of_time)
                moved += self._announcer.reannounce(txn.provider, txn.id, requester)
            return Reapplied(transactions=moved)
        for txn in named:  # one that moved away from a day recounted here would not be among its own
            self._settled(txn)
        days = sorted({(_utc_day(moment), txn.provider) for txn in named
                       for moment in (txn.created_at, *(event.occurred_at for event in txn.events))})
        return Reapplied(buckets=sum(self._recount(day, provider, out_of_time) for day, provider in days))

    def _named(self, start: datetime, end: datetime, out_of_time: Callable[[], bool]) -> list[Transaction]:
        """The transactions of the events received from `start` to `end`, as they are now."""
        refs: set[str] = set()
        for provider in self._providers:
            after = None
            while True:
                page = self._received.received_between(provider, start, end, after, PAGE_SIZE)
                for event_id, _key in page.events:
                    _check(out_of_time)
                    event = self._events.get(provider, event_id)
                    if event is not None and event.transaction:
                        refs.add(event.transaction)
                if page.last_key is None:
                    break
                after = page.last_key
        found = (self._transactions.get(*ref.split("/", 1)) for ref in sorted(refs))
        return [txn for txn in found if txn is not None]

    def _recount(self, day: date, provider: str, out_of_time: Callable[[], bool]) -> int:
        """Set the day's buckets of `provider` to the table's figures; answer how many moved."""
        corrected = 0
        for _ in range(RECOUNT_ATTEMPTS):
            stored = self._figures.day_buckets(day, provider)  # read first: see the module docstring
            counted = add_up(contribution(counted_transaction(txn))
                             for txn in self._day_transactions(day, provider, out_of_time))
            try:
                for bucket in sorted(set(stored) | set(counted)):
                    want, have = counted.get(bucket, ZERO), stored.get(bucket)
                    if want == (have or ZERO):
                        continue
                    self._figures.replace(bucket, want, have)
                    corrected += 1
            except PreconditionFailed:
                continue  # the consumer moved a bucket meanwhile: read both again
            return corrected
        raise NotReapplied(f"the figures of {day} {provider} kept changing while they were recounted")

    def _day_transactions(self, day: date, provider: str, out_of_time: Callable[[], bool]) -> Iterable[Transaction]:
        for payment_id in self._days.created_on(provider, day):
            _check(out_of_time)
            txn = self._transactions.get(provider, payment_id)
            if txn is not None:
                yield self._settled(txn)

    def _settled(self, txn: Transaction) -> Transaction:
        """`txn`, unless its counted fields changed too recently to recount (module docstring).
        `updated_at` moves with every change of them (domain/transaction.py)."""
        if txn.updated_at > self._clock() - SETTLED_AFTER:
            raise NotReapplied(
                f"{txn.ref} changed within the stream's 24 hours; redrive after "
                f"{format_iso(txn.updated_at + SETTLED_AFTER)}")
        return txn


def _utc_day(moment: datetime) -> date:
    return moment.astimezone(timezone.utc).date()


def _check(out_of_time: Callable[[], bool]) -> None:
    if out_of_time():
        raise NotReapplied("ran out of time; redrive again")
