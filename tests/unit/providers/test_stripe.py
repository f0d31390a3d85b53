"""Stripe: signatures made by the Stripe SDK itself, events parsed from Stripe-shaped bodies."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import stripe
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.events import CanonicalEvent
from chalicelib.domain.status import Status
from chalicelib.errors import InvalidPayload, SignatureError
from chalicelib.providers.base import WebhookRequest
from chalicelib.providers.secrets import WebhookSecrets
from chalicelib.providers.stripe import StripeProvider

FIXTURES = Path(__file__).parents[2] / "fixtures" / "stripe"
SECRET = "whsec_test_0123456789abcdefghijklmnopqrstuv"
OTHER_SECRET = "whsec_test_rotated_zyxwvutsrqponmlkjihgfedcba"
T = 1767261602
NOW = datetime.fromtimestamp(T, tz=timezone.utc)
BODY = (FIXTURES / "payment_intent.succeeded.json").read_bytes()

provider = StripeProvider()


def secrets(*signing_secrets: str) -> WebhookSecrets:
    return WebhookSecrets.model_validate({"stripe": {"signing_secrets": list(signing_secrets)}})


def sdk_header(body: bytes, secret: str = SECRET, timestamp: int = T) -> str:
    """`t=...,v1=...` exactly as the Stripe SDK computes it."""
    return stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp
    )


def sdk_v1(body: bytes, secret: str, timestamp: int = T) -> str:
    return sdk_header(body, secret, timestamp).split(",v1=")[1]


def request(body: bytes = BODY, header: str | None = None) -> WebhookRequest:
    headers = {} if header is None else {"Stripe-Signature": header}
    return WebhookRequest.of(body, headers)


def verify(req: WebhookRequest, configured: WebhookSecrets | None = None, now=NOW) -> None:
    provider.verify(req, configured if configured is not None else secrets(SECRET), now)


# --- signatures -------------------------------------------------------------------------


def test_a_request_signed_by_the_stripe_sdk_is_accepted():
    verify(request(header=sdk_header(BODY)))


def test_a_request_signed_with_the_second_of_two_configured_secrets_is_accepted():
    verify(request(header=sdk_header(BODY, OTHER_SECRET)), secrets(SECRET, OTHER_SECRET))


def test_any_one_of_several_v1_signatures_may_match():
    wrong = sdk_v1(BODY, "whsec_someone_else")
    header = f"t={T},v1={wrong},v1={sdk_v1(BODY, SECRET)},v0={wrong}"
    verify(request(header=header))


def test_a_valid_v1_signature_still_counts_when_a_wrong_one_follows_it():
    wrong = sdk_v1(BODY, "whsec_someone_else")
    verify(request(header=f"t={T},v1={sdk_v1(BODY, SECRET)},v1={wrong}"))


def test_a_request_signed_with_the_first_of_two_configured_secrets_is_accepted():
    verify(request(header=sdk_header(BODY, SECRET)), secrets(SECRET, OTHER_SECRET))


def test_header_items_may_come_in_any_order_with_spaces():
    verify(request(header=f" v1={sdk_v1(BODY, SECRET)} , t={T} "))


def test_a_v0_signature_alone_is_not_enough():
    with pytest.raises(SignatureError, match="no v1"):
        verify(request(header=f"t={T},v0={sdk_v1(BODY, SECRET)}"))


@pytest.mark.parametrize("offset", [0, 299, 300, -300])
def test_a_timestamp_within_300_seconds_of_now_either_way_is_accepted(offset):
    header = sdk_header(BODY, timestamp=T - offset)
    verify(request(header=header))


def test_a_signature_301_seconds_old_has_expired():
    with pytest.raises(SignatureError, match="expired"):
        verify(request(header=sdk_header(BODY, timestamp=T - 301)))


def test_a_signature_301_seconds_in_the_future_is_refused():
    with pytest.raises(SignatureError, match="future"):
        verify(request(header=sdk_header(BODY, timestamp=T + 301)))


def test_the_tolerance_is_a_constructor_argument():
    strict = StripeProvider(tolerance_seconds=10)
    with pytest.raises(SignatureError, match="expired"):
        strict.verify(request(header=sdk_header(BODY, timestamp=T - 11)), secrets(SECRET), NOW)


def test_an_expired_signature_is_only_reported_as_expired_when_it_is_genuine():
    with pytest.raises(SignatureError, match="matches"):
        verify(request(header=sdk_header(BODY, "whsec_forger", timestamp=T - 10_000)))


@pytest.mark.parametrize("position", [0, len(BODY) // 2, len(BODY) - 1])
def test_changing_one_byte_of_the_body_breaks_the_signature(position):
    tampered = bytearray(BODY)
    tampered[position] ^= 0x01
    with pytest.raises(SignatureError, match="matches"):
        verify(request(bytes(tampered), header=sdk_header(BODY)))


def test_the_signed_timestamp_cannot_be_swapped_for_another():
    header = f"t={T + 1},v1={sdk_v1(BODY, SECRET, T)}"
    with pytest.raises(SignatureError, match="matches"):
        verify(request(header=header))


def test_a_missing_header_is_refused():
    with pytest.raises(SignatureError, match="missing Stripe-Signature"):
        verify(request(header=None))


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "t=,v1=abc",
        f"t=abc,v1={'0' * 64}",
        f"t=-{T},v1={'0' * 64}",
        f"t={T}.5,v1={'0' * 64}",
        f"v1={'0' * 64}",
        f"t={T},t={T},v1={'0' * 64}",
        f"t={T}",
        f"t={T},v1=",
        f"t={T},v1={'z' * 64}",
        f"t={T},v1={'0' * 63}",
        f"t={T}," + ",".join([f"v1={'0' * 64}"] * 40),
    ],
)
def test_a_malformed_header_is_refused(header):
    with pytest.raises(SignatureError):
        verify(request(header=header))


def test_a_request_signed_with_an_unknown_secret_is_refused():
    with pytest.raises(SignatureError, match="matches"):
        verify(request(header=sdk_header(BODY, "whsec_not_ours")))


@pytest.mark.parametrize("configured", [secrets(), secrets(""), WebhookSecrets()])
def test_without_a_configured_secret_nothing_is_accepted(configured):
    with pytest.raises(SignatureError, match="no Stripe signing secret"):
        verify(request(header=sdk_header(BODY)), configured)


def test_refusals_never_repeat_the_signature_or_the_secret():
    signature = sdk_v1(BODY, SECRET)
    cases = [
        (request(BODY + b" ", sdk_header(BODY)), secrets(SECRET), NOW),
        (request(header=sdk_header(BODY)), secrets(OTHER_SECRET), NOW),
        (request(header=sdk_header(BODY)), secrets(SECRET), NOW + timedelta(hours=1)),
        (request(header=f"t=x,v1={signature}"), secrets(SECRET), NOW),
        (request(header=f"{signature}"), secrets(SECRET), NOW),
    ]
    for req, configured, now in cases:
        with pytest.raises(SignatureError) as caught:
            provider.verify(req, configured, now)
        for secret_text in (signature, SECRET, OTHER_SECRET, SECRET.removeprefix("whsec_")):
            assert secret_text not in caught.value.message


@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(max_size=300).map(lambda b: b.decode("latin-1").encode()),
    flip=st.one_of(st.none(), st.integers(min_value=0)),
    signer=st.sampled_from([SECRET, OTHER_SECRET]),
)
def test_acceptance_agrees_with_the_stripe_sdk(body, flip, signer):
    received = bytearray(body)
    if flip is not None and received:
        received[flip % len(received)] ^= 0x20
    header = sdk_header(body, signer)
    try:
        stripe.WebhookSignature.verify_header(bytes(received).decode(), header, SECRET, 0)
        sdk_accepts = True
    except (stripe.SignatureVerificationError, UnicodeDecodeError):
        sdk_accepts = False
    try:
        verify(request(bytes(received), header))
        we_accept = True
    except SignatureError:
        we_accept = False
    assert we_accept is sdk_accepts


# --- parsing ----------------------------------------------------------------------------


def test_the_body_is_kept_byte_for_byte_for_replay():
    [parsed] = provider.parse(request(BODY))
    assert parsed.raw == BODY


def test_a_parsed_fixture_is_also_accepted_by_the_stripe_sdk_as_the_same_event():
    raw = (FIXTURES / "charge.refunded.json").read_bytes()
    sdk_event = stripe.Webhook.construct_event(raw, sdk_header(raw), SECRET, tolerance=None)
    [parsed] = provider.parse(request(raw))
    assert parsed.event.event_id == sdk_event.id
    assert parsed.event.payment_id == sdk_event.data.object.payment_intent


def event(event_type: str, obj: dict, **envelope) -> bytes:
    body = {
        "id": "evt_1", "object": "event", "created": T, "livemode": True, "type": event_type,
        "data": {"object": obj}, **envelope,
    }
    return json.dumps(body).encode()


def intent(**fields) -> dict:
    return {
        "id": "pi_1", "object": "payment_intent", "amount": 1000, "currency": "eur",
        "customer": None, "created": T - 60, "livemode": True, "metadata": {},
        "payment_method_types": ["card"], **fields,
    }


def charge(**fields) -> dict:
    return {
        "id": "ch_1", "object": "charge", "amount": 1000, "amount_refunded": 400,
        "currency": "eur", "customer": "cus_1", "created": T - 30, "metadata": {},
        "payment_intent": "pi_1", "payment_method_details": {"type": "sepa_debit"}, **fields,
    }


def dispute(**fields) -> dict:
    return {
        "id": "dp_1", "object": "dispute", "amount": 600, "currency": "eur", "charge": "ch_1",
        "created": T - 10, "metadata": {}, "payment_intent": "pi_1", "status": "needs_response",
        **fields,
    }


def parse(body: bytes) -> CanonicalEvent:
    [parsed] = provider.parse(request(body))
    return parsed.event


@pytest.mark.parametrize(
    "event_type, status",
    [
        ("payment_intent.created", Status.PENDING),
        ("payment_intent.processing", Status.PENDING),
        ("payment_intent.requires_action", Status.PENDING),
        ("payment_intent.amount_capturable_updated", Status.PENDING),
        ("payment_intent.succeeded", Status.SUCCEEDED),
        ("payment_intent.payment_failed", Status.FAILED),
        ("payment_intent.canceled", Status.CANCELED),
    ],
)
def test_payment_intent_events_map_to_their_status_with_the_intent_as_payment(event_type, status):
    parsed = parse(event(event_type, intent()))
    assert (parsed.payment_id, parsed.status, parsed.refund_by_amount) == ("pi_1", status, False)
    assert parsed.type == event_type
    assert parsed.occurred_at == NOW
    assert parsed.facts.known() == {
        "amount": 1000, "currency": "EUR", "created_at": NOW - timedelta(seconds=60),
        "live": True, "payment_method": "card",
    }


def test_a_connected_account_is_the_merchant_even_when_metadata_names_one():
    parsed = parse(event(
        "payment_intent.succeeded", intent(metadata={"merchant_id": "m-1"}), account="acct_9"
    ))
    assert parsed.facts.merchant_id == "acct_9"


def test_without_a_connected_account_the_merchant_comes_from_metadata():
    parsed = parse(event("payment_intent.succeeded", intent(metadata={"merchant_id": "m-1"})))
    assert parsed.facts.merchant_id == "m-1"


@pytest.mark.parametrize("types", [["card", "link"], [], None])
def test_the_payment_method_is_only_known_when_the_intent_allows_exactly_one(types):
    parsed = parse(event("payment_intent.succeeded", intent(payment_method_types=types)))
    assert parsed.facts.payment_method is None


def test_expanded_customer_and_payment_intent_objects_give_their_ids():
    parsed = parse(event("payment_intent.succeeded", intent(customer={"id": "cus_7"})))
    assert parsed.facts.customer_id == "cus_7"
    parsed = parse(event("charge.refunded", charge(payment_intent={"id": "pi_7"})))
    assert parsed.payment_id == "pi_7"


def test_a_charge_refund_is_resolved_by_amount_and_carries_the_charge_facts_but_not_its_creation():
    parsed = parse(event("charge.refunded", charge(), account="acct_9"))
    assert (parsed.payment_id, parsed.status, parsed.refund_by_amount) == (
        "pi_1", Status.PARTIALLY_REFUNDED, True
    )
    assert parsed.facts.known() == {
        "amount": 1000, "currency": "EUR", "amount_refunded": 400, "customer_id": "cus_1",
        "payment_method": "sepa_debit", "live": True, "merchant_id": "acct_9",
    }


def test_a_dispute_states_the_currency_but_never_its_own_amount_as_the_payments():
    parsed = parse(event("charge.dispute.created", dispute(metadata={"merchant_id": "m-1"})))
    assert (parsed.payment_id, parsed.status) == ("pi_1", Status.DISPUTED)
    assert parsed.facts.known() == {"currency": "EUR", "live": True, "merchant_id": "m-1"}


@pytest.mark.parametrize(
    "closed_as, status", [("won", Status.SUCCEEDED), ("lost", Status.DISPUTED)]
)
def test_a_closed_dispute_restores_the_payment_when_won_and_keeps_it_disputed_when_lost(
    closed_as, status
):
    parsed = parse(event("charge.dispute.closed", dispute(status=closed_as)))
    assert (parsed.payment_id, parsed.status) == ("pi_1", status)


@pytest.mark.parametrize("closed_as", ["warning_closed", "prevented"])
def test_other_dispute_closures_are_ignored(closed_as):
    parsed = parse(event("charge.dispute.closed", dispute(status=closed_as)))
    assert parsed.describes_payment is False
    assert parsed.payment_id is None and parsed.status is None


@pytest.mark.parametrize(
    "event_type, obj",
    [
        ("charge.refunded", charge(payment_intent=None)),
        ("charge.dispute.created", dispute(payment_intent=None)),
        ("charge.dispute.closed", dispute(payment_intent=None, status="won")),
    ],
)
def test_a_charge_or_dispute_without_a_payment_intent_is_ignored(event_type, obj):
    parsed = parse(event(event_type, obj))
    assert (parsed.payment_id, parsed.status, parsed.describes_payment) == (None, None, False)


@pytest.mark.parametrize(
    "event_type",
    ["customer.created", "charge.succeeded", "payment_intent.partially_funded", "v2.core.x"],
)
def test_event_types_that_do_not_describe_a_payment_are_ignored_whatever_their_object(event_type):
    parsed = parse(event(event_type, {"id": "cus_1", "currency": "not-a-currency"}))
    assert (parsed.event_id, parsed.type, parsed.occurred_at) == ("evt_1", event_type, NOW)
    assert (parsed.payment_id, parsed.status, parsed.transaction_ref) == (None, None, None)


def _without(obj: dict, key: str) -> dict:
    return {k: v for k, v in obj.items() if k != key}


@pytest.mark.parametrize(
    "body, field",
    [
        (b"not json", "body"),
        (b"\xff\xfe{", "body"),
        (b"[1, 2]", "body"),
        (b'{"id": NaN}', "body"),
        (b"[" * 100_000, "body"),
        (json.dumps(_without(json.loads(event("x", {})), "id")).encode(), "id"),
        (event("x", {}, id=""), "id"),
        (event("x", {}, id="evt/1"), "id"),
        (event("x", {}, id="e" * 256), "id"),
        (event("x", {}, id=7), "id"),
        (event("x", {}, type=None), "type"),
        (event("x", {}, type=["payment_intent.succeeded"]), "type"),
        (event("x", {}, created="2026-01-01T00:00:00Z"), "created"),
        (event("x", {}, created=1.5), "created"),
        (event("x", {}, created=True), "created"),
        (event("x", {}, created=10**20), "created"),
        (event("x", {}, data=None), "data"),
        (event("x", {}, data={"previous_attributes": {}}), "data.object"),
        (event("x", {}, data={"object": "pi_1"}), "data.object"),
        (event("payment_intent.succeeded", _without(intent(), "amount")), "data.object.amount"),
        (event("payment_intent.succeeded", intent(amount="1000")), "data.object.amount"),
        (event("payment_intent.succeeded", intent(amount=10.5)), "data.object.amount"),
        (event("payment_intent.succeeded", intent(amount=-1)), "data.object.amount"),
        (event("payment_intent.succeeded", intent(amount=False)), "data.object.amount"),
        (event("payment_intent.succeeded", intent(currency="zzz")), "data.object.currency"),
        (event("payment_intent.succeeded", intent(currency=None)), "data.object.currency"),
        (event("payment_intent.succeeded", intent(id=None)), "data.object.id"),
        (event("payment_intent.succeeded", intent(id="pi/1")), "data.object.id"),
        (event("payment_intent.succeeded", intent(created="yesterday")), "data.object.created"),
        (event("payment_intent.succeeded", intent(customer=5)), "data.object.customer"),
        (event("payment_intent.succeeded", intent(customer={})), "data.object.customer.id"),
        (event("payment_intent.succeeded", intent(metadata=[])), "data.object.metadata"),
        (
            event("payment_intent.succeeded", intent(metadata={"merchant_id": 42})),
            "data.object.metadata.merchant_id",
        ),
        (
            event("payment_intent.succeeded", intent(payment_method_types="card")),
            "data.object.payment_method_types",
        ),
        (event("payment_intent.succeeded", intent(), livemode="yes"), "livemode"),
        (event("payment_intent.succeeded", intent(), account=12), "account"),
        (event("charge.refunded", charge(amount_refunded=None)), "data.object.amount_refunded"),
        (event("charge.refunded", charge(payment_intent=3)), "data.object.payment_intent"),
        (
            event("charge.refunded", charge(payment_method_details="card")),
            "data.object.payment_method_details",
        ),
        (event("charge.dispute.created", dispute(currency="usdd")), "data.object.currency"),
        (event("charge.dispute.closed", dispute(status=None)), "data.object.status"),
    ],
)
def test_a_malformed_event_is_refused_naming_the_field(body, field):
    with pytest.raises(InvalidPayload) as caught:
        parse(body)
    assert caught.value.message.startswith(f"{field}: ")


def test_an_unknown_currency_is_named_with_its_value():
    with pytest.raises(InvalidPayload) as caught:
        parse(event("payment_intent.succeeded", intent(currency="zzz")))
    assert caught.value.message == "data.object.currency: 'zzz' is not an ISO 4217 currency code"


def test_a_stored_event_parses_again_into_the_same_canonical_event():
    raw = (FIXTURES / "charge.dispute.created.json").read_bytes()
    [parsed] = provider.parse(request(raw))
    assert provider.parse_stored(raw, parsed.event.event_id) == parsed.event


def test_a_stored_event_under_another_id_is_refused():
    with pytest.raises(InvalidPayload, match="^id: "):
        provider.parse_stored(BODY, "evt_something_else")
