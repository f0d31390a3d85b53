"""Adyen: item HMACs made by Adyen's own SDK (and Adyen's published test vector), Basic auth,
and notification items parsed into canonical events."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from Adyen.util import generate_notification_sig, is_valid_hmac_notification
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.events import CanonicalEvent, RefundFact
from chalicelib.domain.status import Status
from chalicelib.errors import InvalidPayload, SignatureError
from chalicelib.providers.adyen import AdyenProvider
from chalicelib.providers.base import WebhookRequest
from chalicelib.providers.secrets import WebhookSecrets
from tests.support.signing import adyen_body, adyen_item, adyen_sign

FIXTURES = Path(__file__).parents[2] / "fixtures" / "adyen"
KIT_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
ADYEN_VECTOR_KEY = "74F490DD33F7327BAECC88B2947C011FC02D014A473AAA33A8EC93E4DC069174"
OTHER_KEY = "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)

provider = AdyenProvider()


def secrets(*keys: str, basic_auth: dict | None = None) -> WebhookSecrets:
    return WebhookSecrets.model_validate({"adyen": {"hmac_keys": list(keys), "basic_auth": basic_auth}})


def verify(body: bytes, configured: WebhookSecrets | None = None, headers: dict | None = None) -> None:
    provider.verify(WebhookRequest.of(body, headers or {}), configured or secrets(KIT_KEY), NOW)


def parse(body: bytes) -> list[CanonicalEvent]:
    return [parsed.event for parsed in provider.parse(WebhookRequest.of(body, {}))]


def auth(psp: str = "PSP_AUTH", **fields) -> dict:
    return adyen_item(psp, "AUTHORISATION", 10100, key=KIT_KEY, **fields)


# --- signatures -------------------------------------------------------------------------


def test_adyens_own_signed_test_notification_verifies_with_its_published_key():
    verify((FIXTURES / "AUTHORISATION_adyen-signed.json").read_bytes(), secrets(ADYEN_VECTOR_KEY))


@pytest.mark.parametrize(
    "fixture", sorted(p.name for p in FIXTURES.glob("*.json")
                      if ".expected." not in p.name and "adyen-signed" not in p.name))
def test_each_kit_fixture_sent_verbatim_verifies_with_the_kit_key(fixture):
    verify((FIXTURES / fixture).read_bytes())


def test_an_item_signed_by_the_adyen_sdk_is_accepted():
    verify(adyen_body(auth()))


def test_an_item_signed_with_the_second_of_two_configured_keys_is_accepted():
    verify(adyen_body(adyen_item("P1", "CAPTURE", 5, key=OTHER_KEY)), secrets(KIT_KEY, OTHER_KEY))


def test_a_key_is_read_as_hex_whatever_its_case():
    verify(adyen_body(auth()), secrets(KIT_KEY.lower()))


def test_an_item_signed_with_another_key_is_refused():
    with pytest.raises(SignatureError, match=r"notificationItems\[0\]"):
        verify(adyen_body(adyen_item("P1", "CAPTURE", 5, key=OTHER_KEY)))


@pytest.mark.parametrize("field, value", [
    ("pspReference", "PSP_OTHER"), ("originalReference", "PSP_OTHER"), ("merchantAccountCode", "Else"),
    ("merchantReference", "order-x"), ("eventCode", "CAPTURE"), ("success", "false"),
])
def test_changing_any_signed_field_breaks_the_signature(field, value):
    with pytest.raises(SignatureError):
        verify(adyen_body({**auth(), field: value}))


@pytest.mark.parametrize("amount", [{"value": 10101, "currency": "EUR"}, {"value": 10100, "currency": "USD"}])
def test_changing_the_amount_or_currency_breaks_the_signature(amount):
    with pytest.raises(SignatureError):
        verify(adyen_body({**auth(), "amount": amount}))


def test_a_tampered_second_item_rejects_the_whole_batch_although_adyens_helper_checks_only_the_first():
    tampered = {**adyen_item("PSP_R", "REFUND", 500, original="PSP_AUTH", key=KIT_KEY), "amount": {
        "value": 10100, "currency": "EUR"}}
    batch = json.loads(adyen_body(auth(), tampered))
    assert is_valid_hmac_notification(batch, KIT_KEY)  # the SDK helper looks at item 0 only
    with pytest.raises(SignatureError, match=r"^notificationItems\[1\]\.NotificationRequestItem\."):
        verify(json.dumps(batch).encode())


def test_unsigned_fields_may_change_without_breaking_the_signature():
    verify(adyen_body({**auth(), "reason": "changed", "eventDate": "2026-01-02T00:00:00Z"}))


@pytest.mark.parametrize("additional", [None, {}, {"hmacSignature": ""}, {"hmacSignature": 7},
                                        {"hmacSignature": "not base64!"}])
def test_a_missing_or_malformed_item_signature_is_refused(additional):
    item = {k: v for k, v in auth().items() if k != "additionalData"}
    if additional is not None:
        item["additionalData"] = additional
    with pytest.raises(SignatureError, match=r"hmacSignature"):
        verify(adyen_body(item))


@pytest.mark.parametrize("configured", [secrets(), secrets(""), secrets("not hex"), WebhookSecrets()])
def test_without_a_usable_key_nothing_is_accepted(configured):
    with pytest.raises(SignatureError, match="no Adyen HMAC key"):
        verify(adyen_body(auth()), configured)


def test_a_body_that_is_not_json_cannot_be_verified_and_is_invalid_payload():
    with pytest.raises(InvalidPayload, match="^body: "):
        verify(b"live=false&pspReference=X")


def test_refusals_never_repeat_the_signature_or_the_key():
    item = adyen_item("P1", "CAPTURE", 5, key=OTHER_KEY)
    with pytest.raises(SignatureError) as caught:
        verify(adyen_body(item))
    assert item["additionalData"]["hmacSignature"] not in caught.value.message
    assert KIT_KEY not in caught.value.message and OTHER_KEY not in caught.value.message


# Basic auth: checked before any HMAC when `basic_auth` is configured.
USER = {"username": "adyen-ws@Company.Acme", "password": "s3cret:with-colon"}


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_right_basic_credentials_are_accepted():
    verify(adyen_body(auth()), secrets(KIT_KEY, basic_auth=USER), basic(USER["username"], USER["password"]))


@pytest.mark.parametrize("headers", [
    {},
    basic(USER["username"], "wrong"),
    basic("someone-else", USER["password"]),
    basic(USER["username"], USER["password"] + "x"),
    {"Authorization": "Bearer " + base64.b64encode(b"adyen-ws@Company.Acme:s3cret:with-colon").decode()},
    {"Authorization": "Basic not-base64!"},
    {"Authorization": "Basic " + base64.b64encode(b"no colon").decode()},
])
def test_missing_wrong_or_malformed_basic_credentials_are_refused(headers):
    with pytest.raises(SignatureError):
        verify(adyen_body(auth()), secrets(KIT_KEY, basic_auth=USER), headers)


def test_basic_credentials_do_not_replace_the_item_signatures():
    item = adyen_item("P1", "CAPTURE", 5, key=OTHER_KEY)
    with pytest.raises(SignatureError, match="does not match"):
        verify(adyen_body(item), secrets(KIT_KEY, basic_auth=USER), basic(USER["username"], USER["password"]))


def test_without_configured_basic_auth_no_authorization_header_is_needed():
    verify(adyen_body(auth()), secrets(KIT_KEY, basic_auth=None))


@settings(max_examples=60, deadline=None)
@given(
    psp=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20),
    value=st.integers(min_value=0, max_value=10**12),
    merchant_reference=st.one_of(st.none(), st.text(max_size=20)),
    original=st.one_of(st.none(), st.text(max_size=20)),
    tamper=st.sampled_from([None, "pspReference", "value", "merchantReference", "success"]),
    signer=st.sampled_from([KIT_KEY, OTHER_KEY]),
)
def test_acceptance_of_a_single_item_agrees_with_the_adyen_sdk(
    psp, value, merchant_reference, original, tamper, signer
):
    item = {"pspReference": psp, "amount": {"value": value, "currency": "EUR"},
            "merchantAccountCode": "AcmeKitECOM", "eventCode": "AUTHORISATION", "success": "true"}
    if merchant_reference is not None:
        item["merchantReference"] = merchant_reference
    if original is not None:
        item["originalReference"] = original
    signed = adyen_sign(item, signer)
    if tamper == "value":
        signed["amount"] = {"value": value + 1, "currency": "EUR"}
    elif tamper is not None:
        signed[tamper] = (signed.get(tamper) or "") + "x"
    request = {"live": "false", "notificationItems": [{"NotificationRequestItem": signed}]}
    sdk_accepts = is_valid_hmac_notification(request, KIT_KEY)
    try:
        verify(json.dumps(request).encode())
        we_accept = True
    except SignatureError:
        we_accept = False
    assert we_accept is sdk_accepts


# --- parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize("code, success, status", [
    ("AUTHORISATION", "true", Status.SUCCEEDED),
    ("AUTHORISATION", "false", Status.FAILED),
    ("CAPTURE", "true", Status.SUCCEEDED),
    ("CAPTURE_FAILED", "true", Status.FAILED),
    ("CANCELLATION", "true", Status.CANCELED),
    ("REFUND", "true", Status.PARTIALLY_REFUNDED),
    ("CANCEL_OR_REFUND", "true", Status.PARTIALLY_REFUNDED),
    ("CHARGEBACK", "true", Status.DISPUTED),
    ("SECOND_CHARGEBACK", "true", Status.DISPUTED),
    ("CHARGEBACK_REVERSED", "true", Status.SUCCEEDED),
])
def test_event_codes_map_to_their_status(code, success, status):
    [event] = parse(adyen_body(adyen_item("PSP_MOD", code, 700, original="PSP_PAY", success=success)))
    assert (event.status, event.payment_id, event.event_id) == (status, "PSP_PAY", f"PSP_MOD:{code}:{success}")
    assert event.refund_by_amount is (code in ("REFUND", "CANCEL_OR_REFUND"))


@pytest.mark.parametrize("code, success", [
    ("REFUND_FAILED", "true"), ("REFUND", "false"), ("CAPTURE", "false"), ("CANCELLATION", "false"),
    ("CHARGEBACK", "false"), ("REPORT_AVAILABLE", "true"), ("NOTIFICATIONOFCHARGEBACK", "true"),
    ("PENDING", "true"), ("OFFER_CLOSED", "true"),
])
def test_other_codes_and_refused_modifications_are_ignored(code, success):
    [event] = parse(adyen_body(adyen_item("PSP_MOD", code, 700, original="PSP_PAY", success=success)))
    assert (event.event_id, event.type) == (f"PSP_MOD:{code}:{success}", code)
    assert (event.payment_id, event.status, event.transaction_ref) == (None, None, None)


def test_an_authorisation_states_the_payment_and_its_creation_time():
    [event] = parse(adyen_body(auth(additionalData={"shopperReference": "shopper-1"}), live="true"))
    assert event.payment_id == "PSP_AUTH"
    assert event.occurred_at == datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc)
    assert event.facts.known() == {
        "amount": 10100, "currency": "EUR", "merchant_id": "AcmeKitECOM", "customer_id": "shopper-1",
        "payment_method": "visa", "created_at": event.occurred_at, "live": True,
    }


def test_a_refund_is_one_refund_by_its_own_psp_reference_never_the_payments_amount():
    [event] = parse(adyen_body(adyen_item("PSP_R1", "REFUND", 2500, original="PSP_AUTH")))
    assert event.facts.amount is None and event.facts.amount_refunded is None
    assert event.facts.refund == RefundFact(id="PSP_R1", amount=2500)
    assert event.facts.created_at is None


def test_a_chargeback_states_its_currency_but_not_its_amount():
    [event] = parse(adyen_body(adyen_item("PSP_CB", "CHARGEBACK", 10100, original="PSP_AUTH")))
    assert event.facts.amount is None and event.facts.refund is None and event.facts.currency == "EUR"


def test_a_capture_states_the_captured_amount_as_the_payments():
    [event] = parse(adyen_body(adyen_item("PSP_CAP", "CAPTURE", 8000, original="PSP_AUTH")))
    assert (event.payment_id, event.facts.amount, event.facts.created_at) == ("PSP_AUTH", 8000, None)


def test_an_empty_original_reference_means_the_item_is_the_payment_itself():
    [event] = parse(adyen_body(auth(originalReference="")))
    assert event.payment_id == "PSP_AUTH"


def test_each_item_of_a_batch_is_one_event_in_order():
    events = parse(adyen_body(auth(), adyen_item("PSP_R1", "REFUND", 100, original="PSP_AUTH")))
    assert [e.event_id for e in events] == ["PSP_AUTH:AUTHORISATION:true", "PSP_R1:REFUND:true"]


@pytest.mark.parametrize("live, expected", [("true", True), ("false", False), (True, True), (None, None)])
def test_live_is_read_from_the_request(live, expected):
    body = json.loads(adyen_body(auth()))
    body["live"] = live
    [event] = parse(json.dumps(body).encode())
    assert event.facts.live is expected


def test_each_item_is_kept_as_a_one_item_request_that_replays_into_the_same_event():
    batch = adyen_body(auth(), adyen_item("PSP_R1", "REFUND", 100, original="PSP_AUTH"), live="true")
    parsed = provider.parse(WebhookRequest.of(batch, {}))
    kept = json.loads(parsed[1].raw)
    assert kept == {"live": "true", "notificationItems": [json.loads(batch)["notificationItems"][1]]}
    for item in parsed:
        assert provider.parse_stored(item.raw, item.event.event_id) == item.event


def test_a_stored_item_under_another_event_id_is_refused():
    [parsed] = provider.parse(WebhookRequest.of(adyen_body(auth()), {}))
    with pytest.raises(InvalidPayload, match=r"^notificationItems\[0\]: "):
        provider.parse_stored(parsed.raw, "PSP_AUTH:AUTHORISATION:false")


def _item_without(key: str) -> dict:
    return {k: v for k, v in auth().items() if k != key}


def changed(**changes) -> dict:
    """An item with fields changed after signing (parsing does not look at the HMAC)."""
    return {**auth(), **changes}


ITEM = "notificationItems[1].NotificationRequestItem"


@pytest.mark.parametrize("item, field", [
    (_item_without("pspReference"), f"{ITEM}.pspReference"),
    (_item_without("eventCode"), f"{ITEM}.eventCode"),
    (_item_without("success"), f"{ITEM}.success"),
    (changed(success="yes"), f"{ITEM}.success"),
    (changed(success=True), f"{ITEM}.success"),
    (_item_without("eventDate"), f"{ITEM}.eventDate"),
    (changed(eventDate="2026-01-01T11:00:00"), f"{ITEM}.eventDate"),
    (changed(eventDate="yesterday"), f"{ITEM}.eventDate"),
    (changed(pspReference="PSP/1"), f"{ITEM}.pspReference"),
    (changed(originalReference="PSP/0"), f"{ITEM}.originalReference"),
    (_item_without("amount"), f"{ITEM}.amount"),
    (changed(amount={"currency": "EUR"}), f"{ITEM}.amount.value"),
    (changed(amount={"currency": "EUR", "value": "10100"}), f"{ITEM}.amount.value"),
    (changed(amount={"currency": "EUR", "value": -1}), f"{ITEM}.amount.value"),
    (changed(amount={"currency": "EURO", "value": 1}), f"{ITEM}.amount.currency"),
    (changed(merchantAccountCode=42), f"{ITEM}.merchantAccountCode"),
    (changed(additionalData={"shopperReference": ["x"]}), f"{ITEM}.additionalData.shopperReference"),
])
def test_a_missing_or_malformed_field_is_refused_naming_it(item, field):
    body = adyen_body(auth(), item)
    with pytest.raises(InvalidPayload) as caught:
        parse(body)
    assert caught.value.message.startswith(f"{field}: ")


@pytest.mark.parametrize("body, field", [
    (b"not json", "body"),
    (b"[]", "body"),
    (b"{}", "notificationItems"),
    (b'{"notificationItems": []}', "notificationItems"),
    (b'{"notificationItems": {}}', "notificationItems"),
    (b'{"notificationItems": ["x"]}', "notificationItems[0]"),
    (b'{"notificationItems": [{"Item": {}}]}', "notificationItems[0].NotificationRequestItem"),
    (b'{"live": "yes", "notificationItems": [{"NotificationRequestItem": {}}]}', "live"),
])
def test_a_malformed_request_is_refused_naming_the_field(body, field):
    with pytest.raises(InvalidPayload) as caught:
        parse(body)
    assert caught.value.message.startswith(f"{field}: ")


def test_a_signed_field_of_a_type_adyen_never_sends_is_invalid_payload_naming_it():
    item = {**auth(), "merchantReference": {"nested": True}}
    with pytest.raises(InvalidPayload, match=r"^notificationItems\[0\]\.NotificationRequestItem\.merchantReference: "):
        verify(adyen_body(item))


def test_the_sdk_signature_of_the_published_vector_is_the_one_in_it():
    """Pins that the vector really was signed the way `generate_notification_sig` signs."""
    vector = json.loads((FIXTURES / "AUTHORISATION_adyen-signed.json").read_bytes())
    item = vector["notificationItems"][0]["NotificationRequestItem"]
    expected = item["additionalData"]["hmacSignature"]
    assert generate_notification_sig(item, ADYEN_VECTOR_KEY).decode() == expected
