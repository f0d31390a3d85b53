"""Reconciling exports with the store on the emulator: every kind of difference found,
archived transactions counted, and the backfill applying what differs exactly once."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.ledger_export import MalformedExport
from tests.support.archival import NOW, archival, plenty
from tests.support.reconciliation import DAY, as_csv, as_json_lines, deliver, record

OLD_DAY = (NOW - timedelta(days=40)).replace(hour=9, minute=0, second=0)


@pytest.fixture
def store(services):
    """Our side: one webhook per payment (two for the refund), one old day archived."""
    deliver(services, "g-match")
    deliver(services, "g-amount", amount=2500)
    deliver(services, "g-status")
    deliver(services, "g-currency", currency="USD")
    deliver(services, "g-refund")
    deliver(services, "g-refund", "refunded", refunded=2000, at=DAY + timedelta(hours=2))
    deliver(services, "g-extra", created_at=DAY + timedelta(hours=3))
    deliver(services, "g-other-day", created_at=DAY + timedelta(days=1))
    deliver(services, "g-archived", created_at=OLD_DAY)
    deliver(services, "g-archived-extra", created_at=OLD_DAY + timedelta(minutes=1))
    assert archival(services).run(plenty).archived == 2
    assert services.transactions().get("generic", "g-archived").archived is not None
    return services


LEGACY = [
    record("g-match"),
    record("g-amount"),
    record("g-status", "failed"),
    record("g-currency"),
    record("g-refund", amount_refunded=0),
    record("g-missing"),
    record("g-archived", created_at=OLD_DAY),
]

EXPECTED = {
    "checked": 7, "matched": 2,
    "missing": [{"provider": "generic", "id": "g-missing"}],
    "mismatched": [
        {"provider": "generic", "id": "g-amount", "fields": {"amount": {"theirs": 2000, "ours": 2500}}},
        {"provider": "generic", "id": "g-status", "fields": {"status": {"theirs": "failed", "ours": "succeeded"}}},
        {"provider": "generic", "id": "g-currency", "fields": {"currency": {"theirs": "EUR", "ours": "USD"}}},
        {"provider": "generic", "id": "g-refund", "fields": {
            "status": {"theirs": "succeeded", "ours": "refunded"},
            "amount_refunded": {"theirs": 0, "ours": 2000}}},
    ],
    "extra": [{"provider": "generic", "id": "g-archived-extra"}, {"provider": "generic", "id": "g-extra"}],
}


def test_an_export_is_reconciled_with_every_kind_of_difference_named_in_csv_and_json_lines(store) -> None:
    for encode in (as_csv, as_json_lines):
        report = store.reconciliation_service().reconcile("legacy", encode(LEGACY).splitlines(keepends=True))

        assert report.as_dict() == {"source": "legacy", **EXPECTED}, encode.__name__
        assert report.differs


def test_an_export_of_exactly_what_is_stored_matches(store) -> None:
    same = [record("g-match"), record("g-extra", created_at=DAY + timedelta(hours=3))]
    report = store.reconciliation_service().reconcile("same", as_csv(same).splitlines())
    # the day's other payments are ours alone: the export covers that day
    assert [e["id"] for e in report.extra] == ["g-amount", "g-currency", "g-refund", "g-status"]
    exact = [record("g-other-day", created_at=DAY + timedelta(days=1))]
    report = store.reconciliation_service().reconcile("exact", as_json_lines(exact).splitlines())
    assert (report.checked, report.matched, report.differs) == (1, 1, False)


def test_lookups_are_batched_a_hundred_keys_a_request(services) -> None:
    for n in range(3):
        deliver(services, f"g-{n}")
    legacy = [record(f"g-{n}") for n in range(250)]
    payments = services.reconciled_payments()
    report = services.reconciliation_service().reconcile("big", as_csv(legacy).splitlines())
    assert (report.matched, len(report.missing)) == (3, 247)
    assert payments.requests == 3 + 1  # three BatchGetItem, one index page for the one day


def test_a_malformed_line_stops_the_reconciliation_naming_line_and_field(services) -> None:
    lines = as_csv([record("g-1"), record("g-2", currency="EURO")]).splitlines()
    with pytest.raises(MalformedExport) as raised:
        services.reconciliation_service().reconcile("bad", lines)
    assert (raised.value.line, raised.value.field) == (3, "currency")


def test_backfill_applies_what_differs_once_a_later_webhook_still_wins_and_its_events_replay(store) -> None:
    legacy = [
        record("g-match"),
        record("g-missing", "pending", merchant_id="m-1"),
        record("g-amount", amount=2000, updated_at=DAY + timedelta(hours=1)),  # newer than our webhook
        record("g-status", "failed"),  # timed at its creation: older than ours, stale
    ]
    lines = as_json_lines(legacy).splitlines()
    first = store.reconciliation_service().backfill(lines, store.ingest_service())
    again = store.reconciliation_service().backfill(lines, store.ingest_service())

    assert first.as_dict() == {"applied": 2, "duplicate": 0, "stale": 1, "matched": 1}
    assert again.as_dict() == {"applied": 0, "duplicate": 1, "stale": 0, "matched": 3}
    missing = store.transactions().get("generic", "g-missing")
    assert (missing.status.value, missing.amount, missing.events[0].event_id) == (
        "pending", 2000, "legacy:generic:g-missing:pending")
    assert store.transactions().get("generic", "g-amount").amount == 2000
    assert deliver(store, "g-missing", "succeeded", at=DAY + timedelta(minutes=1)) == "applied"
    assert store.transactions().get("generic", "g-missing").status.value == "succeeded"

    replayed = store.replay_service().replay("generic", "legacy:generic:g-amount:succeeded")
    assert replayed.outcome.value == "stale"  # a stored legacy event replays like a webhook
