"""Generic receiver: Standard Webhooks signatures made by the standardwebhooks library
itself, and the canonical body of contract section 1."""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from chalicelib.domain.events import CanonicalEvent
from chalicelib.domain.status import Status
from chalicelib.errors import InvalidPayload, SignatureError
from chalicelib.providers.base import WebhookRequest
from chalicelib.providers.generic import GenericProvider
from chalicelib.providers.secrets import WebhookSecrets

FIXTURES = Path(__file__).parents[2] / "fixtures" / "generic"
SECRET = "whsec_" + base64.b64encode(b"generic-test-signing-key-0123456").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"the rotated generic signing key").decode()
NOW = datetime(2026, 11, 20, 10, 0, 5, tzinfo=timezone.utc)
MSG_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
BODY = (FIXTURES / "payment.succeeded.json").read_bytes()

provider = GenericProvider()


def secrets(*signing_secrets: str) -> WebhookSecrets:
    return WebhookSecrets.model_validate({"generic": {"signing_secrets": list(signing_secrets)}})


def library_signature(
    body: bytes = BODY, secret: str = SECRET, msg_id: str = MSG_ID, at: datetime = NOW
) -> str:
    """`v1,<base64>` exactly as the standardwebhooks library signs."""
    return Webhook(secret).sign(msg_id, at, body.decode())


def headers(
    body: bytes = BODY, secret: str = SECRET, msg_id: str = MSG_ID, at: datetime = NOW
) -> dict[str, str]:
    return {
        "Webhook-Id": msg_id,
        "Webhook-Timestamp": str(int(at.timestamp())),
        "Webhook-Signature": library_signature(body, secret, msg_id, at),
    }


def verify(body: bytes, sent: dict[str, str], configured=None, now=NOW) -> None:
    configured = configured if configured is not None else secrets(SECRET)
    provider.verify(WebhookRequest.of(body, sent), configured, now)


# --- signatures -------------------------------------------------------------------------


def test_a_request_signed_by_the_standardwebhooks_library_is_accepted():
    verify(BODY, headers())


def test_a_request_signed_with_the_second_of_two_configured_secrets_is_accepted():
    verify(BODY, headers(secret=OTHER_SECRET), secrets(SECRET, OTHER_SECRET))


def test_any_one_of_several_signatures_may_match_and_other_versions_are_ignored():
    sent = headers()
    valid = sent["Webhook-Signature"]
    wrong = library_signature(secret=OTHER_SECRET)
    sent["Webhook-Signature"] = f"v1a,{valid.split(',')[1]} {wrong} v1,not-base64!! {valid}"
    verify(BODY, sent)


@pytest.mark.parametrize("version", ["v1a", "v2", "V1", ""])
def test_a_matching_signature_under_another_version_is_not_enough(version):
    sent = headers()
    sent["Webhook-Signature"] = sent["Webhook-Signature"].replace("v1,", f"{version},")
    with pytest.raises(SignatureError, match="no v1"):
        verify(BODY, sent)


def test_a_secret_without_the_whsec_prefix_is_read_as_the_library_reads_it():
    verify(BODY, headers(), secrets(SECRET.removeprefix("whsec_").rstrip("=")))


def test_an_unusable_configured_secret_does_not_stop_a_usable_one():
    verify(BODY, headers(), secrets("whsec_", "whsec_!!!", SECRET))


@pytest.mark.parametrize("offset", [0, 300, -300])
def test_a_timestamp_within_300_seconds_of_now_either_way_is_accepted(offset):
    verify(BODY, headers(at=NOW - timedelta(seconds=offset)))


def test_a_signature_301_seconds_old_has_expired():
    with pytest.raises(SignatureError, match="expired"):
        verify(BODY, headers(at=NOW - timedelta(seconds=301)))


def test_a_signature_301_seconds_in_the_future_is_refused():
    with pytest.raises(SignatureError, match="future"):
        verify(BODY, headers(at=NOW + timedelta(seconds=301)))


@pytest.mark.parametrize("position", [0, len(BODY) // 2, len(BODY) - 1])
def test_changing_one_byte_of_the_body_breaks_the_signature(position):
    tampered = bytearray(BODY)
    tampered[position] ^= 0x01
    with pytest.raises(SignatureError, match="matches"):
        verify(bytes(tampered), headers())


@pytest.mark.parametrize(
    "header, value",
    [("Webhook-Id", "msg_other"), ("Webhook-Timestamp", str(int(NOW.timestamp()) + 1))],
)
def test_the_signature_covers_the_webhook_id_and_timestamp(header, value):
    sent = headers()
    sent[header] = value
    with pytest.raises(SignatureError, match="matches"):
        verify(BODY, sent)


@pytest.mark.parametrize("missing", ["Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"])
def test_each_missing_header_is_refused_by_name(missing):
    sent = headers()
    del sent[missing]
    with pytest.raises(SignatureError, match=f"missing {missing.lower()}"):
        verify(BODY, sent)


@pytest.mark.parametrize(
    "header, value",
    [
        ("Webhook-Timestamp", "soon"),
        ("Webhook-Timestamp", "1795168805.0"),
        ("Webhook-Timestamp", "-1795168805"),
        ("Webhook-Timestamp", "1e9"),
        ("Webhook-Signature", "garbage"),
        ("Webhook-Signature", "v1"),
        ("Webhook-Signature", "v1,"),
        ("Webhook-Signature", "v2,c2lnbmF0dXJl"),
        ("Webhook-Signature", " ".join(["v1,c2lnbmF0dXJl"] * 40)),
    ],
)
def test_a_malformed_header_is_refused(header, value):
    sent = headers()
    sent[header] = value
    with pytest.raises(SignatureError):
        verify(BODY, sent)


def test_a_request_signed_with_an_unknown_secret_is_refused():
    with pytest.raises(SignatureError, match="matches"):
        verify(BODY, headers(secret=OTHER_SECRET))


@pytest.mark.parametrize("configured", [secrets(), secrets("whsec_"), WebhookSecrets()])
def test_without_a_usable_configured_secret_nothing_is_accepted(configured):
    with pytest.raises(SignatureError, match="no generic signing secret"):
        verify(BODY, headers(), configured)


def test_refusals_never_repeat_the_signature_or_the_secret():
    signature = library_signature().split(",")[1]
    for body, sent, configured, now in [
        (BODY + b" ", headers(), secrets(SECRET), NOW),
        (BODY, headers(), secrets(OTHER_SECRET), NOW),
        (BODY, headers(), secrets(SECRET), NOW + timedelta(hours=1)),
    ]:
        with pytest.raises(SignatureError) as caught:
            verify(body, sent, configured, now)
        for secret_text in (signature, SECRET, SECRET.removeprefix("whsec_"), OTHER_SECRET):
            assert secret_text not in caught.value.message


@settings(max_examples=60, deadline=None)
@given(
    body=st.text(max_size=200).map(str.encode),
    msg_id=st.from_regex(r"[A-Za-z0-9_]{1,40}", fullmatch=True),
    flip=st.one_of(st.none(), st.integers(min_value=0)),
    signer=st.sampled_from([SECRET, OTHER_SECRET]),
)
def test_acceptance_agrees_with_the_standardwebhooks_library(body, msg_id, flip, signer):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    sent = headers(body, signer, msg_id, now)
    received = bytearray(body)
    if flip is not None and received:
        received[flip % len(received)] ^= 0x20
    try:
        Webhook(SECRET).verify(bytes(received), sent, json_parse=False)
        library_accepts = True
    except (WebhookVerificationError, UnicodeDecodeError):
        library_accepts = False
    try:
        verify(bytes(received), sent, now=now)
        we_accept = True
    except SignatureError:
        we_accept = False
    assert we_accept is library_accepts


# --- parsing ----------------------------------------------------------------------------


def parse(body: bytes | dict, msg_id: str = MSG_ID) -> CanonicalEvent:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    [parsed] = provider.parse(WebhookRequest.of(raw, {"webhook-id": msg_id}))
    assert parsed.raw == raw
    return parsed.event


def canonical(status: str = "succeeded", **data) -> dict:
    return {
        "type": f"payment.{status}",
        "timestamp": "2026-11-20T10:00:00Z",
        "data": {"id": "ord-1", "amount": 12550, "currency": "EUR", "status": status, **data},
    }


@pytest.mark.parametrize("status", list(Status))
def test_each_payment_type_gives_its_status_explicitly(status):
    parsed = parse(canonical(status.value, amount_refunded=100))
    assert (parsed.payment_id, parsed.status, parsed.refund_by_amount) == ("ord-1", status, False)
    assert parsed.type == f"payment.{status.value}"
    refunds = (Status.REFUNDED, Status.PARTIALLY_REFUNDED)
    assert parsed.facts.amount_refunded == (100 if status in refunds else None)


def test_the_event_id_is_the_webhook_id_header_and_the_time_is_the_body_timestamp():
    parsed = parse(canonical(), msg_id="msg_abc")
    assert parsed.event_id == "msg_abc"
    assert parsed.occurred_at == datetime(2026, 11, 20, 10, tzinfo=timezone.utc)


def test_optional_fields_left_out_are_facts_the_event_does_not_state():
    assert parse(canonical()).facts.known() == {"amount": 12550, "currency": "EUR"}


def test_unknown_fields_are_tolerated():
    body = canonical(future_field=1)
    body["version"] = 2
    assert parse(body).payment_id == "ord-1"


@pytest.mark.parametrize("event_type", ["customer.created", "refund", "payments.succeeded"])
def test_a_well_formed_envelope_outside_the_payment_namespace_is_ignored(event_type):
    parsed = parse({"type": event_type, "timestamp": "2026-11-20T10:00:00Z", "data": {"x": 1}})
    assert (parsed.type, parsed.payment_id, parsed.status) == (event_type, None, None)
    assert parsed.describes_payment is False


def _mutate(path: str, value) -> dict:
    body = canonical()
    *parents, leaf = path.split(".")
    target = body
    for key in parents:
        target = target[key]
    if value is _MISSING:
        del target[leaf]
    else:
        target[leaf] = value
    return body


_MISSING = object()


@pytest.mark.parametrize(
    "path, value",
    [
        ("type", _MISSING),
        ("type", 7),
        ("type", ""),
        ("type", "payment.settled"),
        ("type", "payment."),
        ("timestamp", _MISSING),
        ("timestamp", "2026-11-20T10:00:00"),
        ("timestamp", "yesterday"),
        ("timestamp", 1795168800),
        ("timestamp", "0999-01-01T00:00:00Z"),
        ("timestamp", "0001-01-01T00:00:00+01:00"),
        ("timestamp", "2026-11-20T10:00:00Z" * 100),
        ("data", _MISSING),
        ("data", [1]),
        ("data.id", _MISSING),
        ("data.id", ""),
        ("data.id", "ord/1"),
        ("data.id", "x" * 256),
        ("data.id", 1001),
        ("data.amount", _MISSING),
        ("data.amount", -1),
        ("data.amount", "12550"),
        ("data.amount", 125.5),
        ("data.amount", True),
        ("data.amount", 2**63),
        ("data.currency", _MISSING),
        ("data.currency", "zzz"),
        ("data.currency", 978),
        ("data.currency", "EUR" * 1000),
        ("data.status", _MISSING),
        ("data.status", "settled"),
        ("data.merchant_id", ""),
        ("data.customer_id", 7),
        ("data.payment_method", ["card"]),
        ("data.created_at", "2026-11-20"),
        ("data.amount_refunded", -1),
        ("data.amount_refunded", 12551),
        ("data.description", 5),
        ("data.metadata", {"any": 1}),
        ("data.metadata", "x"),
    ],
)
def test_an_invalid_field_is_refused_naming_it(path, value):
    with pytest.raises(InvalidPayload) as caught:
        parse(_mutate(path, value))
    assert re.match(rf"{re.escape(path)}(\.\w+)*: ", caught.value.message)
    assert len(caught.value.message) < 300


def test_an_unknown_currency_is_named_with_its_value():
    with pytest.raises(InvalidPayload) as caught:
        parse(_mutate("data.currency", "zzz"))
    assert caught.value.message == "data.currency: 'zzz' is not an ISO 4217 currency code"


def test_a_status_that_contradicts_the_type_is_refused():
    with pytest.raises(InvalidPayload) as caught:
        parse(_mutate("data.status", "pending"))
    assert caught.value.message == "data.status: 'pending' does not match type 'payment.succeeded'"


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'"payment"', b'{"data": NaN}', b"{" * 50_000, b"\xff"]
)
def test_a_body_that_is_not_a_json_object_is_refused(body):
    with pytest.raises(InvalidPayload, match="^body: "):
        parse(body)


@pytest.mark.parametrize("msg_id", ["", "m" * 256, "msg/1"])
def test_an_unaddressable_webhook_id_is_refused(msg_id):
    with pytest.raises(InvalidPayload, match="^webhook-id header: "):
        parse(canonical(), msg_id=msg_id)


def test_a_stored_event_parses_again_into_the_same_canonical_event():
    [parsed] = provider.parse(WebhookRequest.of(BODY, {"webhook-id": MSG_ID}))
    assert provider.parse_stored(BODY, MSG_ID) == parsed.event
