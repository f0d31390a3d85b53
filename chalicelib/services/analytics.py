"""Daily analytics: the first consumer of transaction changes, applying each exactly once;
and reading the figures.

Exactly once, per bucket and shard (`lane`): each bucket item keeps a high-water mark, the
position of the last record of that lane whose change it includes. Records of a lane reach
the handler in stream order the first time; a retry redelivers a suffix of what it already
saw (from the failed record on), possibly extended with newer records. So one conditional
UpdateItem per bucket adds the batch's aggregated change for that bucket and moves the mark
to its last record, on condition that the mark is absent or before the batch's first record
for the bucket. When the condition fails (a retried batch, part of which this bucket already
took), the mark is read, only the records after it are aggregated again, and the write is
conditioned on exactly that mark (optimistic; a conflict is retried with jittered backoff).

Writes per batch: one per bucket that some record of the batch changes (records that change
nothing, like archival or a timestamp-only update, touch no bucket), plus conflicts. A bucket
whose records cancel out is written all the same, to move its mark: a retry starting between
those records must not apply half of them.
A record whose bucket write fails is reported back by sequence number (as is, by the stream
edge, a record that cannot be read); Lambda then retries from the earliest of them and the
marks skip what was applied.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date

from chalicelib.backoff import Sleep, retry_attempts
from chalicelib.domain.analytics import ZERO, DailyFigures, DayBucket, change_delta, counted_transaction
from chalicelib.services.ports import DailyFiguresStore
from chalicelib.storage.errors import PreconditionFailed
from chalicelib.storage.transaction_stream import StreamBatch

MAX_CONFLICT_RETRIES = 6
logger = logging.getLogger("payment_webhooks")


@dataclass(frozen=True)
class DailyQuery:
    first_day: date
    last_day: date
    provider: str | None = None
    currency: str | None = None


@dataclass(frozen=True)
class _Entry:
    position: str
    sequence_number: str
    figures: DailyFigures


class MarkContended(Exception):
    """Another writer kept moving a bucket's mark for the same lane (should not happen:
    Lambda runs one invocation per shard at a time)."""


class AnalyticsService:
    def __init__(self, repository: DailyFiguresStore, sleep: Sleep = time.sleep) -> None:
        self._repository = repository
        self._sleep = sleep

    def apply(self, batch: StreamBatch) -> list[str]:
        """Apply a batch's changes; answer the sequence numbers that failed (to be retried).
        Its unreadable records are not this consumer's to report (the stream edge reports
        them for every consumer); the marks make their retry harmless here."""
        by_bucket: dict[DayBucket, list[_Entry]] = {}
        for change in batch.changes:
            delta = change_delta(counted_transaction(change.before), counted_transaction(change.after))
            for bucket, figures in delta.items():
                by_bucket.setdefault(bucket, []).append(_Entry(change.position, change.sequence, figures))
        failed: list[str] = []
        for bucket in sorted(by_bucket):
            entries = by_bucket[bucket]
            try:
                self._apply_to(bucket, entries, batch.lane)
            except Exception:  # noqa: BLE001 - reported per record; the others go on
                logger.exception("analytics bucket write failed")
                failed.extend(entry.sequence_number for entry in entries)
        return sorted(set(failed), key=lambda s: s.zfill(64))

    def daily(self, query: DailyQuery) -> list[tuple[DayBucket, DailyFigures]]:
        """Rows with at least one transaction, by date, provider, currency."""
        rows = [
            (bucket, figures) for bucket, figures in self._repository.daily(query.first_day, query.last_day)
            if figures.count > 0
            and query.provider in (None, bucket.provider)
            and query.currency in (None, bucket.currency)
        ]
        return sorted(rows, key=lambda row: row[0])

    def _apply_to(self, bucket: DayBucket, entries: list[_Entry], lane: str) -> None:
        try:
            self._repository.add_unseen(
                bucket, _total(entries), lane, entries[0].position, entries[-1].position)
            return
        except PreconditionFailed:
            pass  # this bucket took some of these records already: continue after its mark
        for _ in retry_attempts(MAX_CONFLICT_RETRIES, self._sleep):
            mark = self._repository.mark(bucket, lane)
            rest = [entry for entry in entries if mark is None or entry.position > mark]
            if not rest:
                return
            try:
                self._repository.add_after(bucket, _total(rest), lane, mark, rest[-1].position)
                return
            except PreconditionFailed:
                pass  # the mark moved between our read and our write: read it again
        raise MarkContended(f"bucket {bucket} kept changing under lane {lane}")


def _total(entries: list[_Entry]) -> DailyFigures:
    total = ZERO
    for entry in entries:
        total = total + entry.figures
    return total
