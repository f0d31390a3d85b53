"""What the app really answers matches what openapi.yaml documents, route by route: the
schemas are checked against live responses, not only the route list."""
from __future__ import annotations

import json

import pytest

from tests.support.openapi import schema_errors
from tests.support.signing import fixture_bytes, generic_headers, square_headers, stripe_headers

PI = "pi_3QkAcmeKit7Zx1aP3RjdmSlP"
EVENT = "evt_3QkAcmeKitf1KuTe0EWotnG3"


def documented(path: str, method: str, response) -> None:
    # A view returning a dict leaves the header to Chalice, whose default is JSON.
    content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "application/json")
    media_type = content_type.split(";")[0].strip()
    body = response.json_body if media_type == "application/json" else response.body.decode()
    assert schema_errors(path, method, response.status_code, body, media_type) == [], body


@pytest.fixture
def stored(client):
    """A Stripe payment and its refund, a Square payment and a generic one, stored."""
    for name in ("payment_intent.succeeded", "charge.refunded"):
        body = fixture_bytes("stripe", name)
        documented("/webhooks/{provider}", "post",
                   client.http.post("/webhooks/stripe", headers=stripe_headers(body), body=body))
    body = fixture_bytes("square", "payment.updated")
    documented("/webhooks/{provider}", "post",
               client.http.post("/webhooks/square", headers=square_headers(body), body=body))
    body = fixture_bytes("generic", "payment.succeeded")
    documented("/webhooks/{provider}", "post",
               client.http.post("/webhooks/generic", headers=generic_headers(body, "msg_1"), body=body))
    return client


def test_webhook_receipts_and_the_adyen_acknowledgement_match_the_document(client) -> None:
    body = fixture_bytes("adyen", "AUTHORISATION_success_true")
    response = client.http.post("/webhooks/adyen", headers={"Content-Type": "application/json"}, body=body)
    assert response.status_code == 200
    documented("/webhooks/{provider}", "post", response)


def test_reads_and_replay_match_the_document(stored) -> None:
    client = stored
    documented("/transactions/{provider}/{payment_id}", "get", client.http.get(f"/transactions/stripe/{PI}"))
    documented("/transactions/{provider}/{payment_id}", "get", client.http.get("/transactions/generic/ord-1001"))
    listing = client.http.get("/transactions?customer_id=cus_cat9ag498dyT5b&limit=1")
    assert listing.json_body["items"]
    documented("/transactions", "get", listing)
    documented("/events/{provider}/{event_id}", "get", client.http.get(f"/events/stripe/{EVENT}"))
    documented("/events/{provider}/{event_id}/replay", "post", client.http.post(f"/events/stripe/{EVENT}/replay"))
    documented("/analytics/daily", "get", client.http.get("/analytics/daily?from=2026-01-01&to=2026-01-31"))
    documented("/health", "get", client.http.get("/health"))


def test_errors_match_the_document(client) -> None:
    body = fixture_bytes("stripe", "payment_intent.succeeded")
    json_headers = {"Content-Type": "application/json"}
    cases = [
        ("/webhooks/{provider}", "post", client.http.post("/webhooks/stripe", headers=json_headers, body=body), 401),
        ("/webhooks/{provider}", "post", client.http.post("/webhooks/nope", headers=json_headers, body=b"{}"), 404),
        ("/webhooks/{provider}", "post",
         client.http.post("/webhooks/generic", headers=generic_headers(b"[1]", "msg_2"), body=b"[1]"), 400),
        ("/webhooks/{provider}", "post",
         client.http.post("/webhooks/stripe", headers={"Content-Type": "text/plain"}, body=body), 415),
        ("/webhooks/{provider}", "post", client.http.get("/webhooks/stripe"), 405),
        ("/transactions/{provider}/{payment_id}", "get", client.http.get("/transactions/stripe/none"), 404),
        ("/transactions", "get", client.http.get("/transactions?limit=0&merchant_id=m"), 400),
        ("/analytics/daily", "get", client.http.get("/analytics/daily?from=2026-02-01&to=2026-01-01"), 400),
    ]
    for path, method, response, status in cases:
        assert response.status_code == status, (path, json.dumps(response.json_body))
        documented(path, method, response)
