"""Replaying a stored event: parse its kept raw bytes again and merge the result.

Useful after a mapping fix, or to re-drive an event whose effect was lost downstream. The
merge is idempotent, so replaying an event the transaction already reflects is `stale`."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.events import Outcome
from chalicelib.domain.legacy import is_legacy_event, parse_legacy_event
from chalicelib.domain.transaction import merge_event
from chalicelib.errors import NotFound
from chalicelib.providers.base import WebhookProvider
from chalicelib.services.conflicts import retry_on_conflict
from chalicelib.services.ports import EventReader, Ledger, TransactionReader


@dataclass(frozen=True)
class ReplayResult:
    event_id: str
    outcome: Outcome


class ReplayService:
    def __init__(
        self, providers: Callable[[str], WebhookProvider], events: EventReader,
        transactions: TransactionReader, ledger: Ledger, clock: Callable[[], datetime],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._providers = providers
        self._events = events
        self._transactions = transactions
        self._ledger = ledger
        self._clock = clock
        self._sleep = sleep

    def replay(self, provider_name: str, event_id: str, dry_run: bool = False) -> ReplayResult:
        """`dry_run`: the outcome a replay would have now, with nothing written."""
        provider = self._providers(provider_name)
        stored = self._events.get(provider_name, event_id)
        if stored is None:
            raise NotFound(f"no event {provider_name}/{event_id}")
        if is_legacy_event(event_id):  # a backfilled record (domain/legacy.py), not the provider's JSON
            event = parse_legacy_event(stored.raw, provider_name)
        else:
            event = provider.parse_stored(stored.raw, event_id)
        if not event.describes_payment:
            return ReplayResult(event_id, Outcome.STALE)
        def merge_and_record() -> ReplayResult:
            current = self._transactions.get(event.provider, event.payment_id or "")
            merged = merge_event(current, event, self._clock(), replay=True)
            if merged.outcome is not Outcome.APPLIED:
                return ReplayResult(event_id, Outcome.STALE)
            if dry_run:
                return ReplayResult(event_id, Outcome.APPLIED)
            self._ledger.record_merged(
                None, merged.transaction,
                expected_version=current.version if current is not None else None,
            )
            return ReplayResult(event_id, Outcome.APPLIED)

        return retry_on_conflict(merge_and_record, self._sleep)
