"""Replays that outlive the event item (contract section 2): for Adyen and Square, whose
signatures cover no timestamp, an event id is a duplicate for ever, on every path; and no
provider's event may be dated more than 15 minutes ahead of the service's clock."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

from tests.support.signing import (
    adyen_body, adyen_item, payment_intent, square_headers, stripe_event, stripe_headers,
)


def expire(aws, provider: str, event_id: str) -> None:
    """What TTL does to the event item (and its raw body) after the retention period."""
    aws.client("dynamodb").delete_item(TableName=aws.outputs["EventsTableName"],
                                       Key={"pk": {"S": f"{provider}#{event_id}"}})


def post_adyen(client, body: bytes):
    return client.http.post("/webhooks/adyen", headers={"Content-Type": "application/json"}, body=body)


def test_a_replayed_adyen_authorisation_cannot_roll_back_a_refund_after_its_event_item_expired(client, aws) -> None:
    authorisation = adyen_item("PSP_REPLAY", "AUTHORISATION", 5000, at="2026-01-01T10:00:00+00:00")
    assert post_adyen(client, adyen_body(authorisation)).status_code == 200
    refund = adyen_item("PSP_REPLAY_R", "REFUND", 5000, original="PSP_REPLAY", at="2026-01-02T10:00:00+00:00")
    assert post_adyen(client, adyen_body(refund)).status_code == 200
    expire(aws, "adyen", "PSP_REPLAY:AUTHORISATION:true")

    # eventDate is not covered by Adyen's HMAC: the same signature, a later date.
    replayed = {**authorisation, "eventDate": "2026-01-03T10:00:00+00:00"}
    response = post_adyen(client, adyen_body(replayed))
    assert (response.status_code, response.body) == (200, b"[accepted]")
    txn = client.http.get("/transactions/adyen/PSP_REPLAY").json_body
    assert (txn["status"], txn["amount_refunded"]) == ("refunded", 5000)
    assert client.http.get("/events/adyen/PSP_REPLAY:AUTHORISATION:true").status_code == 404  # not stored again


def test_a_square_event_redelivered_after_its_event_item_expired_is_a_duplicate(client, aws) -> None:
    body = json.dumps({"event_id": "sq-late-1", "type": "customer.created", "merchant_id": "M1",
                       "created_at": "2026-01-01T10:00:00Z", "data": {"object": {}}}).encode()
    first = client.http.post("/webhooks/square", headers=square_headers(body), body=body)
    assert first.json_body["events"][0]["outcome"] == "ignored"
    expire(aws, "square", "sq-late-1")
    again = client.http.post("/webhooks/square", headers=square_headers(body), body=body)
    assert (again.status_code, again.json_body["events"][0]["outcome"]) == (200, "duplicate")


def test_schemes_with_a_signed_timestamp_keep_no_permanent_key(client, aws) -> None:
    body = stripe_event("evt_no_seen", "payment_intent.succeeded", 1767261600, payment_intent("pi_no_seen", "succeeded"))
    assert client.http.post("/webhooks/stripe", headers=stripe_headers(body), body=body).status_code == 200
    items = aws.client("dynamodb").scan(TableName=aws.outputs["EventsTableName"])["Items"]
    assert [item["pk"]["S"] for item in items] == ["stripe#evt_no_seen"]


def test_an_event_dated_more_than_15_minutes_ahead_is_invalid_payload_for_every_provider(client) -> None:
    now = int(time.time())
    late = stripe_event("evt_future", "payment_intent.succeeded", now + 16 * 60, payment_intent("pi_future", "succeeded"))
    response = client.http.post("/webhooks/stripe", headers=stripe_headers(late), body=late)
    assert (response.status_code, response.json_body["error"]) == (400, "invalid_payload")
    assert "event time" in response.json_body["message"]
    assert client.http.get("/transactions/stripe/pi_future").status_code == 404

    soon = stripe_event("evt_soon", "payment_intent.succeeded", now + 14 * 60, payment_intent("pi_soon", "succeeded"))
    assert client.http.post("/webhooks/stripe", headers=stripe_headers(soon), body=soon).status_code == 200


def test_one_future_dated_item_refuses_the_whole_adyen_batch(client) -> None:
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    batch = adyen_body(adyen_item("PSP_NOW", "AUTHORISATION", 100),
                       adyen_item("PSP_LATER", "AUTHORISATION", 100, at=future))
    response = post_adyen(client, batch)
    assert (response.status_code, response.json_body["error"]) == (400, "invalid_payload")
    assert client.http.get("/transactions/adyen/PSP_NOW").status_code == 404
