"""Reconciling an export with the store (docs/api.md section 10), and backfilling it.

The export is read once, as a stream: records are looked up 100 at a time (one
BatchGetItem), compared, and their keys kept on disk (`ExportKeys`). Then, for each
(provider, creation day) the export covers, the day's stored keys are read from the
`by-provider` index; those the export lacks are `extra`. Archived transactions are found
like live ones: archival replaces a transaction by an archived record that keeps its summary
(docs/archival.md), so the store's answer is current even for payments archived long ago.
Memory holds one batch, one index page, the covered days and the differences found,
whatever the export's length. The same service serves `make reconcile` and the nightly job."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass

from chalicelib.domain.events import Outcome
from chalicelib.domain.ledger_export import LedgerRecord, read_export
from chalicelib.domain.legacy import legacy_event
from chalicelib.domain.reconciliation import ReconciliationReport, differences
from chalicelib.services.ports import ReconciledPayments, VerifiedIngest
from chalicelib.services.reconcile.export_keys import ExportKeys
from chalicelib.storage.reconciliation.payments import BATCH_GET_LIMIT

Progress = Callable[[int], None]
"""Called after each batch with the number of records read so far."""


class OutOfTime(Exception):
    """The caller's deadline came before the export was read to its end."""


def _no_progress(_records: int) -> None:
    return None


def _never() -> bool:
    return False


@dataclass(frozen=True)
class BackfillCounts:
    applied: int = 0
    duplicate: int = 0
    stale: int = 0
    matched: int = 0
    """Records already matching the store: not applied."""

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class ReconciliationService:
    def __init__(self, payments: ReconciledPayments, providers: Collection[str],
                 batch_size: int = BATCH_GET_LIMIT) -> None:
        self._payments = payments
        self._providers = providers
        self._batch_size = batch_size

    def reconcile(self, source: str, lines: Iterable[bytes], progress: Progress = _no_progress,
                  stop: Callable[[], bool] = _never) -> ReconciliationReport:
        """`MalformedExport` for a malformed line; `OutOfTime` when `stop()` turns true."""
        report = ReconciliationReport(source)
        with ExportKeys() as keys:
            for batch in self._batches(lines, progress, stop):
                found = self._payments.summaries(list({record.key for record in batch}))
                for record in batch:
                    report.compare(record, found.get(record.key))
                keys.add((r.provider, r.id, r.created_at.date()) for r in batch)
            for provider, day in sorted(keys.days):
                for payment_id in self._payments.created_on(provider, day):
                    if (provider, payment_id) not in keys:
                        report.add_extra(provider, payment_id)
        return report

    def backfill(self, lines: Iterable[bytes], ingest: VerifiedIngest,
                 progress: Progress = _no_progress) -> BackfillCounts:
        """Every record the store lacks or that differs, applied through the merge rule."""
        outcomes: Counter[str] = Counter()
        for batch in self._batches(lines, progress, _never):
            found = self._payments.summaries(list({record.key for record in batch}))
            for record in batch:
                ours = found.get(record.key)
                if ours is not None and not differences(record, ours):
                    outcomes["matched"] += 1
                    continue
                receipt, = ingest.accept_verified([legacy_event(record)], dedupe_forever=True)
                outcomes[receipt.outcome.value] += 1
        return BackfillCounts(applied=outcomes[Outcome.APPLIED.value], duplicate=outcomes[Outcome.DUPLICATE.value],
                              stale=outcomes[Outcome.STALE.value], matched=outcomes["matched"])

    def _batches(self, lines: Iterable[bytes], progress: Progress,
                 stop: Callable[[], bool]) -> Iterator[list[LedgerRecord]]:
        batch: list[LedgerRecord] = []
        read = 0
        for _line, record in read_export(lines, self._providers):
            batch.append(record)
            if len(batch) == self._batch_size:
                if stop():
                    raise OutOfTime(f"stopped after {read:,} records")
                yield batch
                read += len(batch)
                progress(read)
                batch = []
        if batch:
            yield batch
            progress(read + len(batch))
