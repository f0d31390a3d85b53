"""The receivers and query API through the app, against the emulator (contract 1, 2, 5)."""
from __future__ import annotations

import json
import time

from chalicelib import wiring
from tests.support.signing import (
    fixture_bytes, generic_headers, payment_intent, stripe_event, stripe_headers,
)

PI = "pi_3QkAcmeKit7Zx1aP3RjdmSlP"


def post_stripe(client, body: bytes, **kwargs):
    return client.http.post("/webhooks/stripe", headers=stripe_headers(body, **kwargs), body=body)


def test_a_signed_stripe_payment_is_stored_and_can_be_read_back(client) -> None:
    body = fixture_bytes("stripe", "payment_intent.succeeded")
    response = post_stripe(client, body)
    assert response.status_code == 200
    assert response.json_body == {"received": 1, "events": [
        {"event_id": "evt_3QkAcmeKitf1KuTe0EWotnG3", "transaction": f"stripe/{PI}", "outcome": "applied"}]}

    txn = client.http.get(f"/transactions/stripe/{PI}").json_body
    assert (txn["status"], txn["amount"], txn["currency"], txn["amount_refunded"]) == ("succeeded", 2000, "USD", 0)
    assert txn["customer_id"] == "cus_cat9ag498dyT5b"
    assert txn["created_at"] == "2026-01-01T10:00:00Z"
    assert [e["outcome"] for e in txn["events"]] == ["applied"]

    event = client.http.get("/events/stripe/evt_3QkAcmeKitf1KuTe0EWotnG3").json_body
    assert event["transaction"] == f"stripe/{PI}" and event["type"] == "payment_intent.succeeded"


def test_a_redelivery_is_a_duplicate_and_a_refund_then_wins(client) -> None:
    succeeded = fixture_bytes("stripe", "payment_intent.succeeded")
    refunded = fixture_bytes("stripe", "charge.refunded")
    assert post_stripe(client, refunded).json_body["events"][0]["outcome"] == "applied"
    assert post_stripe(client, succeeded).json_body["events"][0]["outcome"] == "applied"
    assert post_stripe(client, succeeded).json_body["events"][0]["outcome"] == "duplicate"
    txn = client.http.get(f"/transactions/stripe/{PI}").json_body
    assert (txn["status"], txn["amount_refunded"], txn["created_at"]) == ("refunded", 2000, "2026-01-01T10:00:00Z")


def test_an_older_event_after_a_newer_one_is_stale(client) -> None:
    newer = stripe_event("evt_b", "payment_intent.succeeded", 1767261700, payment_intent("pi_x", "succeeded"))
    older = stripe_event("evt_a", "payment_intent.processing", 1767261650, payment_intent("pi_x", "processing"))
    assert post_stripe(client, newer).json_body["events"][0]["outcome"] == "applied"
    assert post_stripe(client, older).json_body["events"][0]["outcome"] == "stale"
    txn = client.http.get("/transactions/stripe/pi_x").json_body
    assert txn["status"] == "succeeded"
    assert [(e["event_id"], e["outcome"]) for e in txn["events"]] == [("evt_b", "applied"), ("evt_a", "stale")]


def test_an_unknown_stripe_event_type_is_stored_and_ignored(client) -> None:
    body = json.dumps({"id": "evt_c1", "type": "customer.created", "created": 1767261600,
                       "data": {"object": {"id": "cus_1"}}}).encode()
    response = post_stripe(client, body)
    assert response.status_code == 200
    assert response.json_body["events"] == [{"event_id": "evt_c1", "transaction": None, "outcome": "ignored"}]
    assert client.http.get("/events/stripe/evt_c1").json_body["outcome"] == "ignored"


def test_a_generic_event_signed_with_standard_webhooks_is_applied(client) -> None:
    body = fixture_bytes("generic", "payment.succeeded")
    response = client.http.post("/webhooks/generic", headers=generic_headers(body, "msg_1"), body=body)
    assert response.status_code == 200, response.body
    assert response.json_body["events"][0] == {"event_id": "msg_1", "transaction": "generic/ord-1001", "outcome": "applied"}
    txn = client.http.get("/transactions/generic/ord-1001").json_body
    assert (txn["status"], txn["amount"], txn["currency"], txn["merchant_id"]) == ("succeeded", 12550, "EUR", "m-42")


def test_wrong_signature_is_401_and_stores_nothing(client) -> None:
    body = fixture_bytes("stripe", "payment_intent.succeeded")
    response = post_stripe(client, body, secret="whsec_not_ours")
    assert response.status_code == 401
    assert response.json_body["error"] == "invalid_signature"
    assert "whsec" not in response.body.decode() and "v1=" not in response.body.decode()
    assert client.http.get(f"/transactions/stripe/{PI}").status_code == 404
    assert client.http.get("/events/stripe/evt_3QkAcmeKitf1KuTe0EWotnG3").status_code == 404


def test_an_expired_signature_is_401(client) -> None:
    body = fixture_bytes("stripe", "payment_intent.succeeded")
    response = post_stripe(client, body, timestamp=int(time.time()) - 301)
    assert (response.status_code, response.json_body["error"]) == (401, "invalid_signature")


def test_the_stages_signature_tolerance_setting_reaches_the_receivers(client, monkeypatch) -> None:
    monkeypatch.setenv("SIGNATURE_TOLERANCE_SECONDS", "30")
    wiring.reset()
    body = fixture_bytes("stripe", "payment_intent.succeeded")
    response = post_stripe(client, body, timestamp=int(time.time()) - 60)
    assert (response.status_code, response.json_body["error"]) == (401, "invalid_signature")
    assert "the tolerance is 30 s" in response.json_body["message"]
    event_id = "msg_tolerance_1"
    generic = fixture_bytes("generic", "payment.succeeded")
    headers = generic_headers(generic, event_id, timestamp=int(time.time()) - 60)
    response = client.http.post("/webhooks/generic", headers=headers, body=generic)
    assert (response.status_code, response.json_body["error"]) == (401, "invalid_signature")
    assert post_stripe(client, body, timestamp=int(time.time()) - 20).status_code == 200


def test_a_signed_body_that_is_not_json_is_400_naming_the_problem(client) -> None:
    body = b"{not json"
    response = post_stripe(client, body)
    assert response.status_code == 400
    assert response.json_body["error"] == "invalid_payload" and response.json_body["message"]


def test_an_invalid_field_is_400_naming_it(client) -> None:
    body = stripe_event("evt_bad", "payment_intent.succeeded", 1767261600,
                        dict(payment_intent("pi_bad", "succeeded"), currency="zzz"))
    response = post_stripe(client, body)
    assert response.status_code == 400
    assert "currency" in response.json_body["message"]


def test_unknown_provider_is_404(client) -> None:
    response = client.http.post("/webhooks/worldpay", headers={"Content-Type": "application/json"}, body=b"{}")
    assert (response.status_code, response.json_body["error"]) == (404, "unknown_provider")


def test_a_body_over_256_kib_is_413_before_anything_else(client) -> None:
    body = b'{"pad": "' + b"x" * (256 * 1024) + b'"}'
    response = client.http.post("/webhooks/stripe", headers={"Content-Type": "application/json"}, body=body)
    assert (response.status_code, response.json_body["error"]) == (413, "payload_too_large")


def test_wrong_media_type_and_method_answer_in_the_contract_shape(client) -> None:
    response = client.http.post("/webhooks/stripe", headers={"Content-Type": "text/plain"}, body=b"x")
    assert (response.status_code, response.json_body["error"]) == (415, "unsupported_media_type")
    response = client.http.get("/webhooks/stripe")
    assert (response.status_code, response.json_body["error"]) == (405, "method_not_allowed")


def test_unknown_ids_are_404_and_bad_ids_400(client) -> None:
    assert client.http.get("/transactions/stripe/pi_none").json_body["error"] == "not_found"
    assert client.http.get("/events/stripe/evt_none").status_code == 404
    assert client.http.get("/transactions/stripe/a%2Fb").json_body["error"] == "invalid_request"


def test_percent_encoded_ids_are_decoded(client) -> None:
    body = stripe_event("evt_sp", "payment_intent.succeeded", 1767261600, payment_intent("pi with space", "succeeded"))
    assert post_stripe(client, body).status_code == 200
    assert client.http.get("/transactions/stripe/pi%20with%20space").json_body["id"] == "pi with space"


def test_listing_pages_newest_first_with_a_tamper_evident_cursor(client) -> None:
    for n in range(5):
        body = stripe_event(f"evt_l{n}", "payment_intent.succeeded", 1767261600 + n,
                            payment_intent(f"pi_l{n}", "succeeded", created=1767261600 + n, merchant="m-list"))
        assert post_stripe(client, body).status_code == 200
    first = client.http.get("/transactions?merchant_id=m-list&limit=2").json_body
    assert [t["id"] for t in first["items"]] == ["pi_l4", "pi_l3"]
    assert "events" not in first["items"][0]
    second = client.http.get(f"/transactions?merchant_id=m-list&limit=2&cursor={first['next_cursor']}").json_body
    assert [t["id"] for t in second["items"]] == ["pi_l2", "pi_l1"]
    third = client.http.get(f"/transactions?merchant_id=m-list&limit=2&cursor={second['next_cursor']}").json_body
    assert [t["id"] for t in third["items"]] == ["pi_l0"] and third["next_cursor"] is None

    tampered = first["next_cursor"][:-2] + ("AA" if not first["next_cursor"].endswith("AA") else "BB")
    for query in (f"merchant_id=m-list&cursor={tampered}", f"merchant_id=m-other&cursor={first['next_cursor']}",
                  "merchant_id=m-list&limit=0", "merchant_id=m-list&limit=201", "limit=5",
                  "merchant_id=m-list&status=paid", "merchant_id=m-list&created_from=yesterday"):
        response = client.http.get(f"/transactions?{query}")
        assert (response.status_code, response.json_body["error"]) == (400, "invalid_request"), query


def test_listing_filters_by_status_and_creation_range(client) -> None:
    for n, status in enumerate(["succeeded", "processing", "succeeded"]):
        kind = "payment_intent.succeeded" if status == "succeeded" else "payment_intent.processing"
        body = stripe_event(f"evt_f{n}", kind, 1767261600 + n * 86400,
                            payment_intent(f"pi_f{n}", status, created=1767261600 + n * 86400, customer="cus_f"))
        assert post_stripe(client, body).status_code == 200
    page = client.http.get("/transactions?customer_id=cus_f&status=succeeded").json_body
    assert [t["id"] for t in page["items"]] == ["pi_f2", "pi_f0"]
    page = client.http.get("/transactions?customer_id=cus_f&created_from=2026-01-02&created_to=2026-01-02").json_body
    assert [t["id"] for t in page["items"]] == ["pi_f1"]


def test_replaying_a_stored_event_is_stale_when_nothing_changed(client) -> None:
    body = fixture_bytes("stripe", "payment_intent.succeeded")
    post_stripe(client, body)
    response = client.http.post("/events/stripe/evt_3QkAcmeKitf1KuTe0EWotnG3/replay")
    assert response.json_body == {"event_id": "evt_3QkAcmeKitf1KuTe0EWotnG3", "outcome": "stale"}
    assert client.http.post("/events/stripe/evt_none/replay").status_code == 404


def test_health_answers_without_storage(client) -> None:
    assert client.http.get("/health").json_body == {"status": "ok"}


def test_a_storage_failure_answers_503_so_the_provider_retries(client) -> None:
    from botocore.awsrequest import AWSResponse

    from chalicelib import wiring

    def fail(model, **_):
        return (AWSResponse("", 500, {}, None), {"Error": {"Code": "InternalServerError", "Message": "x"},
                                                 "ResponseMetadata": {"HTTPStatusCode": 500}})

    wiring.aws_client("dynamodb").meta.events.register("before-call.dynamodb.TransactWriteItems", fail)
    response = post_stripe(client, fixture_bytes("stripe", "payment_intent.succeeded"))
    assert (response.status_code, response.json_body["error"]) == (503, "unavailable")
    assert "Traceback" not in response.body.decode()
