"""The sync service's own arithmetic: what it counts and the progress it reports per page.
(Against storage, through the real ingest service: tests/integration/services/test_provider_sync.py.)"""
from __future__ import annotations

from itertools import count

from chalicelib.domain.events import Outcome
from chalicelib.errors import InvalidPayload
from chalicelib.services.ingest import EventReceipt, Receipt
from chalicelib.services.provider_sync import ProviderEvent, ProviderSyncService, SyncProgress


def answers(outcomes: dict[bytes, Outcome | Exception]):
    def ingest(provider: str, raw: bytes) -> Receipt:
        outcome = outcomes[raw]
        if isinstance(outcome, Exception):
            raise outcome
        return Receipt(provider, [EventReceipt(raw.decode(), "pi_1", outcome)])
    return ingest


def test_every_outcome_is_counted_and_new_is_what_this_run_stored() -> None:
    outcomes = {b"a": Outcome.APPLIED, b"b": Outcome.STALE, b"c": Outcome.IGNORED, b"d": Outcome.DUPLICATE,
                b"e": Outcome.APPLIED, b"f": InvalidPayload("data.object.amount: is required")}
    pages = [[ProviderEvent(raw.decode(), raw) for raw in (b"a", b"b", b"c")],
             [ProviderEvent(raw.decode(), raw) for raw in (b"d", b"e", b"f")]]
    report = ProviderSyncService(answers(outcomes)).sync("stripe", pages)
    assert report.as_dict() == {
        "provider": "stripe", "pages": 2, "events": 6, "new": 4, "applied": 2, "stale": 1, "ignored": 1,
        "duplicate": 1, "refused": [{"id": "f", "error": "data.object.amount: is required"}],
    }


def test_progress_is_reported_after_every_page_with_events_per_second_since_the_start() -> None:
    seconds = count(0, 2)  # each reading of the clock is two seconds after the last
    seen: list[SyncProgress] = []
    pages = [[ProviderEvent("a", b"a")] * 3, [], [ProviderEvent("a", b"a")]]
    ProviderSyncService(answers({b"a": Outcome.DUPLICATE}), monotonic=lambda: next(seconds)).sync(
        "square", pages, on_page=seen.append)
    assert [(p.page, p.events, p.elapsed_seconds, p.events_per_second) for p in seen] == [
        (1, 3, 2, 1.5), (2, 3, 4, 0.75), (3, 4, 6, 4 / 6)]
