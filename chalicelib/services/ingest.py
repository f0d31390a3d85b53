"""Receiving a webhook: verify, normalise, deduplicate and apply, durably, before 2xx.

Cost on the hot path: a new, in-order payment event is one DynamoDB request (a
TransactWriteItems putting the event and updating its transaction under conditions); a
duplicate is one; an out-of-order or stale event falls back to read-merge-write, retried
with jitter when another writer got there first (on either path)."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.events import Outcome, ParsedEvent
from chalicelib.domain.timestamps import format_iso
from chalicelib.domain.transaction import in_order_write, merge_event
from chalicelib.errors import InvalidPayload, PayloadTooLarge
from chalicelib.providers.base import WebhookProvider, WebhookRequest
from chalicelib.services.conflicts import retry_on_conflict
from chalicelib.services.ports import Ledger, SigningSecrets, TransactionReader
from chalicelib.storage.errors import DuplicateEvent, PreconditionFailed
from chalicelib.storage.events import event_item, seen_item


Trace = Callable[..., AbstractContextManager[object]]
MAX_CLOCK_SKEW = timedelta(minutes=15)
"""How far ahead of our clock an event may be dated (contract section 2): beyond it, a
signed but mis-dated event would be the newest of its transaction for ever."""


def untraced(name: str, **annotations: str) -> AbstractContextManager[object]:
    return nullcontext()


@dataclass(frozen=True)
class EventReceipt:
    event_id: str
    transaction: str | None
    outcome: Outcome


@dataclass(frozen=True)
class Receipt:
    """What a delivery did, event by event; `acknowledgement` is the plain-text answer the
    provider expects instead of the JSON receipt, if it expects one."""

    provider: str
    events: list[EventReceipt]
    acknowledgement: str | None = None


class IngestService:
    def __init__(
        self,
        providers: Callable[[str], WebhookProvider],
        secrets: SigningSecrets,
        ledger: Ledger,
        transactions: TransactionReader,
        clock: Callable[[], datetime],
        max_body_bytes: int,
        retention: timedelta,
        sleep: Callable[[float], None] = time.sleep,
        trace: Trace = untraced,
    ) -> None:
        self._providers = providers
        self._secrets = secrets
        self._ledger = ledger
        self._transactions = transactions
        self._clock = clock
        self._max_body_bytes = max_body_bytes
        self._retention = retention
        self._sleep = sleep
        self._trace = trace  # X-Ray subsegments `verify`, `parse`, `store` when tracing

    def receive(self, provider_name: str, raw_body: bytes, headers: Mapping[str, str]) -> Receipt:
        provider = self._providers(provider_name)
        if len(raw_body) > self._max_body_bytes:
            raise PayloadTooLarge(f"the body is over {self._max_body_bytes} bytes")
        request = WebhookRequest.of(raw_body, headers)
        now = self._clock()
        with self._trace("verify", provider=provider_name):
            provider.verify(request, self._secrets.current(), now)
        with self._trace("parse", provider=provider_name):
            parsed = provider.parse(request)
        return Receipt(provider_name, self._accept(provider_name, parsed, now, provider.dedupe_forever),
                       provider.acknowledgement)

    def accept_verified(self, events: Sequence[ParsedEvent], *, dedupe_forever: bool) -> list[EventReceipt]:
        """Events whose origin is already established, stored and merged: a webhook past its
        signature check, an event read back from the provider's own API with its API key
        (provider sync), a record of another system of record (backfill, docs/api.md
        section 10). All are checked before any is stored, so one refused event refuses
        them all, as it refuses a delivery. Each keeps the id it comes with (the provider's,
        or the backfill's deterministic one), so the same event accepted again, by any of
        these doors, is a `duplicate`. `dedupe_forever` records the ids permanently, for
        sources whose events never expire."""
        provider = events[0].event.provider if events else ""
        return self._accept(provider, events, self._clock(), dedupe_forever)

    def _accept(self, provider_name: str, events: Sequence[ParsedEvent], now: datetime,
                dedupe_forever: bool) -> list[EventReceipt]:
        for item in events:  # all before any is stored
            _refuse_future(item, now)
        with self._trace("store", provider=provider_name):
            return [self._store(item, now, dedupe_forever) for item in events]

    def _store(self, parsed: ParsedEvent, received_at: datetime, dedupe_forever: bool) -> EventReceipt:
        event = parsed.event
        receipt = lambda outcome: EventReceipt(event.event_id, event.transaction_ref, outcome)  # noqa: E731
        seen = seen_item(event.provider, event.event_id) if dedupe_forever else None

        def item(outcome: Outcome) -> dict:
            return event_item(event, parsed.raw, received_at, outcome, self._retention)

        if not event.describes_payment:
            def record_ignored() -> EventReceipt:
                try:
                    self._ledger.record_unmerged(item(Outcome.IGNORED), seen)
                except DuplicateEvent:
                    return receipt(Outcome.DUPLICATE)
                return receipt(Outcome.IGNORED)

            return retry_on_conflict(record_ignored, self._sleep)

        fast = in_order_write(event, received_at)

        def attempt() -> EventReceipt:
            """The single request when the event may be in order, else read-merge-write.
            A `WriteConflict` from either (another delivery in flight on the same item)
            reaches `retry_on_conflict`, which tries again after a jittered backoff."""
            nonlocal fast
            if fast is not None:
                try:
                    self._ledger.record_in_order(item(Outcome.APPLIED), fast, seen)
                    return receipt(Outcome.APPLIED)
                except DuplicateEvent:
                    return receipt(Outcome.DUPLICATE)
                except PreconditionFailed:
                    fast = None  # not newer than the stored state: merge it properly
            return merge_and_record()

        def merge_and_record() -> EventReceipt:
            current = self._transactions.get(event.provider, event.payment_id or "")
            if current is not None and any(r.event_id == event.event_id for r in current.events):
                return receipt(Outcome.DUPLICATE)
            merged = merge_event(current, event, received_at)
            try:
                self._ledger.record_merged(
                    item(merged.outcome), merged.transaction,
                    expected_version=current.version if current is not None else None, seen=seen,
                )
            except DuplicateEvent:
                return receipt(Outcome.DUPLICATE)
            return receipt(merged.outcome)

        return retry_on_conflict(attempt, self._sleep)


def _refuse_future(parsed: ParsedEvent, now: datetime) -> None:
    event = parsed.event
    if event.occurred_at > now + MAX_CLOCK_SKEW:
        raise InvalidPayload(
            f"event time: {format_iso(event.occurred_at)} (event {event.event_id[:64]!r}) is more than "
            f"{MAX_CLOCK_SKEW.seconds // 60} minutes ahead of this service's clock")
