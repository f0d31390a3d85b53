"""The nightly archival run (docs/api.md section 4): transactions created before today
minus N days move to the archive bucket, each exactly once, and are replaced in DynamoDB by
compact archived records that keep answering queries and merging late events.

One run: take the lease, stream the archivable index (only what moves, oldest day first),
hand each transaction to the partition archiver of its (provider, day), and stop taking new
transactions once the Lambda's remaining time falls under a margin; whatever is buffered is
then committed, and the next run continues where this one stopped (the index no longer
holds what was archived). Progress is logged as JSON lines per part and per run."""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from chalicelib.domain.archive import archive_cutoff, created_day
from chalicelib.errors import StorageUnavailable
from chalicelib.observability.logs import log
from chalicelib.services.archive.partition import PartitionArchiver
from chalicelib.services.archive.replace import Replacer
from chalicelib.services.ports import ArchivableRecords, ArchiveStore, RunLease
from chalicelib.storage.archive.parts import PartLimits
from chalicelib.storage.archive.snapshots import snapshot_line

DEFAULT_MARGIN = timedelta(seconds=60)
DEFAULT_REPLACE_WORKERS = 8


@dataclass
class ArchiveReport:
    cutoff: date
    items_read: int = 0
    archived: int = 0
    """Transactions replaced by their archived records."""
    changed: int = 0
    """Changed after being read: left live, to be archived again by a later run."""
    recovered: int = 0
    """Of `archived`: finished from a part committed by an interrupted run."""
    parts: int = 0
    bytes: int = 0
    partitions: int = 0
    complete: bool = False
    """Every archivable transaction was seen (the run was not cut short by time)."""
    skipped: str | None = None

    def add(self, **counts: int) -> None:
        for name, count in counts.items():
            setattr(self, name, getattr(self, name) + count)

    def as_dict(self) -> dict[str, object]:
        document = asdict(self)
        document["cutoff"] = self.cutoff.isoformat()
        return document


class Deadline:
    """Stop taking new work when the remaining time is under the margin."""

    def __init__(self, remaining_ms: Callable[[], int], margin: timedelta) -> None:
        self._remaining_ms = remaining_ms
        self._margin_ms = margin.total_seconds() * 1000

    def near(self) -> bool:
        return self._remaining_ms() <= self._margin_ms


class ArchivalService:
    def __init__(
        self, records: ArchivableRecords, bucket: ArchiveStore, lease: RunLease,
        clock: Callable[[], datetime], after_days: int, limits: PartLimits = PartLimits(),
        margin: timedelta = DEFAULT_MARGIN, replace_workers: int = DEFAULT_REPLACE_WORKERS,
    ) -> None:
        self._records, self._bucket, self._lease = records, bucket, lease
        self._clock, self._after_days, self._limits = clock, after_days, limits
        self._margin, self._workers = margin, replace_workers

    def run(self, remaining_ms: Callable[[], int]) -> ArchiveReport:
        now = self._clock()
        report = ArchiveReport(archive_cutoff(now.date(), self._after_days))
        holder = uuid.uuid4().hex
        if not self._lease.acquire(holder, now):
            report.skipped = "another archival run holds the lease"
            log("archival.skipped", **report.as_dict())
            return report
        log("archival.start", cutoff=report.cutoff.isoformat(), bucket=self._bucket.name)
        read_before = self._records.items_read
        try:
            self._archive(now, report, Deadline(remaining_ms, self._margin))
        finally:
            report.items_read = self._records.items_read - read_before
            self._release(holder)
        log("archival.run", **report.as_dict())
        return report

    def _release(self, holder: str) -> None:
        """A lease that cannot be released expires by itself, so its failure must not fail
        the run: a run whose work is done would be retried, and the retries, finding the
        lease still held, would skip until it expired."""
        try:
            self._lease.release(holder)
        except StorageUnavailable as exc:
            log("archival.lease_not_released", logging.WARNING, problem=str(exc))

    def _archive(self, now: datetime, report: ArchiveReport, deadline: Deadline) -> None:
        with ThreadPoolExecutor(self._workers, thread_name_prefix="archive") as pool:
            replacer = Replacer(self._records, snapshot_line, pool, in_flight=2 * self._workers)
            open_day: date | None = None
            partitions: dict[str, PartitionArchiver] = {}  # of the day being archived
            for candidate in self._records.created_before(report.cutoff):
                if deadline.near():
                    log("archival.time_budget", cutoff=report.cutoff.isoformat())
                    break
                txn = candidate.transaction
                day = created_day(txn.created_at)
                if day != open_day:
                    _close_all(partitions)
                    open_day = day
                partition = partitions.get(txn.provider)
                if partition is None:
                    partition = partitions[txn.provider] = PartitionArchiver(
                        txn.provider, day, records=self._records, bucket=self._bucket,
                        replacer=replacer, snapshot=snapshot_line, limits=self._limits,
                        now=now, tally=report.add,
                    )
                    report.partitions += 1
                partition.add(txn)
            else:
                report.complete = True
            # Reached only without an exception: a failure leaves buffered lines unwritten
            # (their transactions are still live) and propagates, like a crash.
            _close_all(partitions)


def _close_all(partitions: dict[str, PartitionArchiver]) -> None:
    for partition in partitions.values():
        partition.close()
    partitions.clear()
