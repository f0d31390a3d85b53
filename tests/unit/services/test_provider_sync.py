"""The sync service's own arithmetic: what it counts and the progress it reports per page.
(Against storage, through the real ingest service: tests/integration/services/test_provider_sync.py.)"""
from __future__ import annotations

from itertools import count

from collections.abc import Sequence
from types import SimpleNamespace

from chalicelib.domain.events import Outcome
from chalicelib.errors import InvalidPayload
from chalicelib.providers.base import WebhookRequest
from chalicelib.services.ingest import EventReceipt
from chalicelib.services.provider_sync import ProviderEvent, ProviderSyncService, SyncProgress


class Answers:
    """A provider whose parse refuses what `outcomes` says to, and an ingest door that
    answers each event its outcome; what the door was handed is kept."""

    dedupe_forever = True

    def __init__(self, outcomes: dict[bytes, Outcome | Exception]) -> None:
        self.outcomes = outcomes
        self.accepted: list[tuple[bytes, bool]] = []

    def parse(self, request: WebhookRequest) -> list[SimpleNamespace]:
        outcome = self.outcomes[request.raw_body]
        if isinstance(outcome, Exception):
            raise outcome
        return [SimpleNamespace(raw=request.raw_body)]

    def accept_verified(self, events: Sequence[SimpleNamespace], *, dedupe_forever: bool) -> list[EventReceipt]:
        self.accepted += [(event.raw, dedupe_forever) for event in events]
        return [EventReceipt(event.raw.decode(), "pi_1", self.outcomes[event.raw]) for event in events]

    def service(self, **options) -> ProviderSyncService:
        return ProviderSyncService(lambda _provider: self, self, **options)


def test_every_outcome_is_counted_and_new_is_what_this_run_stored() -> None:
    outcomes = {b"a": Outcome.APPLIED, b"b": Outcome.STALE, b"c": Outcome.IGNORED, b"d": Outcome.DUPLICATE,
                b"e": Outcome.APPLIED, b"f": InvalidPayload("data.object.amount: is required")}
    pages = [[ProviderEvent(raw.decode(), raw) for raw in (b"a", b"b", b"c")],
             [ProviderEvent(raw.decode(), raw) for raw in (b"d", b"e", b"f")]]
    answers = Answers(outcomes)
    report = answers.service().sync("stripe", pages)
    assert answers.accepted == [(raw, True) for raw in (b"a", b"b", b"c", b"d", b"e")]  # the provider's dedupe rule
    assert report.as_dict() == {
        "provider": "stripe", "pages": 2, "events": 6, "new": 4, "applied": 2, "stale": 1, "ignored": 1,
        "duplicate": 1, "refused": [{"id": "f", "error": "data.object.amount: is required"}],
    }


def test_progress_is_reported_after_every_page_with_events_per_second_since_the_start() -> None:
    seconds = count(0, 2)  # each reading of the clock is two seconds after the last
    seen: list[SyncProgress] = []
    pages = [[ProviderEvent("a", b"a")] * 3, [], [ProviderEvent("a", b"a")]]
    Answers({b"a": Outcome.DUPLICATE}).service(monotonic=lambda: next(seconds)).sync(
        "square", pages, on_page=seen.append)
    assert [(p.page, p.events, p.elapsed_seconds, p.events_per_second) for p in seen] == [
        (1, 3, 2, 1.5), (2, 3, 4, 0.75), (3, 4, 6, 4 / 6)]
