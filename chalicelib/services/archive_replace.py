"""Replacing archived transactions by their compact records, a part at a time.

Each replacement is conditioned on the version that was archived. When the condition
fails, the item is looked at as it is now (returned by the failed write itself):
- already archived: nothing to do (a rerun found its own earlier work);
- its snapshot is unchanged (same line, e.g. an event replayed that it already listed):
  replace it at its new version, since the archive holds exactly this state;
- changed: leave it live; a later run archives the newer state as a second snapshot.
Replacements of one part run on a small thread pool: they are independent single-item
writes, and a part of 5,000 takes seconds instead of half a minute."""
from __future__ import annotations

import enum
import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from chalicelib.domain.transaction import ArchivePointer, Transaction
from chalicelib.observability.logs import log
from chalicelib.storage.archivable import ArchivableTransactions
from chalicelib.storage.archive_parts import line_digest

MAX_ATTEMPTS = 3


class Outcome(enum.Enum):
    REPLACED = "replaced"
    CHANGED = "changed"
    ALREADY_ARCHIVED = "already_archived"


@dataclass(frozen=True)
class Archived:
    """One transaction whose snapshot is in a committed part, awaiting replacement."""

    provider: str
    id: str
    version: int
    digest: bytes


class Replacer:
    def __init__(self, records: ArchivableTransactions, snapshot: Callable[[Transaction], bytes],
                 pool: Executor) -> None:
        self._records = records
        self._snapshot = snapshot
        self._pool = pool

    def replace_all(self, archived: list[Archived], pointer: ArchivePointer) -> Counter[Outcome]:
        """All or raise: the first failure cancels what has not started and propagates
        (the run stops; the manifest already lists the part, so a rerun finishes it)."""
        futures = [self._pool.submit(self._replace, item, pointer) for item in archived]
        outcomes: Counter[Outcome] = Counter()
        try:
            for future in futures:
                outcomes[future.result()] += 1
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return outcomes

    def _replace(self, item: Archived, pointer: ArchivePointer) -> Outcome:
        version = item.version
        for _ in range(MAX_ATTEMPTS):
            result = self._records.replace_with_archived(item.provider, item.id, version, pointer)
            if result.replaced:
                return Outcome.REPLACED
            current = result.current
            if current is not None and current.archived is not None:
                if current.archived.object == pointer.object:
                    # Our own replacement already landed: a retried request (the first
                    # attempt timed out after DynamoDB applied it) or a rerun's. Archived.
                    return Outcome.REPLACED
                if current.archived.object != pointer.object:
                    # Only if the index showed an already replaced item: the part holds a
                    # second copy of its snapshot. Loud, because it should never happen.
                    log("archival.already_archived", logging.WARNING, transaction=current.ref,
                        archived=current.archived.object, part=pointer.object)
                return Outcome.ALREADY_ARCHIVED
            if current is None or line_digest(self._snapshot(current)) != item.digest:
                return Outcome.CHANGED
            version = current.version
        return Outcome.CHANGED
