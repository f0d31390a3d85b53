"""The Adyen and Square receivers through the app, against the emulator (contract 1, 2)."""
from __future__ import annotations

import base64
import copy
import itertools
import json

import pytest

from chalicelib import wiring
from tests.support.signing import (
    SECRETS, adyen_body, adyen_item, fixture_bytes, square_headers,
)

PSP = "QFQTPCQ8HXSKGK82"  # the authorisation in tests/fixtures/adyen
SQUARE_PAYMENT = "hYy9pRFVxpDsO1FB05SunFWUe9JZY"  # the payment in tests/fixtures/square
SUMMARY = ("status", "amount", "currency", "amount_refunded", "merchant_id", "customer_id",
           "payment_method", "live", "created_at", "last_event_at")


def post_adyen(client, body: bytes, headers: dict | None = None):
    return client.http.post("/webhooks/adyen", body=body,
                            headers={"Content-Type": "application/json", **(headers or {})})


def accepted(response) -> bool:
    return (response.status_code, response.body) == (200, b"[accepted]")


def transaction(client, provider: str, payment_id: str) -> dict:
    response = client.http.get(f"/transactions/{provider}/{payment_id}")
    assert response.status_code == 200, response.body
    return response.json_body


def summary(txn: dict) -> dict:
    return {name: txn[name] for name in SUMMARY}


# --- Adyen ------------------------------------------------------------------------------


def test_an_adyen_notification_is_answered_exactly_accepted_in_plain_text_and_stored(client) -> None:
    response = post_adyen(client, fixture_bytes("adyen", "AUTHORISATION_success_true"))
    assert response.status_code == 200
    assert response.body == b"[accepted]"
    assert response.headers["Content-Type"] == "text/plain"

    txn = transaction(client, "adyen", PSP)
    assert summary(txn) == {
        "status": "succeeded", "amount": 10100, "currency": "EUR", "amount_refunded": 0,
        "merchant_id": "AcmeKitECOM", "customer_id": "shopper-4711", "payment_method": "visa",
        "live": False, "created_at": "2026-01-01T10:00:05Z", "last_event_at": "2026-01-01T10:00:05Z",
    }
    event = client.http.get(f"/events/adyen/{PSP}:AUTHORISATION:true").json_body
    assert (event["outcome"], event["transaction"], event["type"]) == ("applied", f"adyen/{PSP}", "AUTHORISATION")


def test_an_authorisation_and_its_partial_refund_in_one_batch_end_partially_refunded(client) -> None:
    batch = adyen_body(adyen_item("PSP_A", "AUTHORISATION", 5000),
                       adyen_item("PSP_R1", "REFUND", 1200, original="PSP_A", at="2026-01-02T11:00:00+01:00"))
    assert accepted(post_adyen(client, batch))
    txn = transaction(client, "adyen", "PSP_A")
    assert (txn["status"], txn["amount"], txn["amount_refunded"]) == ("partially_refunded", 5000, 1200)
    assert [e["event_id"] for e in txn["events"]] == ["PSP_A:AUTHORISATION:true", "PSP_R1:REFUND:true"]


def final_states(client, lifecycle) -> list[dict]:
    """Each arrival order of `lifecycle(payment)`'s items, one notification per item, on a
    payment of its own; the summaries the orders end in."""
    states = []
    for n, order in enumerate(itertools.permutations(range(len(lifecycle("P"))))):
        payment = f"PSP_ORDER_{n}"
        items = lifecycle(payment)
        for index in order:
            assert accepted(post_adyen(client, adyen_body(items[index])))
        txn = transaction(client, "adyen", payment)
        assert all(e["outcome"] != "duplicate" for e in txn["events"])
        states.append(summary(txn))
    return states


def test_every_arrival_order_of_an_authorisation_and_two_partial_refunds_ends_the_same(client) -> None:
    def lifecycle(payment: str) -> list[dict]:
        return [
            adyen_item(payment, "AUTHORISATION", 10100, at="2026-01-01T11:00:00+01:00"),
            adyen_item(f"{payment}_R1", "REFUND", 3000, original=payment, at="2026-01-02T11:00:00+01:00"),
            adyen_item(f"{payment}_R2", "REFUND", 2000, original=payment, at="2026-01-03T11:00:00+01:00"),
        ]

    states = final_states(client, lifecycle)
    assert all(state == states[0] for state in states)
    assert (states[0]["status"], states[0]["amount"], states[0]["amount_refunded"]) == ("partially_refunded", 10100, 5000)
    assert states[0]["created_at"] == "2026-01-01T10:00:00Z"


def test_every_arrival_order_of_a_chargeback_after_a_partial_refund_ends_disputed(client) -> None:
    def lifecycle(payment: str) -> list[dict]:
        return [
            adyen_item(payment, "AUTHORISATION", 10100, at="2026-01-01T11:00:00+01:00"),
            adyen_item(f"{payment}_R1", "REFUND", 1100, original=payment, at="2026-01-02T11:00:00+01:00"),
            adyen_item(f"{payment}_CB", "CHARGEBACK", 9000, original=payment, at="2026-01-04T13:55:31+01:00"),
        ]

    states = final_states(client, lifecycle)
    assert all(state == states[0] for state in states)
    assert (states[0]["status"], states[0]["amount"], states[0]["amount_refunded"]) == ("disputed", 10100, 1100)


def test_a_refund_before_its_authorisation_is_resolved_once_the_amount_arrives(client) -> None:
    assert accepted(post_adyen(client, fixture_bytes("adyen", "REFUND")))
    early = transaction(client, "adyen", PSP)
    assert (early["status"], early["amount"], early["amount_refunded"]) == ("partially_refunded", None, 10100)

    assert accepted(post_adyen(client, fixture_bytes("adyen", "AUTHORISATION_success_true")))
    txn = transaction(client, "adyen", PSP)
    assert (txn["status"], txn["amount"], txn["amount_refunded"]) == ("refunded", 10100, 10100)
    assert txn["created_at"] == "2026-01-01T10:00:05Z"
    assert [e["outcome"] for e in txn["events"]] == ["applied", "applied"]

    assert accepted(post_adyen(client, fixture_bytes("adyen", "CHARGEBACK")))
    assert transaction(client, "adyen", PSP)["status"] == "disputed"


def test_a_redelivered_batch_is_accepted_again_and_changes_nothing(client) -> None:
    batch = adyen_body(adyen_item("PSP_D", "AUTHORISATION", 5000),
                       adyen_item("PSP_D_R1", "REFUND", 1000, original="PSP_D", at="2026-01-02T11:00:00+01:00"))
    assert accepted(post_adyen(client, batch))
    first = transaction(client, "adyen", "PSP_D")
    assert accepted(post_adyen(client, batch))
    assert transaction(client, "adyen", "PSP_D") == first
    assert first["amount_refunded"] == 1000

    headers = {"Content-Type": "application/json"}
    receipt = wiring.ingest_service().receive("adyen", batch, headers)
    assert [e.outcome.value for e in receipt.events] == ["duplicate", "duplicate"]


def test_a_batch_with_a_tampered_second_item_is_refused_whole_and_stores_nothing(client) -> None:
    refund = adyen_item("PSP_T_R1", "REFUND", 100, original="PSP_T")
    refund["amount"] = {"currency": "EUR", "value": 5000}  # after signing
    response = post_adyen(client, adyen_body(adyen_item("PSP_T", "AUTHORISATION", 5000), refund))
    assert (response.status_code, response.json_body["error"]) == (401, "invalid_signature")
    assert "notificationItems[1]" in response.json_body["message"]
    assert client.http.get("/transactions/adyen/PSP_T").status_code == 404
    assert client.http.get("/events/adyen/PSP_T:AUTHORISATION:true").status_code == 404


def test_an_adyen_item_signed_with_an_unknown_key_is_401(client) -> None:
    item = adyen_item("PSP_K", "AUTHORISATION", 5000, key="AB" * 32)
    response = post_adyen(client, adyen_body(item))
    assert (response.status_code, response.json_body["error"]) == (401, "invalid_signature")
    assert item["additionalData"]["hmacSignature"] not in response.body.decode()


def test_an_adyen_body_that_is_not_json_is_400(client) -> None:
    response = post_adyen(client, b"notificationItems=1")
    assert (response.status_code, response.json_body["error"]) == (400, "invalid_payload")
    assert response.json_body["message"].startswith("body: ")


def test_a_signed_item_missing_a_field_is_400_naming_it(client) -> None:
    item = adyen_item("PSP_M", "AUTHORISATION", 5000)
    del item["eventDate"]  # not a signed field: the HMAC still matches
    response = post_adyen(client, adyen_body(item))
    assert (response.status_code, response.json_body["error"]) == (400, "invalid_payload")
    assert response.json_body["message"].startswith("notificationItems[0].NotificationRequestItem.eventDate: ")


def test_a_refused_refund_is_stored_and_ignored(client) -> None:
    assert accepted(post_adyen(client, adyen_body(
        adyen_item("PSP_F_R1", "REFUND", 100, original="PSP_F", success="false"))))
    event = client.http.get("/events/adyen/PSP_F_R1:REFUND:false").json_body
    assert (event["outcome"], event["transaction"]) == ("ignored", None)
    assert client.http.get("/transactions/adyen/PSP_F").status_code == 404


def test_an_item_of_a_batch_can_be_replayed_on_its_own(client) -> None:
    batch = adyen_body(adyen_item("PSP_P", "AUTHORISATION", 5000),
                       adyen_item("PSP_P_R1", "REFUND", 700, original="PSP_P", at="2026-01-02T11:00:00+01:00"))
    assert accepted(post_adyen(client, batch))
    response = client.http.post("/events/adyen/PSP_P_R1:REFUND:true/replay")
    assert response.json_body == {"event_id": "PSP_P_R1:REFUND:true", "outcome": "stale"}
    assert transaction(client, "adyen", "PSP_P")["amount_refunded"] == 700


@pytest.fixture
def adyen_basic_auth(client, aws):
    """The stage's secrets with Adyen Basic auth switched on."""
    credentials = {"username": "ws@Company.Acme", "password": "pa:ss"}
    document = copy.deepcopy(SECRETS)
    document["adyen"]["basic_auth"] = credentials
    aws.client("secretsmanager").put_secret_value(
        SecretId=aws.env["WEBHOOK_SECRETS_ID"], SecretString=json.dumps(document))
    wiring.reset()
    return credentials


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_with_basic_auth_configured_only_the_right_credentials_are_accepted(client, adyen_basic_auth) -> None:
    body = fixture_bytes("adyen", "AUTHORISATION_success_true")
    for headers in ({}, basic(adyen_basic_auth["username"], "wrong"), basic("other", adyen_basic_auth["password"])):
        response = post_adyen(client, body, headers)
        assert (response.status_code, response.json_body["error"]) == (401, "invalid_signature")
    assert client.http.get(f"/transactions/adyen/{PSP}").status_code == 404
    assert accepted(post_adyen(client, body, basic(**adyen_basic_auth)))


# --- Square -----------------------------------------------------------------------------


def post_square(client, body: bytes, **signing):
    return client.http.post("/webhooks/square", headers=square_headers(body, **signing), body=body)


def outcome(response) -> str:
    assert response.status_code == 200, response.body
    return response.json_body["events"][0]["outcome"]


def square_refund(event_id: str, refund_id: str, amount: int, created_at: str,
                  status: str = "COMPLETED", event_type: str = "refund.updated") -> bytes:
    """Square's refund example moved onto the fixtures' payment (its own example refers to
    another payment), under an event id of our own: Square's refund.created and
    refund.updated examples share one event_id."""
    event = json.loads(fixture_bytes("square", "refund.created"))
    event.update(event_id=event_id, type=event_type, created_at=created_at)
    event["data"]["id"] = refund_id
    event["data"]["object"]["refund"].update(
        id=refund_id, payment_id=SQUARE_PAYMENT, status=status,
        amount_money={"amount": amount, "currency": "USD"})
    return json.dumps(event).encode()


def test_a_square_payment_created_then_completed_then_refunded_in_two_parts(client) -> None:
    created, updated = fixture_bytes("square", "payment.created"), fixture_bytes("square", "payment.updated")
    response = post_square(client, created)
    assert response.json_body == {"received": 1, "events": [{
        "event_id": "13b867cf-db3d-4b1c-90b6-2f32a9d78124", "transaction": f"square/{SQUARE_PAYMENT}",
        "outcome": "applied"}]}
    assert transaction(client, "square", SQUARE_PAYMENT)["status"] == "pending"

    assert outcome(post_square(client, updated)) == "applied"
    assert summary(transaction(client, "square", SQUARE_PAYMENT)) == {
        "status": "succeeded", "amount": 100, "currency": "USD", "amount_refunded": 0,
        "merchant_id": "6SSW7HV8K2ST5", "customer_id": None, "payment_method": "card", "live": None,
        "created_at": "2020-11-22T21:16:51.086000Z", "last_event_at": "2020-02-06T21:27:34.308000Z",
    }

    first = square_refund("rf-evt-1", "refund-1", 40, "2020-02-06T21:27:41.852Z", event_type="refund.created")
    same_refund_updated = square_refund("rf-evt-2", "refund-1", 40, "2020-02-06T21:27:45Z")
    second = square_refund("rf-evt-3", "refund-2", 60, "2020-02-06T21:28:00Z")
    assert outcome(post_square(client, first)) == "applied"
    assert (transaction(client, "square", SQUARE_PAYMENT)["status"],
            transaction(client, "square", SQUARE_PAYMENT)["amount_refunded"]) == ("partially_refunded", 40)
    # A newer event about the same refund moves last_event_at (applied) but is not counted twice.
    assert outcome(post_square(client, same_refund_updated)) == "applied"
    assert transaction(client, "square", SQUARE_PAYMENT)["amount_refunded"] == 40
    assert outcome(post_square(client, second)) == "applied"
    txn = transaction(client, "square", SQUARE_PAYMENT)
    assert (txn["status"], txn["amount_refunded"]) == ("refunded", 100)


def square_payment_on(payment_id: str, fixture: str) -> bytes:
    """A payment fixture moved onto another payment id, with an event id of its own."""
    event = json.loads(fixture_bytes("square", fixture))
    event["event_id"] = f"{payment_id}-{fixture}"
    event["data"]["id"] = event["data"]["object"]["payment"]["id"] = payment_id
    return json.dumps(event).encode()


def test_every_arrival_order_of_a_square_lifecycle_ends_the_same(client) -> None:
    states = []
    for n, order in enumerate(itertools.permutations(range(3))):
        payment_id = f"sq-order-{n}"
        refund = json.loads(square_refund(f"{payment_id}-refund", f"{payment_id}-r1", 40, "2020-02-06T21:27:41.852Z"))
        refund["data"]["object"]["refund"]["payment_id"] = payment_id
        bodies = [square_payment_on(payment_id, "payment.created"),
                  square_payment_on(payment_id, "payment.updated"), json.dumps(refund).encode()]
        for index in order:
            assert post_square(client, bodies[index]).status_code == 200
        states.append(summary(transaction(client, "square", payment_id)))
    assert all(state == states[0] for state in states)
    assert (states[0]["status"], states[0]["amount"], states[0]["amount_refunded"]) == ("partially_refunded", 100, 40)
    assert states[0]["created_at"] == "2020-11-22T21:16:51.086000Z"


def test_a_redelivered_square_event_is_a_duplicate(client) -> None:
    body = fixture_bytes("square", "payment.updated")
    assert [outcome(post_square(client, body)) for _ in range(3)] == ["applied", "duplicate", "duplicate"]
    assert len(transaction(client, "square", SQUARE_PAYMENT)["events"]) == 1


def test_an_older_square_event_after_a_newer_one_is_stale(client) -> None:
    assert outcome(post_square(client, fixture_bytes("square", "payment.updated"))) == "applied"
    assert outcome(post_square(client, fixture_bytes("square", "payment.created"))) == "stale"
    assert transaction(client, "square", SQUARE_PAYMENT)["status"] == "succeeded"


def test_squares_pending_refund_example_is_stored_and_ignored(client) -> None:
    response = post_square(client, fixture_bytes("square", "refund.created"))
    assert response.json_body["events"] == [
        {"event_id": "bc316346-6691-4243-88ed-6d651a0d0c47", "transaction": None, "outcome": "ignored"}]


def test_a_square_dispute_disputes_the_payment(client) -> None:
    post_square(client, fixture_bytes("square", "payment.updated"))
    dispute = json.dumps({
        "merchant_id": "6SSW7HV8K2ST5", "type": "dispute.created", "event_id": "dsp-evt-1",
        "created_at": "2020-02-07T10:00:00Z",
        "data": {"type": "dispute", "id": "dsp-1", "object": {"dispute": {
            "id": "dsp-1", "amount_money": {"amount": 100, "currency": "USD"}, "state": "EVIDENCE_REQUIRED",
            "disputed_payment": {"payment_id": SQUARE_PAYMENT}}}},
    }).encode()
    assert outcome(post_square(client, dispute)) == "applied"
    txn = transaction(client, "square", SQUARE_PAYMENT)
    assert (txn["status"], txn["amount"], txn["amount_refunded"]) == ("disputed", 100, 0)


@pytest.mark.parametrize("signing", [
    {"url": SECRETS["square"]["notification_url"] + "/"},
    {"url": SECRETS["square"]["notification_url"].replace("http://", "https://")},
    {"url": SECRETS["square"]["notification_url"] + "?x=1"},
    {"key": "not-the-stage-key"},
])
def test_a_square_signature_over_another_url_or_key_is_401_and_stores_nothing(client, signing) -> None:
    response = post_square(client, fixture_bytes("square", "payment.updated"), **signing)
    assert (response.status_code, response.json_body["error"]) == (401, "invalid_signature")
    assert client.http.get(f"/transactions/square/{SQUARE_PAYMENT}").status_code == 404


def test_a_signed_square_event_missing_a_field_is_400_naming_it(client) -> None:
    event = json.loads(fixture_bytes("square", "payment.updated"))
    del event["data"]["object"]["payment"]["amount_money"]
    response = post_square(client, json.dumps(event).encode())
    assert (response.status_code, response.json_body["error"]) == (400, "invalid_payload")
    assert response.json_body["message"].startswith("data.object.payment.amount_money: ")


def test_a_square_payment_updated_carrying_refunded_money_leaves_the_payment_refunded(client) -> None:
    """Square follows a refund with `payment.updated` (COMPLETED, `refunded_money` set); being
    the newest event, it must not put a refunded payment back to `succeeded` (contract 2)."""
    def post(body: bytes) -> None:
        response = client.http.post("/webhooks/square", headers=square_headers(body), body=body)
        assert response.status_code == 200, response.body

    post(fixture_bytes("square", "payment.updated"))
    refund = json.loads(fixture_bytes("square", "refund.created"))
    refund["data"]["object"]["refund"].update(status="COMPLETED", payment_id=SQUARE_PAYMENT,
                                              amount_money={"amount": 100, "currency": "USD"})
    post(json.dumps(refund).encode())
    post(fixture_bytes("square", "payment.updated.refunded"))
    txn = transaction(client, "square", SQUARE_PAYMENT)
    assert (txn["status"], txn["amount"], txn["amount_refunded"]) == ("refunded", 100, 100)


def test_a_square_payment_partly_refunded_by_refunded_money_is_partially_refunded(client) -> None:
    partial = json.loads(fixture_bytes("square", "payment.updated.refunded"))
    partial["data"]["object"]["payment"]["refunded_money"]["amount"] = 40
    body = json.dumps(partial).encode()
    assert client.http.post("/webhooks/square", headers=square_headers(body), body=body).status_code == 200
    txn = transaction(client, "square", SQUARE_PAYMENT)
    assert (txn["status"], txn["amount"], txn["amount_refunded"]) == ("partially_refunded", 100, 40)
