"""Replacing archived transactions by their compact records, a part at a time.

Each replacement is conditioned on the version that was archived. When the condition
fails, the item is looked at as it is now (returned by the failed write itself):
- already archived by this part: replaced (a retried request or a rerun found its own
  earlier work); by another part: nothing to do, but said loudly;
- its snapshot is unchanged (same line, e.g. an event replayed that it already listed):
  replace it at its new version, since the archive holds exactly this state;
- changed: leave it live; a later run archives the newer state as a second snapshot.
Replacements of one part run on a small thread pool: they are independent single-item
writes, each waiting on a round trip, so a pool finishes a part many times sooner than one
writer. Only a few are handed to the pool at a time (`in_flight`): every submitted
replacement holds its future, lock and queue entry until it is done, so submitting a
whole part at once would make the job's peak memory grow with the part's line count."""
from __future__ import annotations

import enum
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass

from chalicelib.backoff import Sleep, retry_attempts
from chalicelib.domain.transaction import ArchivePointer, Transaction
from chalicelib.observability.logs import log
from chalicelib.services.ports import ArchivableRecords
from chalicelib.storage.archive.parts import line_digest

MAX_ATTEMPTS = 3
DEFAULT_IN_FLIGHT = 16


class ReplacementOutcome(enum.Enum):
    """What became of one archived transaction's live item (not an event's `Outcome`)."""

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
    def __init__(self, records: ArchivableRecords, snapshot: Callable[[Transaction], bytes],
                 pool: Executor, in_flight: int = DEFAULT_IN_FLIGHT, sleep: Sleep = time.sleep) -> None:
        """`in_flight`: replacements submitted to `pool` and not yet finished, at most;
        a couple per worker keeps every worker busy."""
        if in_flight < 1:
            raise ValueError("in_flight must be positive")
        self._records = records
        self._snapshot = snapshot
        self._pool = pool
        self._in_flight = in_flight
        self._sleep = sleep

    def replace_all(
        self, archived: Iterable[Archived], pointer: ArchivePointer,
    ) -> Counter[ReplacementOutcome]:
        """All or raise: the first failure stops submitting, cancels what has not started
        and propagates (the run stops; the manifest already lists the part, so a rerun
        finishes it)."""
        outcomes: Counter[ReplacementOutcome] = Counter()
        pending: set[Future[ReplacementOutcome]] = set()
        try:
            for item in archived:
                if len(pending) >= self._in_flight:
                    pending = _collect(pending, outcomes)
                pending.add(self._pool.submit(self._replace, item, pointer))
            while pending:
                pending = _collect(pending, outcomes)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
        return outcomes

    def _replace(self, item: Archived, pointer: ArchivePointer) -> ReplacementOutcome:
        version = item.version
        for _ in retry_attempts(MAX_ATTEMPTS, self._sleep):
            result = self._records.replace_with_archived(item.provider, item.id, version, pointer)
            if result.replaced:
                return ReplacementOutcome.REPLACED
            current = result.current
            if current is not None and current.archived is not None:
                if current.archived.object == pointer.object:
                    # Our own replacement already landed: a retried request (the first
                    # attempt timed out after DynamoDB applied it) or a rerun's. Archived.
                    return ReplacementOutcome.REPLACED
                # Only if the index showed an already replaced item: the part holds a
                # second copy of its snapshot. Loud, because it should never happen.
                log("archival.already_archived", logging.WARNING, transaction=current.ref,
                    archived=current.archived.object, part=pointer.object)
                return ReplacementOutcome.ALREADY_ARCHIVED
            if current is None or line_digest(self._snapshot(current)) != item.digest:
                return ReplacementOutcome.CHANGED
            version = current.version
        return ReplacementOutcome.CHANGED


def _collect(
    pending: set[Future[ReplacementOutcome]], outcomes: Counter[ReplacementOutcome],
) -> set[Future[ReplacementOutcome]]:
    """Wait for at least one of `pending` to finish and count what finished; the rest.
    A finished replacement that raised raises here."""
    done, not_done = wait(pending, return_when=FIRST_COMPLETED)
    for future in done:
        outcomes[future.result()] += 1
    return not_done
