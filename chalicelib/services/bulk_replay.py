"""Bulk replay: every stored event of one provider received in a time range, replayed
through the merge rule (docs/api.md section 11), for recovery after a mapping fix.

The events come from the events table's keys-only index by provider and received time;
each is replayed exactly as `POST /events/{provider}/{id}/replay` does (services/replay.py),
so an event the transaction already reflects is `stale` and a rerun changes nothing. The
work of one request is bounded (`budget_seconds`, well inside the API's 29 seconds): when
time runs out the answer says `complete: false` with a signed `cursor` (the index key of
the last event replayed) that continues from there. `dry_run` counts what a replay would
do and writes nothing."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.events import Outcome
from chalicelib.domain.timestamps import format_iso
from chalicelib.errors import InvalidRequest, NotFound
from chalicelib.providers.base import WebhookProvider
from chalicelib.services.cursor import CursorCodec
from chalicelib.services.ports import ReceivedEvents
from chalicelib.services.replay import ReplayService

MAX_RANGE = timedelta(days=31)
PAGE_SIZE = 100
FROM_START = object()


@dataclass(frozen=True)
class BulkReplay:
    provider: str
    start: datetime
    end: datetime
    dry_run: bool
    cursor: str | None = None

    def fingerprint(self) -> dict[str, str | bool]:
        """What a cursor belongs to: the same range, provider and mode."""
        return {"replay": self.provider, "from": format_iso(self.start), "to": format_iso(self.end),
                "dry_run": self.dry_run}


@dataclass(frozen=True)
class BulkReplayReport:
    matched: int
    applied: int
    stale: int
    complete: bool
    cursor: str | None


class BulkReplayService:
    def __init__(
        self, providers: Callable[[str], WebhookProvider], received: ReceivedEvents, replay: ReplayService,
        cursors: CursorCodec, budget_seconds: float = 20.0, monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._providers = providers
        self._received = received
        self._replay = replay
        self._cursors = cursors
        self._budget = budget_seconds
        self._monotonic = monotonic

    def run(self, request: BulkReplay) -> BulkReplayReport:
        self._providers(request.provider)  # UnknownProvider (404) before any work
        if request.end < request.start:
            raise InvalidRequest("to: must not be before from")
        if request.end - request.start > MAX_RANGE:
            raise InvalidRequest(f"to: the range may span at most {MAX_RANGE.days} days")
        after = self._cursors.decode(request.cursor, request.fingerprint()) if request.cursor else None
        after = after or None  # a cursor issued before any event was replayed starts over
        deadline = self._monotonic() + self._budget
        counts = {Outcome.APPLIED: 0, Outcome.STALE: 0}
        while True:
            page = self._received.received_between(request.provider, request.start, request.end, after, PAGE_SIZE)
            for event_id, key in page.events:
                if self._monotonic() >= deadline:
                    return self._report(counts, request, continue_after=after if after is not None else FROM_START)
                try:
                    outcome = self._replay.replay(request.provider, event_id, dry_run=request.dry_run).outcome
                except NotFound:  # expired between the index read and the item read
                    outcome = Outcome.STALE
                counts[outcome] += 1
                after = key
            if page.last_key is None:
                return self._report(counts, request, continue_after=None)
            after = page.last_key
            if self._monotonic() >= deadline:
                return self._report(counts, request, continue_after=after)

    def _report(self, counts: dict[Outcome, int], request: BulkReplay,
                continue_after: dict[str, Any] | None | object) -> BulkReplayReport:
        """`continue_after`: the index key to go on after, `FROM_START` when nothing was
        done yet, None when the range is done."""
        applied, stale = counts[Outcome.APPLIED], counts[Outcome.STALE]
        if continue_after is None:
            return BulkReplayReport(applied + stale, applied, stale, complete=True, cursor=None)
        key = {} if continue_after is FROM_START else continue_after
        return BulkReplayReport(applied + stale, applied, stale, complete=False,
                                cursor=self._cursors.encode(key, request.fingerprint()))
