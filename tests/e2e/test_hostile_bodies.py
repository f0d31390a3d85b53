"""Correctly signed bodies that no provider would send: each is answered in the contract's
shape, 400 naming what is wrong, and stores nothing (never a 500, never an endless 503)."""
from __future__ import annotations

import json

from tests.support.signing import adyen_body, adyen_item, payment_intent, stripe_event, stripe_headers


def post_stripe(client, body: bytes):
    return client.http.post("/webhooks/stripe", headers=stripe_headers(body), body=body)


def test_a_signed_lone_surrogate_in_the_type_is_invalid_payload(client) -> None:
    body = stripe_event("evt_surrogate", "payment_intent.succeeded", 1767261600,
                        payment_intent("pi_surrogate", "succeeded")).replace(
        b'"payment_intent.succeeded"', b'"payment_intent.\\ud800"')
    response = post_stripe(client, body)
    assert (response.status_code, response.json_body["error"]) == (400, "invalid_payload")
    assert client.http.get("/events/stripe/evt_surrogate").status_code == 404


def test_a_signed_lone_surrogate_in_the_merchant_is_invalid_payload(client) -> None:
    intent = {**payment_intent("pi_surrogate_m", "succeeded"), "metadata": {"merchant_id": "PLACEHOLDER"}}
    body = stripe_event("evt_surrogate_m", "payment_intent.succeeded", 1767261600, intent).replace(
        b'"PLACEHOLDER"', b'"m-\\udc01"')
    response = post_stripe(client, body)
    assert (response.status_code, response.json_body["error"]) == (400, "invalid_payload")
    assert client.http.get("/transactions/stripe/pi_surrogate_m").status_code == 404


def test_an_adyen_item_nested_just_under_the_decoders_limit_is_invalid_payload(client) -> None:
    deep: object = "leaf"
    for _ in range(900):
        deep = [deep]
    body = adyen_body(adyen_item("PSP_DEEP", "AUTHORISATION", 100, additionalData={"deep": deep}))
    response = client.http.post("/webhooks/adyen", headers={"Content-Type": "application/json"}, body=body)
    assert (response.status_code, response.json_body["error"]) == (400, "invalid_payload")
    assert "nested" in response.json_body["message"]
    assert client.http.get("/transactions/adyen/PSP_DEEP").status_code == 404


def test_nesting_a_provider_really_sends_is_accepted(client) -> None:
    body = adyen_body(adyen_item("PSP_NESTED", "AUTHORISATION", 100,
                                 additionalData={"a": json.loads('{"b": {"c": [[{"d": 1}]]}}')}))
    response = client.http.post("/webhooks/adyen", headers={"Content-Type": "application/json"}, body=body)
    assert (response.status_code, response.body) == (200, b"[accepted]")
