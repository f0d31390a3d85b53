"""Provider sync (docs/api.md section 10): events read back from a provider's own events
API, fed through the webhook path so that webhooks that never arrived are not lost.

Provider-neutral: the caller hands over pages of events as the provider's API returned
them (the SDK adapters that fetch them live outside the Lambda package). Each event is
parsed by the provider's own module, as its webhook would be, and handed to
`IngestService.accept_verified` (the API key that fetched it authenticated it: there is no
signature to check), under the provider's own event id: an event that did arrive as a
webhook is a `duplicate`, a rerun is all `duplicate`, and so is a webhook arriving later.
Nothing here writes a table directly."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.events import Outcome
from chalicelib.errors import InvalidPayload
from chalicelib.providers.base import WebhookProvider, WebhookRequest
from chalicelib.services.ports import VerifiedIngest


@dataclass(frozen=True)
class ProviderEvent:
    """One event as the provider's events API returned it: its id (for the report, if the
    event is refused) and its JSON, which is what the webhook would have carried."""

    event_id: str
    raw: bytes


@dataclass
class SyncReport:
    """What a sync did. `new` counts the events this run stored (the contract's figure):
    `applied` to their transaction, `stale` (older than what the transaction already
    knew, kept in its history) or `ignored` (not about a payment). `duplicate` ones were
    stored already, by a webhook or an earlier run. `refused` lists events the webhook
    path refused (400 had they been delivered), by id, with the reason."""

    provider: str
    pages: int = 0
    events: int = 0
    applied: int = 0
    stale: int = 0
    ignored: int = 0
    duplicate: int = 0
    refused: list[dict[str, str]] = field(default_factory=list)

    @property
    def new(self) -> int:
        return self.applied + self.stale + self.ignored

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider, "pages": self.pages, "events": self.events, "new": self.new,
            "applied": self.applied, "stale": self.stale, "ignored": self.ignored,
            "duplicate": self.duplicate, "refused": list(self.refused),
        }


@dataclass(frozen=True)
class SyncProgress:
    """After each page: where the run is and how fast it goes (events per second since the
    start, fetching included)."""

    page: int
    events: int
    elapsed_seconds: float
    report: SyncReport

    @property
    def events_per_second(self) -> float:
        return self.events / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


class ProviderSyncService:
    def __init__(self, providers: Callable[[str], WebhookProvider], ingest: VerifiedIngest,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._providers = providers
        self._ingest = ingest
        self._monotonic = monotonic

    def sync(
        self, provider: str, pages: Iterable[Sequence[ProviderEvent]],
        on_page: Callable[[SyncProgress], None] = lambda progress: None,
    ) -> SyncReport:
        """Ingest every event of every page, in the order given. A storage failure
        (`StorageUnavailable`) stops the run where it is: what was stored stays stored, and
        a rerun counts it `duplicate`."""
        parser = self._providers(provider)
        report = SyncReport(provider)
        started = self._monotonic()
        for events in pages:
            report.pages += 1
            for event in events:
                report.events += 1
                try:
                    parsed = parser.parse(WebhookRequest.of(event.raw, {}))
                    receipts = self._ingest.accept_verified(parsed, dedupe_forever=parser.dedupe_forever)
                except InvalidPayload as exc:
                    report.refused.append({"id": event.event_id[:255], "error": exc.message})
                    continue
                for received in receipts:
                    report.count(received.outcome)
            on_page(SyncProgress(report.pages, report.events, self._monotonic() - started, report))
        return report
