"""The transaction and event record documents (contract section 2), written once. Pure."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.domain.documents import (
    archive_pointer_document, archive_pointer_from_document, event_record_document,
    event_record_from_document, transaction_document,
)
from chalicelib.domain.events import CanonicalEvent, Outcome, PaymentFacts
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import ArchivePointer, EventRecord, merge_event

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def succeeded() -> CanonicalEvent:
    return CanonicalEvent(
        provider="stripe", event_id="evt_1", type="payment_intent.succeeded", occurred_at=T0,
        payment_id="pi_1", status=Status.SUCCEEDED,
        facts=PaymentFacts(amount=2000, currency="usd", merchant_id="acct_1", created_at=T0),
    )


def test_an_event_record_document_reads_back_as_the_same_record() -> None:
    record = EventRecord(event_id="evt_1", type="charge.refunded", occurred_at=T0,
                         received_at=T0 + timedelta(microseconds=5), outcome=Outcome.STALE)
    document = event_record_document(record)
    assert document == {
        "event_id": "evt_1", "type": "charge.refunded", "occurred_at": "2026-11-20T10:00:00Z",
        "received_at": "2026-11-20T10:00:00.000005Z", "outcome": "stale",
    }
    assert event_record_from_document(document) == record


def test_an_archive_pointer_document_reads_back_as_the_same_pointer() -> None:
    pointer = ArchivePointer(at=T0, object="s3://bucket/transactions/part-00000.jsonl.gz")
    assert archive_pointer_document(pointer) == {"at": "2026-11-20T10:00:00Z", "object": pointer.object}
    assert archive_pointer_from_document(archive_pointer_document(pointer)) == pointer


def test_a_transaction_document_lists_the_contract_fields_in_order_then_its_events() -> None:
    txn = merge_event(None, succeeded(), T0 + timedelta(seconds=1)).transaction
    document = transaction_document(txn)
    assert list(document) == [
        "provider", "id", "status", "amount", "currency", "amount_refunded", "merchant_id",
        "customer_id", "payment_method", "live", "created_at", "updated_at", "last_event_at",
        "risk", "events",
    ]
    assert document["risk"] is None  # until the first assessment (docs/api.md section 8)
    assert document["status"] == "succeeded" and document["currency"] == "USD"
    assert document["events"] == [event_record_document(record) for record in txn.events]


def test_a_listed_transaction_has_no_events_and_an_archived_one_names_its_part() -> None:
    pointer = ArchivePointer(at=T0, object="s3://bucket/part")
    txn = merge_event(None, succeeded(), T0).transaction.model_copy(update={"archived": pointer, "events": ()})
    assert "events" not in transaction_document(txn, with_events=False)
    assert transaction_document(txn)["archived"] == {"at": "2026-11-20T10:00:00Z", "object": "s3://bucket/part"}
