"""Archiving one partition (provider, creation day) during one run.

For each part, strictly in this order: seal it (at most the part cap in memory), upload it
with a SHA-256 checksum, read it back and hash it, commit it by writing the manifest that
lists it, and only then replace its transactions by their archived records. The next part
starts only after that, so at any moment only the last listed part can have transactions
still waiting for their replacement; the manifest's `replaced` count says whether it does.

On opening a partition that a previous run left, part objects the manifest does not list
are deleted (their transactions were never replaced, so they are written again), and an
unfinished last part is finished: its lines are compared with the live items (consistent
reads) and those still identical are replaced. Those lines are remembered for the rest of
the partition, so a late index view of one of them is never written into a new part."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from chalicelib.domain.archive import Manifest, ManifestPart
from chalicelib.domain.transaction import ArchivePointer, Transaction
from chalicelib.observability.logs import log
from chalicelib.services.archive.replace import Archived, ReplacementOutcome, Replacer
from chalicelib.services.ports import ArchivableRecords, ArchiveStore
from chalicelib.storage.archive.parts import (
    PartBuilder, PartLimits, line_digest, part_lines,
)
from chalicelib.storage.archive.snapshots import read_snapshot

RECOVERY_BATCH = 100


class PartitionArchiver:
    def __init__(
        self, provider: str, day: date, *, records: ArchivableRecords, bucket: ArchiveStore,
        replacer: Replacer, snapshot: Callable[[Transaction], bytes], limits: PartLimits,
        now: datetime, tally: Callable[..., None],
    ) -> None:
        self.provider, self.day = provider, day
        self._records, self._bucket, self._replacer = records, bucket, replacer
        self._snapshot, self._limits, self._now, self._tally = snapshot, limits, now, tally
        self._in_archive: dict[str, bytes] = {}  # id -> digest of a snapshot in a committed part
        self._manifest = bucket.manifest(provider, day) or Manifest(provider, day)
        bucket.delete_uncommitted(self._manifest)
        if self._manifest.unfinished:
            for part in self._manifest.unfinished:
                self._finish(part)
            self._manifest = self._manifest.finished()
            bucket.put_manifest(self._manifest)
        self._builder = PartBuilder(limits)
        self._waiting: list[Archived] = []

    def add(self, txn: Transaction) -> None:
        line = self._snapshot(txn)
        digest = line_digest(line)
        if self._in_archive.get(txn.id) == digest:
            return  # this very snapshot is in a committed part already
        self._builder.add(line)
        self._waiting.append(Archived(txn.provider, txn.id, txn.version, digest))
        if self._builder.full:
            self._commit()

    def close(self) -> None:
        """Commit what is buffered (also when the run stops early for time)."""
        if not self._builder.empty:
            self._commit()
        if self._manifest.unfinished:
            self._manifest = self._manifest.finished()
            self._bucket.put_manifest(self._manifest)

    def _commit(self) -> None:
        part = self._builder.seal()
        key = self._bucket.part_key(self.provider, self.day, self._manifest.next_part)
        self._bucket.put_part(key, part)
        self._bucket.verify_part(key, part)
        self._manifest = self._manifest.with_part(ManifestPart(key, part.lines, part.sha256))
        self._bucket.put_manifest(self._manifest)
        outcomes = self._replacer.replace_all(self._waiting, self._pointer(key))
        replaced, changed = outcomes[ReplacementOutcome.REPLACED], outcomes[ReplacementOutcome.CHANGED]
        self._tally(parts=1, bytes=len(part.body), archived=replaced, changed=changed)
        log("archival.part", provider=self.provider, date=self.day.isoformat(), part=key,
            lines=part.lines, bytes=len(part.body), raw_bytes=part.raw_bytes,
            archived=replaced, changed=changed)
        self._builder = PartBuilder(self._limits)
        self._waiting = []

    def _finish(self, part: ManifestPart) -> None:
        """Replace what a crash left live of a committed part (at most one part's lines)."""
        batch: list[tuple[str, bytes]] = []
        for line in part_lines(self._bucket.read_part(part.key, part.sha256)):
            batch.append((read_snapshot(line).id, line_digest(line)))
            if len(batch) == RECOVERY_BATCH:
                self._finish_batch(batch, part.key)
                batch = []
        if batch:
            self._finish_batch(batch, part.key)

    def _finish_batch(self, batch: list[tuple[str, bytes]], key: str) -> None:
        current = self._records.get_many([(self.provider, payment_id) for payment_id, _ in batch])
        waiting = []
        for payment_id, digest in batch:
            self._in_archive[payment_id] = digest
            txn = current.get((self.provider, payment_id))
            if txn is not None and txn.archived is None and line_digest(self._snapshot(txn)) == digest:
                waiting.append(Archived(self.provider, payment_id, txn.version, digest))
        outcomes = self._replacer.replace_all(waiting, self._pointer(key))
        replaced = outcomes[ReplacementOutcome.REPLACED]
        self._tally(archived=replaced, recovered=replaced, changed=outcomes[ReplacementOutcome.CHANGED])

    def _pointer(self, key: str) -> ArchivePointer:
        return ArchivePointer(at=self._now, object=self._bucket.object_url(key))
