"""Square: signatures computed as Square documents them and checked with Square's SDK, and
Square-shaped events parsed into canonical events."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from square.utils.webhooks_helper import verify_signature

from chalicelib.domain.events import CanonicalEvent, RefundFact
from chalicelib.domain.status import Status
from chalicelib.errors import InvalidPayload, SignatureError
from chalicelib.providers.base import WebhookRequest
from chalicelib.providers.secrets import WebhookSecrets
from chalicelib.providers.square import SquareProvider
from tests.support.signing import square_signature

FIXTURES = Path(__file__).parents[2] / "fixtures" / "square"
KEY = "square-test-signature-key-0123456789"
OTHER_KEY = "square-rotated-signature-key-abcdef"
URL = "https://hooks.example.com/webhooks/square?stage=prod"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
BODY = (FIXTURES / "payment.updated.json").read_bytes()
PAYMENT_ID = "hYy9pRFVxpDsO1FB05SunFWUe9JZY"

provider = SquareProvider()


def secrets(*keys: str, url: str = URL) -> WebhookSecrets:
    return WebhookSecrets.model_validate({"square": {"signature_keys": list(keys), "notification_url": url}})


def verify(body: bytes = BODY, signature: str | None = None, configured: WebhookSecrets | None = None) -> None:
    headers = {} if signature is None else {"X-Square-HmacSha256-Signature": signature}
    provider.verify(WebhookRequest.of(body, headers), configured or secrets(KEY), NOW)


def parse(body: bytes) -> CanonicalEvent:
    [parsed] = provider.parse(WebhookRequest.of(body, {}))
    return parsed.event


# --- signatures -------------------------------------------------------------------------


def test_a_request_signed_as_square_documents_is_accepted():
    verify(signature=square_signature(BODY, KEY, URL))


def test_a_request_signed_with_the_second_of_two_configured_keys_is_accepted():
    verify(signature=square_signature(BODY, OTHER_KEY, URL), configured=secrets(KEY, OTHER_KEY))


def test_a_request_signed_with_another_key_is_refused():
    with pytest.raises(SignatureError, match="does not match"):
        verify(signature=square_signature(BODY, OTHER_KEY, URL))


@pytest.mark.parametrize("signed_url", [
    URL.replace("?stage=prod", "/?stage=prod"),             # trailing slash
    URL.replace("https://", "http://"),                      # scheme
    URL.replace("?stage=prod", ""),                          # query left out
    URL.replace("stage=prod", "stage=dev"),                  # another query
    URL.replace("hooks.example.com", "hooks.example.com:443"),  # explicit port
    URL.replace("hooks.example.com", "HOOKS.example.com"),   # host case
])
def test_a_signature_over_any_other_notification_url_is_refused(signed_url):
    with pytest.raises(SignatureError, match="does not match"):
        verify(signature=square_signature(BODY, KEY, signed_url))


def test_a_configured_url_with_a_trailing_slash_is_signed_with_it_and_only_with_it():
    configured = secrets(KEY, url="https://hooks.example.com/webhooks/square/")
    verify(signature=square_signature(BODY, KEY, "https://hooks.example.com/webhooks/square/"),
           configured=configured)
    with pytest.raises(SignatureError, match="does not match"):
        verify(signature=square_signature(BODY, KEY, "https://hooks.example.com/webhooks/square"),
               configured=configured)


@pytest.mark.parametrize("position", [0, len(BODY) // 2, len(BODY) - 1])
def test_changing_one_byte_of_the_body_breaks_the_signature(position):
    tampered = bytearray(BODY)
    tampered[position] ^= 0x01
    with pytest.raises(SignatureError):
        verify(bytes(tampered), signature=square_signature(BODY, KEY, URL))


def test_the_same_json_re_serialised_does_not_verify():
    reformatted = json.dumps(json.loads(BODY), indent=2).encode()
    with pytest.raises(SignatureError):
        verify(reformatted, signature=square_signature(BODY, KEY, URL))


@pytest.mark.parametrize("signature", [None, "", "not base64!", "AAAA"])
def test_a_missing_or_malformed_signature_is_refused(signature):
    with pytest.raises(SignatureError):
        verify(signature=signature)


@pytest.mark.parametrize("configured, message", [
    (secrets(), "no Square signature key"),
    (secrets(""), "no Square signature key"),
    (WebhookSecrets(), "no Square signature key"),
    (secrets(KEY, url=""), "no Square notification URL"),
])
def test_without_a_key_and_a_notification_url_nothing_is_accepted(configured, message):
    with pytest.raises(SignatureError, match=message):
        verify(signature=square_signature(BODY, KEY, URL), configured=configured)


def test_refusals_never_repeat_the_signature_or_the_key():
    signature = square_signature(BODY, OTHER_KEY, URL)
    with pytest.raises(SignatureError) as caught:
        verify(signature=signature)
    for text in (signature, KEY, OTHER_KEY):
        assert text not in caught.value.message


@settings(max_examples=60, deadline=None)
@given(
    body=st.text(max_size=200).map(str.encode),
    flip=st.one_of(st.none(), st.integers(min_value=0)),
    signer=st.sampled_from([KEY, OTHER_KEY]),
    signed_url=st.sampled_from([URL, URL + "/", URL.upper()]),
)
def test_acceptance_agrees_with_the_square_sdk(body, flip, signer, signed_url):
    signature = square_signature(body or b"{}", signer, signed_url)
    received = bytearray(body or b"{}")
    if flip is not None:
        received[flip % len(received)] ^= 0x20
    try:
        sdk_accepts = verify_signature(request_body=bytes(received).decode(), signature_header=signature,
                                       signature_key=KEY, notification_url=URL)
    except UnicodeDecodeError:
        sdk_accepts = False
    try:
        verify(bytes(received), signature=signature)
        we_accept = True
    except SignatureError:
        we_accept = False
    assert we_accept is sdk_accepts


# --- parsing ----------------------------------------------------------------------------


def test_the_body_is_kept_byte_for_byte_for_replay():
    [parsed] = provider.parse(WebhookRequest.of(BODY, {}))
    assert parsed.raw == BODY


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_bytes())


def payment_event(status: str = "COMPLETED", event_type: str = "payment.updated", **payment) -> dict:
    event = fixture("payment.updated")
    event["type"] = event_type
    event["data"]["object"]["payment"].update(status=status, **payment)
    return event


def refund_event(status: str = "COMPLETED", event_type: str = "refund.updated", **refund) -> dict:
    event = fixture("refund.created")
    event["type"] = event_type
    event["data"]["object"]["refund"].update(status=status, **refund)
    return event


def dispute_event(event_type: str = "dispute.created", state: str = "EVIDENCE_REQUIRED",
                  key: str = "dispute", **dispute) -> dict:
    return {
        "merchant_id": "6SSW7HV8K2ST5", "location_id": "S8GWD5R9QB376", "type": event_type,
        "event_id": "0e2c8b4a-7d1d-4d59-9a0e-7d3f1c6b2f10", "created_at": "2026-01-05T09:00:00Z",
        "data": {"type": "dispute", "id": "ORSEVtZAJxb37RA1EiGw", "object": {key: {
            "amount_money": {"amount": 60, "currency": "USD"}, "id": "ORSEVtZAJxb37RA1EiGw",
            "disputed_payment": {"payment_id": PAYMENT_ID}, "reason": "AMOUNT_DIFFERS",
            "state": state, "version": 4, **dispute}}},
    }


def body(event: dict) -> bytes:
    return json.dumps(event).encode()


@pytest.mark.parametrize("status, expected", [
    ("APPROVED", Status.PENDING), ("PENDING", Status.PENDING), ("COMPLETED", Status.SUCCEEDED),
    ("FAILED", Status.FAILED), ("CANCELED", Status.CANCELED),
])
@pytest.mark.parametrize("event_type", ["payment.created", "payment.updated"])
def test_payment_statuses_map_to_their_status_on_the_payment_id(status, expected, event_type):
    event = parse(body(payment_event(status, event_type)))
    assert (event.payment_id, event.status, event.type) == (PAYMENT_ID, expected, event_type)
    assert event.facts.known() == {
        "amount": 100, "currency": "USD", "merchant_id": "6SSW7HV8K2ST5", "payment_method": "card",
        "created_at": datetime(2020, 11, 22, 21, 16, 51, 86000, tzinfo=timezone.utc),
    }


def test_an_unknown_payment_status_is_ignored():
    event = parse(body(payment_event("SOMETHING_NEW")))
    assert (event.payment_id, event.status) == (None, None)


def test_the_payment_version_becomes_the_sequence_and_customer_and_method_are_read():
    event = parse(body(payment_event(version=7, customer_id="JDKYHBWT1D4F8MFH63DBMEN8Y4",
                                     source_type="BANK_ACCOUNT")))
    assert event.sequence == 7
    assert (event.facts.customer_id, event.facts.payment_method) == ("JDKYHBWT1D4F8MFH63DBMEN8Y4", "bank_account")


def test_the_event_time_orders_the_event_not_the_payments_update_time():
    event = parse(body(payment_event()))
    assert event.occurred_at == datetime(2020, 2, 6, 21, 27, 34, 308000, tzinfo=timezone.utc)


@pytest.mark.parametrize("event_type", ["refund.created", "refund.updated"])
def test_a_completed_refund_is_one_refund_on_its_payment_never_the_payments_amount(event_type):
    event = parse(body(refund_event(event_type=event_type)))
    assert (event.payment_id, event.status, event.refund_by_amount) == (
        "KkAkhdMsgzn59SM8A89WgKwekxLZY", Status.PARTIALLY_REFUNDED, True)
    assert event.facts.refund == RefundFact(
        id="KkAkhdMsgzn59SM8A89WgKwekxLZY_ptNBVqHYxt5gAdfcobBe4u1AZsXhoz06KTtuq9Ls24P", amount=1000)
    assert event.facts.known() == {"currency": "USD", "merchant_id": "6SSW7HV8K2ST5", "refund": event.facts.refund}
    assert event.sequence is None  # a refund's version is the refund's, not the payment's


@pytest.mark.parametrize("status", ["PENDING", "REJECTED", "FAILED"])
def test_a_refund_that_moved_no_money_is_ignored(status):
    event = parse(body(refund_event(status)))
    assert (event.payment_id, event.status, event.transaction_ref) == (None, None, None)


@pytest.mark.parametrize("key", ["dispute", "object"])
def test_a_created_dispute_disputes_its_payment_without_stating_the_payments_amount(key):
    event = parse(body(dispute_event(key=key)))
    assert (event.payment_id, event.status) == (PAYMENT_ID, Status.DISPUTED)
    assert event.facts.known() == {"currency": "USD", "merchant_id": "6SSW7HV8K2ST5"}


@pytest.mark.parametrize("event_type", ["dispute.state.updated", "dispute.state.changed"])
@pytest.mark.parametrize("state, status", [
    ("WON", Status.SUCCEEDED), ("LOST", Status.DISPUTED), ("ACCEPTED", Status.DISPUTED),
    ("EVIDENCE_REQUIRED", None), ("PROCESSING", None),
])
def test_a_dispute_state_change_restores_the_payment_when_won(event_type, state, status):
    event = parse(body(dispute_event(event_type, state)))
    assert event.status is status
    assert event.payment_id == (PAYMENT_ID if status else None)


def test_a_dispute_without_a_disputed_payment_is_ignored():
    event = parse(body(dispute_event(disputed_payment=None)))
    assert (event.payment_id, event.status) == (None, None)


@pytest.mark.parametrize("event_type", ["order.created", "customer.updated", "dispute.evidence.added"])
def test_other_event_types_are_ignored_whatever_their_data(event_type):
    event = parse(body({"event_id": "e-1", "type": event_type, "created_at": "2026-01-01T00:00:00Z",
                        "data": {"object": "not read"}}))
    assert (event.event_id, event.type, event.transaction_ref) == ("e-1", event_type, None)


def test_a_stored_event_parses_again_into_the_same_canonical_event():
    assert provider.parse_stored(BODY, "6a8f5f28-54a1-4eb0-a98a-3111513fd4fc") == parse(BODY)


def test_a_stored_event_under_another_id_is_refused():
    with pytest.raises(InvalidPayload, match="^event_id: "):
        provider.parse_stored(BODY, "another")


def _without(event: dict, *path: str) -> dict:
    changed = copy.deepcopy(event)
    target = changed
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return changed


PAYMENT = "data.object.payment"


@pytest.mark.parametrize("event, field", [
    (_without(payment_event(), "event_id"), "event_id"),
    ({**payment_event(), "event_id": "a/b"}, "event_id"),
    (_without(payment_event(), "type"), "type"),
    (_without(payment_event(), "created_at"), "created_at"),
    ({**payment_event(), "created_at": "2020-02-06 21:27:34"}, "created_at"),
    ({**payment_event(), "merchant_id": 6}, "merchant_id"),
    (_without(payment_event(), "data"), "data"),
    (_without(payment_event(), "data", "object", "payment"), PAYMENT),
    (_without(payment_event(), "data", "object", "payment", "id"), f"{PAYMENT}.id"),
    (_without(payment_event(), "data", "object", "payment", "status"), f"{PAYMENT}.status"),
    (_without(payment_event(), "data", "object", "payment", "amount_money"), f"{PAYMENT}.amount_money"),
    (_without(payment_event(), "data", "object", "payment", "amount_money", "amount"),
     f"{PAYMENT}.amount_money.amount"),
    (payment_event(amount_money={"amount": "100", "currency": "USD"}), f"{PAYMENT}.amount_money.amount"),
    (payment_event(amount_money={"amount": 100, "currency": "XYZ"}), f"{PAYMENT}.amount_money.currency"),
    (payment_event(version="3"), f"{PAYMENT}.version"),
    (payment_event(created_at="soon"), f"{PAYMENT}.created_at"),
    (payment_event(source_type=1), f"{PAYMENT}.source_type"),
    (_without(refund_event(), "data", "object", "refund", "payment_id"), "data.object.refund.payment_id"),
    (_without(refund_event(), "data", "object", "refund", "id"), "data.object.refund.id"),
    (refund_event(amount_money={"currency": "USD"}), "data.object.refund.amount_money.amount"),
    (_without(refund_event(), "data", "object", "refund", "status"), "data.object.refund.status"),
    (dispute_event(amount_money={"amount": 1, "currency": "??"}), "data.object.dispute.amount_money.currency"),
    (dispute_event(disputed_payment={"payment_id": "p/1"}), "data.object.dispute.disputed_payment.payment_id"),
    (_without(dispute_event("dispute.state.updated"), "data", "object", "dispute", "state"),
     "data.object.dispute.state"),
    (_without(dispute_event(), "data", "object", "dispute"), "data.object.dispute"),
])
def test_a_missing_or_malformed_field_is_refused_naming_it(event, field):
    with pytest.raises(InvalidPayload) as caught:
        parse(body(event))
    assert caught.value.message.startswith(f"{field}: ")


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"event_id": NaN}'])
def test_a_body_that_is_not_a_json_object_is_refused(raw):
    with pytest.raises(InvalidPayload, match="^body: "):
        parse(raw)
