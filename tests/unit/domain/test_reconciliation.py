"""Comparing a record with ours: every stated field, in the contract's forms; the legacy
event a backfill applies."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from chalicelib.domain.ledger_export import LedgerRecord
from chalicelib.domain.legacy import legacy_event, parse_legacy_event
from chalicelib.domain.reconciliation import ReconciliationReport, StoredPayment, differences
from chalicelib.domain.status import Status

AT = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
OURS = StoredPayment("stripe", "pi_1", Status.REFUNDED, AT, 2000, "USD", 2000, "acct_1", "cus_1")


def test_only_the_fields_an_export_states_are_compared() -> None:
    theirs = LedgerRecord("stripe", "pi_1", 2000, "USD", Status.REFUNDED, AT)
    assert differences(theirs, OURS) == {}
    told = LedgerRecord("stripe", "pi_1", 2000, "EUR", Status.SUCCEEDED, AT + timedelta(seconds=1),
                        amount_refunded=0, merchant_id="acct_2")
    assert differences(told, OURS) == {
        "currency": {"theirs": "EUR", "ours": "USD"},
        "status": {"theirs": "succeeded", "ours": "refunded"},
        "created_at": {"theirs": "2026-11-20T10:00:01Z", "ours": "2026-11-20T10:00:00Z"},
        "amount_refunded": {"theirs": 0, "ours": 2000},
        "merchant_id": {"theirs": "acct_2", "ours": "acct_1"},
    }


def test_the_report_counts_and_summarises_for_a_person() -> None:
    report = ReconciliationReport("legacy.csv")
    report.compare(LedgerRecord("stripe", "pi_1", 2000, "USD", Status.REFUNDED, AT), OURS)
    report.compare(LedgerRecord("stripe", "pi_2", 1, "USD", Status.PENDING, AT), None)
    report.compare(LedgerRecord("stripe", "pi_1", 2500, "USD", Status.REFUNDED, AT), OURS)
    report.add_extra("stripe", "pi_9")
    assert report.counts() == {"checked": 3, "matched": 1, "missing": 1, "mismatched": 1, "extra": 1}
    assert json.loads(json.dumps(report.as_dict()))["mismatched"] == [
        {"provider": "stripe", "id": "pi_1", "fields": {"amount": {"theirs": 2500, "ours": 2000}}}]
    text = report.summary()
    assert "DIFFERENCES FOUND" in text and "missing    stripe/pi_2" in text and "amount theirs 2500 ours 2000" in text


def test_a_legacy_event_is_timed_at_its_update_and_reads_back_from_its_raw_bytes() -> None:
    record = LedgerRecord("stripe", "pi_1", 2000, "USD", Status.PARTIALLY_REFUNDED, AT, amount_refunded=500,
                          customer_id="cus_1", updated_at=AT + timedelta(days=2))
    parsed = legacy_event(record)
    event = parsed.event
    assert (event.event_id, event.type, event.occurred_at) == (
        "legacy:stripe:pi_1:partially_refunded", "legacy.partially_refunded", AT + timedelta(days=2))
    assert (event.facts.amount, event.facts.amount_refunded, event.facts.created_at) == (2000, 500, AT)
    assert parse_legacy_event(parsed.raw, "stripe") == event
    untimed = legacy_event(LedgerRecord("stripe", "pi_2", 100, "USD", Status.SUCCEEDED, AT, amount_refunded=0))
    assert (untimed.event.occurred_at, untimed.event.facts.amount_refunded) == (AT, None)
