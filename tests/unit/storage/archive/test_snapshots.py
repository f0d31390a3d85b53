"""An archive line is the transaction document the API answers, and reads back. Pure."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from chalicelib.api.views import transaction as transaction_view
from chalicelib.domain.events import CanonicalEvent, PaymentFacts
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import merge_event
from chalicelib.storage.archive.snapshots import Snapshot, read_snapshot, snapshot_line

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def event(event_id: str, minute: int, status: Status, **facts: object) -> CanonicalEvent:
    return CanonicalEvent(provider="adyen", event_id=event_id, type=event_id, payment_id="PSP1",
                          occurred_at=T0 + timedelta(minutes=minute), status=status,
                          facts=PaymentFacts(**facts))


def test_a_snapshot_line_is_the_transaction_as_get_answers_it_on_one_line() -> None:
    txn = merge_event(None, event("AUTHORISATION", 0, Status.SUCCEEDED, amount=900, currency="EUR"), T0).transaction
    line = snapshot_line(txn)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == transaction_view(txn)
    assert list(json.loads(line)) == list(transaction_view(txn))


def test_a_snapshot_line_reads_back_as_whose_it_is_and_its_events() -> None:
    txn = merge_event(None, event("AUTHORISATION", 0, Status.SUCCEEDED, amount=900), T0).transaction
    txn = merge_event(txn, event("REFUND", 5, Status.REFUNDED), T0 + timedelta(minutes=6)).transaction
    assert read_snapshot(snapshot_line(txn)) == Snapshot("adyen", "PSP1", txn.events)


def test_the_same_state_always_gives_the_same_line() -> None:
    first = merge_event(None, event("AUTHORISATION", 0, Status.SUCCEEDED, amount=900), T0).transaction
    again = merge_event(None, event("AUTHORISATION", 0, Status.SUCCEEDED, amount=900), T0).transaction
    assert snapshot_line(first) == snapshot_line(again)
