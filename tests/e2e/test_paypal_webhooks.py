"""The PayPal receiver through the app, against the emulator (contract sections 1, 2, 12).

The stage's secrets are pointed at the test authority and its certificate host
(tests/support/paypal.py), as an operator points a stage at PayPal's."""
from __future__ import annotations

import copy
import itertools
import json

import pytest

from chalicelib import wiring
from tests.support.paypal import (
    OTHER_WEBHOOK_ID, certificate_host, paypal_headers, paypal_secrets, unreachable_prefix,
)
from tests.support.signing import SECRETS, fixture_bytes

CAPTURE = "42311647XV020574X"  # the capture of tests/fixtures/paypal
LIFECYCLE = ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.REFUNDED_partial",
             "PAYMENT.CAPTURE.REFUNDED_full", "CUSTOMER.DISPUTE.CREATED")
SUMMARY = ("status", "amount", "currency", "amount_refunded", "merchant_id", "customer_id",
           "payment_method", "live", "created_at", "last_event_at")


@pytest.fixture
def paypal(client, aws):
    """The stage's secrets with PayPal trusting the test authority; returns a function
    that replaces the PayPal section."""
    def configure(**section: object) -> None:
        document = copy.deepcopy(SECRETS)
        document["paypal"] = paypal_secrets(**section)
        aws.client("secretsmanager").put_secret_value(
            SecretId=aws.env["WEBHOOK_SECRETS_ID"], SecretString=json.dumps(document))
        wiring.reset()

    configure()
    return configure


def post(client, body: bytes, **signing: object):
    return client.http.post("/webhooks/paypal", body=body, headers=paypal_headers(body, **signing))  # type: ignore[arg-type]


def outcomes(response) -> list[str]:
    assert response.status_code == 200, response.body
    return [event["outcome"] for event in response.json_body["events"]]


def summary(client, capture: str) -> dict:
    response = client.http.get(f"/transactions/paypal/{capture}")
    assert response.status_code == 200, response.body
    return {name: response.json_body[name] for name in SUMMARY}


def nothing_stored(client, event_id: str = "WH-2WR32451HC0233532-67976317FL4543714") -> bool:
    return (client.http.get(f"/transactions/paypal/{CAPTURE}").status_code,
            client.http.get(f"/events/paypal/{event_id}").status_code) == (404, 404)


def lifecycle_on(capture: str) -> list[bytes]:
    """The fixtures' capture, partial refund, full refund and dispute, on a capture (and
    with event ids) of their own."""
    return [fixture_bytes("paypal", name).replace(CAPTURE.encode(), capture.encode())
            .replace(b'"id": "WH-', f'"id": "WH-{capture}-'.encode()) for name in LIFECYCLE]


def test_a_capture_signed_by_paypal_is_stored_as_the_contract_says(client, paypal) -> None:
    response = post(client, fixture_bytes("paypal", "PAYMENT.CAPTURE.COMPLETED"))
    assert response.json_body == {"received": 1, "events": [{
        "event_id": "WH-2WR32451HC0233532-67976317FL4543714", "transaction": f"paypal/{CAPTURE}",
        "outcome": "applied"}]}
    assert summary(client, CAPTURE) == {
        "status": "succeeded", "amount": 2000, "currency": "USD", "amount_refunded": 0,
        "merchant_id": "7KNGBPH2U58GQ", "customer_id": None, "payment_method": None, "live": None,
        "created_at": "2026-01-01T10:00:05Z", "last_event_at": "2026-01-01T10:00:09.437000Z",
    }


def test_every_arrival_order_of_capture_partial_refund_full_refund_and_dispute_ends_the_same(client, paypal) -> None:
    states = []
    for n, order in enumerate(itertools.permutations(range(len(LIFECYCLE)))):
        capture = f"CAPTURE{n:02d}ORDER"
        bodies = lifecycle_on(capture)
        for index in order:
            assert outcomes(post(client, bodies[index])) != ["duplicate"]
        states.append(summary(client, capture))
    assert all(state == states[0] for state in states)
    assert (states[0]["status"], states[0]["amount"], states[0]["amount_refunded"]) == ("disputed", 2000, 2000)
    assert states[0]["created_at"] == "2026-01-01T10:00:05Z"


def test_refunds_end_refunded_or_partially_refunded_by_the_total_against_the_capture(client, paypal) -> None:
    capture, refund_partial, refund_full, _ = lifecycle_on("CAPTUREREFUNDS")
    post(client, refund_partial)
    assert summary(client, "CAPTUREREFUNDS")["status"] == "partially_refunded"
    post(client, capture)
    assert (summary(client, "CAPTUREREFUNDS")["status"], summary(client, "CAPTUREREFUNDS")["amount_refunded"]) == \
        ("partially_refunded", 500)
    post(client, refund_full)
    assert (summary(client, "CAPTUREREFUNDS")["status"], summary(client, "CAPTUREREFUNDS")["amount_refunded"]) == \
        ("refunded", 2000)


def test_a_redelivery_repeats_the_event_id_and_is_a_duplicate(client, paypal) -> None:
    body = fixture_bytes("paypal", "PAYMENT.CAPTURE.COMPLETED")
    first = outcomes(post(client, body, transmission_id="b9ad1c1e-d75e-11f0-8c4b-ad3c3d1a7b01"))
    again = outcomes(post(client, body, transmission_id="c4e7f2a0-d75e-11f0-8c4b-ad3c3d1a7b01"))
    assert (first, again) == (["applied"], ["duplicate"])
    assert len(client.http.get(f"/transactions/paypal/{CAPTURE}").json_body["events"]) == 1


def test_a_zero_decimal_currency_amount_is_stored_as_is(client, paypal) -> None:
    post(client, fixture_bytes("paypal", "PAYMENT.CAPTURE.COMPLETED_JPY"))
    assert summary(client, "5PN58911SR0473112")["amount"] == 500


@pytest.mark.parametrize("value, currency", [("20.001", "USD"), ("500.5", "JPY")])
def test_an_amount_with_more_decimals_than_its_currency_is_400_naming_the_field(client, paypal, value, currency) -> None:
    body = fixture_bytes("paypal", "PAYMENT.CAPTURE.COMPLETED").replace(
        b'"currency_code": "USD",\n      "value": "20.00"',
        f'"currency_code": "{currency}",\n      "value": "{value}"'.encode())
    assert value.encode() in body
    response = post(client, body)
    assert (response.status_code, response.json_body["error"]) == (400, "invalid_payload")
    assert response.json_body["message"].startswith("resource.amount.value: ")
    assert nothing_stored(client)


@pytest.mark.parametrize("signing, reason", [
    ({"webhook_id": OTHER_WEBHOOK_ID}, "does not match"),
    ({"key": "intermediate"}, "does not match"),
    ({"cert_url": "expired"}, "has expired"),
    ({"cert_url": "other-ca"}, "does not chain"),
    ({"cert_url": "not-paypal"}, "does not name PayPal"),
    ({"cert_url": "https://api.paypal.com.attacker.example/v1/notifications/certs/CERT-1"}, "not under a configured"),
    ({"at": 1}, "has expired"),
], ids=["other webhook id", "wrong signature", "expired certificate", "certificate from another CA",
        "certificate not naming PayPal", "certificate URL outside the prefixes", "stale transmission time"])
def test_a_delivery_paypal_did_not_sign_for_this_stage_is_401_and_nothing_is_stored(client, paypal, signing, reason) -> None:
    if signing.get("cert_url") in ("expired", "other-ca", "not-paypal"):
        signing = {"cert_url": certificate_host().url(signing["cert_url"])}
    response = post(client, fixture_bytes("paypal", "PAYMENT.CAPTURE.COMPLETED"), **signing)
    assert (response.status_code, response.json_body["error"]) == (401, "invalid_signature")
    assert reason in response.json_body["message"]
    assert nothing_stored(client)


def test_another_body_under_a_valid_signature_is_401_and_nothing_is_stored(client, paypal) -> None:
    body = fixture_bytes("paypal", "PAYMENT.CAPTURE.COMPLETED")
    headers = paypal_headers(body)
    response = client.http.post("/webhooks/paypal", body=json.dumps(json.loads(body)).encode(), headers=headers)
    assert (response.status_code, response.json_body["error"]) == (401, "invalid_signature")
    assert nothing_stored(client)


def test_a_certificate_that_cannot_be_fetched_is_503_so_paypal_retries_and_nothing_is_stored(client, paypal) -> None:
    closed = unreachable_prefix()
    paypal(cert_url_prefixes=[closed])
    response = post(client, fixture_bytes("paypal", "PAYMENT.CAPTURE.COMPLETED"), cert_url=closed + "CERT-valid")
    assert (response.status_code, response.json_body["error"]) == (503, "unavailable")
    assert nothing_stored(client)


def test_the_stage_as_provisioned_from_the_local_secrets_accepts_only_paypal_s_own_hosts(client, aws) -> None:
    response = post(client, fixture_bytes("paypal", "PAYMENT.CAPTURE.COMPLETED"))
    assert (response.status_code, response.json_body["error"]) == (401, "invalid_signature")
    assert "not under a configured" in response.json_body["message"]
