"""Replaying reads the raw body back from the events table, in both of its layouts: stored
compressed (as every event is now) and stored as it came (items written before)."""
from __future__ import annotations

from chalicelib.domain.events import Outcome
from chalicelib.storage.codec import to_attributes
from tests.support.signing import fixture_bytes, stripe_headers

BODY = fixture_bytes("stripe", "payment_intent.succeeded")
EVENT_ID, PAYMENT_ID = "evt_3QkAcmeKitf1KuTe0EWotnG3", "pi_3QkAcmeKit7Zx1aP3RjdmSlP"


def forget_the_transaction(services, aws) -> None:
    """Replay then has to rebuild the transaction from the stored body alone."""
    services.aws_client("dynamodb").delete_item(
        TableName=aws.outputs["TransactionsTableName"],
        Key=to_attributes({"pk": f"stripe#{PAYMENT_ID}"}))


def test_a_stored_compressed_event_replays_into_its_transaction(services, aws) -> None:
    services.ingest_service().receive("stripe", BODY, stripe_headers(BODY))
    stored = services.aws_client("dynamodb").get_item(
        TableName=services.events().table_name, Key=to_attributes({"pk": f"stripe#{EVENT_ID}"}))["Item"]
    assert "raw" not in stored and len(stored["raw_zlib"]["B"]) < len(BODY)
    forget_the_transaction(services, aws)

    assert services.replay_service().replay("stripe", EVENT_ID).outcome is Outcome.APPLIED
    txn = services.transactions().get("stripe", PAYMENT_ID)
    assert (txn.amount, txn.currency, txn.status.value) == (2000, "USD", "succeeded")
    assert services.query_service().event("stripe", EVENT_ID).raw == BODY


def test_an_event_stored_uncompressed_before_still_reads_and_replays(services) -> None:
    services.aws_client("dynamodb").put_item(TableName=services.events().table_name, Item=to_attributes({
        "pk": f"stripe#{EVENT_ID}", "provider": "stripe", "event_id": EVENT_ID,
        "type": "payment_intent.succeeded", "occurred_at": "2026-01-01T10:00:02Z",
        "received_at": "2026-01-01T10:00:03Z", "outcome": "applied",
        "transaction": f"stripe/{PAYMENT_ID}", "raw": BODY, "expires_at": 1774951203,
    }))
    assert services.query_service().event("stripe", EVENT_ID).raw == BODY

    assert services.replay_service().replay("stripe", EVENT_ID).outcome is Outcome.APPLIED
    txn = services.transactions().get("stripe", PAYMENT_ID)
    assert (txn.amount, txn.currency, txn.customer_id) == (2000, "USD", "cus_cat9ag498dyT5b")
