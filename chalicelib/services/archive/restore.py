"""Restoring an archived partition for an audit (`make restore PROVIDER=... DATE=...`).

What it does: every part the partition's manifest lists is read and checked against the
manifest's SHA-256; then each archived snapshot's events are put back onto its archived
record, so that `GET /transactions/{provider}/{id}` shows the full history again. Only
where the record is the archived record pointing at that very part: an older snapshot
(the transaction changed and was archived again later) or a record that is not archived
is left alone. The record stays an archived record (pointer kept, summary untouched), so
analytics see no change and the next run does not archive it a second time; events that
arrived after archival are kept after the archived ones. Running it twice changes nothing."""
from __future__ import annotations

import enum
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.backoff import Sleep, retry_attempts
from chalicelib.domain.transaction import Transaction
from chalicelib.errors import NotFound
from chalicelib.observability.logs import log
from chalicelib.services.ports import ArchivableRecords, ArchiveStore
from chalicelib.storage.archive.parts import part_lines
from chalicelib.storage.archive.snapshots import Snapshot, read_snapshot

BATCH = 100
MAX_ATTEMPTS = 3


class RestoreOutcome(enum.Enum):
    """What restoring one snapshot did (counted by value in the report)."""

    RESTORED = "restored"
    ALREADY_RESTORED = "already_restored"
    NOT_THIS_SNAPSHOT = "not_this_snapshot"
    """The record is not the archived record of this part (archived again later, or live)."""
    BUSY = "busy"
    """The record kept changing under every attempt: run the restore again."""


@dataclass(frozen=True)
class RestoreReport:
    provider: str
    date: date
    parts: int
    lines: int
    outcomes: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "date": self.date.isoformat(), "parts": self.parts,
                "lines": self.lines, **self.outcomes}


class ArchiveRestoreService:
    def __init__(self, records: ArchivableRecords, bucket: ArchiveStore,
                 sleep: Sleep = time.sleep) -> None:
        self._records = records
        self._bucket = bucket
        self._sleep = sleep

    def restore(self, provider: str, day: date) -> RestoreReport:
        manifest = self._bucket.manifest(provider, day)
        if manifest is None:
            raise NotFound(f"no archived partition {provider} {day.isoformat()}")
        outcomes: Counter[RestoreOutcome] = Counter()
        lines = 0
        for part in manifest.parts:
            url = self._bucket.object_url(part.key)
            batch: list[Snapshot] = []
            for line in part_lines(self._bucket.read_part(part.key, part.sha256)):
                batch.append(read_snapshot(line))
                lines += 1
                if len(batch) == BATCH:
                    outcomes.update(self._restore_batch(batch, url))
                    batch = []
            outcomes.update(self._restore_batch(batch, url))
        report = RestoreReport(provider, day, len(manifest.parts), lines,
                               {outcome.value: count for outcome, count in outcomes.items()})
        log("archival.restore", **report.as_dict())
        return report

    def _restore_batch(self, snapshots: list[Snapshot], url: str) -> Counter[RestoreOutcome]:
        current = self._records.get_many([(s.provider, s.id) for s in snapshots])
        return Counter(
            self._restore_one(current.get((s.provider, s.id)), s, url) for s in snapshots
        )

    def _restore_one(self, txn: Transaction | None, snapshot: Snapshot, url: str) -> RestoreOutcome:
        archived = snapshot.events
        for _ in retry_attempts(MAX_ATTEMPTS, self._sleep):
            if txn is None or txn.archived is None or txn.archived.object != url:
                return RestoreOutcome.NOT_THIS_SNAPSHOT
            known = {e.event_id for e in archived}
            events = (*archived, *(e for e in txn.events if e.event_id not in known))
            if events == txn.events:
                return RestoreOutcome.ALREADY_RESTORED
            if self._records.restore_events(txn, events):
                return RestoreOutcome.RESTORED
            txn = self._records.get_many([(txn.provider, txn.id)]).get((txn.provider, txn.id))
        return RestoreOutcome.BUSY
