"""Whatever arrives, the answer is the contract's: never a 5xx but the 503 of failing storage,
and every error `{"error", "message"}` (contract sections 1, 2 and 5).

The receivers get correctly signed random bodies: each provider's own payload with fields
replaced by random JSON (nested, unicode with lone surrogates, huge numbers, wrong types),
or random JSON altogether; signing them is what makes the parsers, not the signature
checks, meet them. Every GET route gets random query strings and ids. A third property
fails DynamoDB at random: then, and only then, 503 is allowed.

The app runs through `chalice.test.Client` against moto in-process (`mock_aws`), which is
fast enough for hundreds of requests. Example counts come from the hypothesis profile
(`HYPOTHESIS_PROFILE`): `ci` (the default) keeps the module under a minute; `fuzz`
(`make fuzz`) runs ten times as many; `reliability` (`make reliability`) enough that, with
tests/e2e/test_openapi_fuzz.py, well over 10,000 requests are sent.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from botocore.awsrequest import AWSResponse
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import wiring
from chalicelib.providers import adyen
from chalicelib.providers.payload import Fields
from tests.support.in_process import assert_contract, in_process_app
from tests.support.paypal import paypal_headers
from tests.support.signing import (
    ADYEN_KEY, fixture_bytes, generic_headers, square_headers, stripe_headers,
)

settings.register_profile("ci", max_examples=20, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("fuzz", parent=settings.get_profile("ci"), max_examples=200)
settings.register_profile("reliability", parent=settings.get_profile("ci"), max_examples=3500)
PROFILE = settings(parent=settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))

PROVIDERS = ("stripe", "adyen", "square", "generic", "paypal")
FIXTURES = {
    "stripe": ["payment_intent.succeeded", "charge.refunded", "charge.dispute.created"],
    "adyen": ["AUTHORISATION_success_true", "REFUND", "CHARGEBACK"],
    "square": ["payment.updated", "refund.created", "payment.updated.refunded"],
    "paypal": ["PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.REFUNDED_partial", "CUSTOMER.DISPUTE.CREATED"],
    "generic": [],  # its template is dated now (a fixture's fixed time is as good, but older)
}


# --- the world: the app against moto in-process --------------------------------------------

@pytest.fixture(scope="module")
def app_client() -> Iterator[Client]:
    with in_process_app("hypothesis hostile-input properties") as client:
        yield client


# --- random JSON, and each provider's payloads with parts of it replaced ------------------

texts = st.text(max_size=40) | st.sampled_from(
    ["", "\ud800", "x\udfff", "\U0001F600" * 255, "a/b", "payment.succeeded", "COMPLETED", "true"])
scalars = (st.none() | st.booleans() | texts
           | st.integers(-(10**40), 10**40) | st.floats(allow_nan=False, allow_infinity=False))
documents = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=30)
deep = st.integers(1, 200).map(lambda depth: json.loads("[" * depth + "]" * depth))


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a document."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


def replaced(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    copy = list(document) if isinstance(document, list) else dict(document)
    copy[head] = replaced(document[head], tuple(rest), value)
    return copy


def generic_template() -> dict:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {"type": "payment.succeeded", "timestamp": now,
            "data": {"id": "ord-1", "amount": 100, "currency": "EUR", "status": "succeeded",
                     "merchant_id": "m-1", "created_at": now, "amount_refunded": 0}}


@st.composite
def bodies(draw: Any, provider: str) -> Any:
    """A document to send: a provider payload with a few values replaced, or random JSON."""
    if draw(st.integers(0, 4)) == 0:
        return draw(documents | deep)
    names = FIXTURES[provider]
    document = json.loads(fixture_bytes(provider, draw(st.sampled_from(names)))) if names else generic_template()
    for _ in range(draw(st.integers(1, 3))):
        where = paths(document)
        if not where:
            break
        document = replaced(document, draw(st.sampled_from(where)), draw(documents | deep))
    return document


def signed_adyen(document: Any) -> Any:
    """Each NotificationRequestItem that can be signed at all, signed with the local key."""
    items = document.get("notificationItems") if isinstance(document, dict) else None
    if not isinstance(items, list):
        return document
    for entry in items:
        item = entry.get("NotificationRequestItem") if isinstance(entry, dict) else None
        if not isinstance(item, dict):
            continue
        try:
            signature = base64.b64encode(hmac.new(bytes.fromhex(ADYEN_KEY), adyen.signing_string(Fields(item, "")),
                                                  hashlib.sha256).digest()).decode()
        except Exception:  # noqa: BLE001 - an item our reader refuses: sent unsigned (a 400 or 401)
            continue
        additional = item.get("additionalData")
        item["additionalData"] = {**(additional if isinstance(additional, dict) else {}), "hmacSignature": signature}
    return document


def request(provider: str, document: Any, webhook_id: str) -> tuple[bytes, dict[str, str]]:
    if provider == "adyen":
        body = json.dumps(signed_adyen(document)).encode()
        return body, {"Content-Type": "application/json"}
    body = json.dumps(document).encode()
    if provider == "stripe":
        return body, stripe_headers(body)
    if provider == "square":
        return body, square_headers(body)
    if provider == "paypal":
        return body, paypal_headers(body)
    return body, generic_headers(body, webhook_id)


webhook_ids = st.sampled_from(["msg_1", "msg_2"]) | st.text(
    st.characters(codec="utf-8", exclude_characters="\r\n\x00"), min_size=1, max_size=300)


@PROFILE
@given(provider=st.sampled_from(PROVIDERS), data=st.data(), webhook_id=webhook_ids)
def test_a_signed_random_body_is_answered_in_the_contract_and_never_with_a_5xx(
        app_client: Client, provider: str, data: Any, webhook_id: str) -> None:
    document = data.draw(bodies(provider))
    try:
        body, headers = request(provider, document, webhook_id)
    except (UnicodeEncodeError, ValueError):  # a webhook-id no HTTP header can carry
        return
    assert_contract(app_client.http.post(f"/webhooks/{provider}", headers=headers, body=body))


# --- random query strings and ids on every GET route -----------------------------------------

param_names = st.sampled_from(["merchant_id", "customer_id", "status", "created_from", "created_to",
                               "limit", "cursor", "from", "to", "provider", "currency"]) | texts
param_values = (texts | st.sampled_from(["2026-01-01", "2026-13-01", "\u00b2", "9" * 5000, "200", "0",
                                         "2026-01-01T00:00:00Z", "succeeded", "usd", "m-1"])
                | st.integers(-(10**30), 10**30).map(str))
queries = st.dictionaries(param_names, param_values, max_size=5)
path_ids = texts | st.sampled_from(["%2F", "%", "%ZZ", "a" * 300, "\U0001F600" * 255, "pi_1"])


@PROFILE
@given(route=st.sampled_from(["/transactions", "/analytics/daily", "/transactions/{p}/{id}",
                              "/events/{p}/{id}", "/transactions/{p}", "/health"]),
       provider=st.sampled_from(list(PROVIDERS)) | texts, payment_id=path_ids, query=queries)
def test_a_random_query_on_every_get_route_is_answered_in_the_contract(
        app_client: Client, route: str, provider: str, payment_id: str, query: dict) -> None:
    try:  # quote and urlencode refuse a lone surrogate: no URL can carry one
        path = route.replace("{p}", quote(provider, safe="") or "stripe").replace(
            "{id}", quote(payment_id, safe="") or "x")
        url = f"{path}?{urlencode(query)}" if query else path
    except UnicodeEncodeError:
        return
    assert_contract(app_client.http.get(url), webhook=False)


# --- storage failing at random ----------------------------------------------------------------

@PROFILE
@given(provider=st.sampled_from(PROVIDERS), failing_call=st.integers(0, 3), data=st.data())
def test_storage_failing_is_503_unavailable_and_nothing_else_is_a_5xx(
        app_client: Client, provider: str, failing_call: int, data: Any) -> None:
    names = FIXTURES[provider]
    document = (json.loads(fixture_bytes(provider, data.draw(st.sampled_from(names)))) if names
                else generic_template())
    body, headers = request(provider, document, data.draw(st.sampled_from(["msg_a", "msg_b", "msg_c"])))
    calls = [0]

    def fail(model: Any, **_: Any) -> Any:
        calls[0] += 1
        if calls[0] <= failing_call:
            return None
        return (AWSResponse("", 500, {}, None),
                {"Error": {"Code": "InternalServerError", "Message": "injected"},
                 "ResponseMetadata": {"HTTPStatusCode": 500}})

    dynamodb = wiring.aws_client("dynamodb")
    dynamodb.meta.events.register("before-call.dynamodb", fail, unique_id="hostile-fail")
    try:
        response = app_client.http.post(f"/webhooks/{provider}", headers=headers, body=body)
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb", unique_id="hostile-fail")
    assert_contract(response, storage_failing=True)
    if calls[0] > failing_call:  # a request failed: nothing may claim it was stored
        assert response.status_code == 503
