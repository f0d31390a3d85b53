"""Signing test requests with the providers' own SDKs, so our verification is checked
against the real thing rather than against itself."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe
from standardwebhooks import Webhook

from tests.support.paypal import OTHER_WEBHOOK_ID, paypal_headers, paypal_secrets

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRETS = json.loads((REPO_ROOT / "local" / "secrets.json").read_text())
FIXTURES = REPO_ROOT / "tests" / "fixtures"


def fixture_bytes(provider: str, name: str) -> bytes:
    return (FIXTURES / provider / f"{name}.json").read_bytes()


def stripe_headers(body: bytes, secret: str | None = None, timestamp: int | None = None) -> dict[str, str]:
    secret = secret or SECRETS["stripe"]["signing_secrets"][0]
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body.decode()}", secret)
    return {"Content-Type": "application/json", "Stripe-Signature": f"t={timestamp},v1={signature}"}


def generic_headers(body: bytes, event_id: str, secret: str | None = None,
                    timestamp: int | None = None) -> dict[str, str]:
    from datetime import datetime, timezone

    secret = secret or SECRETS["generic"]["signing_secrets"][0]
    moment = datetime.fromtimestamp(int(time.time()) if timestamp is None else timestamp, tz=timezone.utc)
    signature = Webhook(secret).sign(event_id, moment, body.decode())
    return {
        "Content-Type": "application/json", "webhook-id": event_id,
        "webhook-timestamp": str(int(moment.timestamp())), "webhook-signature": signature,
    }


def stripe_event(event_id: str, event_type: str, created: int, intent: dict) -> bytes:
    """A minimal Stripe Event around a PaymentIntent-like object (for ordering tests)."""
    return json.dumps({
        "id": event_id, "object": "event", "type": event_type, "created": created,
        "livemode": False, "data": {"object": intent},
    }).encode()


def payment_intent(intent_id: str, status: str, amount: int = 2000, created: int = 1767261600,
                   customer: str = "cus_1", merchant: str = "m-1") -> dict:
    return {
        "id": intent_id, "object": "payment_intent", "amount": amount, "currency": "usd",
        "customer": customer, "created": created, "status": status,
        "metadata": {"merchant_id": merchant}, "payment_method_types": ["card"],
    }


# --- Adyen: each NotificationRequestItem signed by Adyen's own SDK ------------------------

ADYEN_KEY = SECRETS["adyen"]["hmac_keys"][0]


def adyen_sign(item: dict, key: str | None = None) -> dict:
    """The item with `additionalData.hmacSignature` as `Adyen.util` computes it."""
    from Adyen.util import generate_notification_sig

    signature = generate_notification_sig(item, key or ADYEN_KEY).decode()
    return {**item, "additionalData": {**item.get("additionalData", {}), "hmacSignature": signature}}


def adyen_item(psp: str, code: str, value: int, *, original: str | None = None,
               success: str = "true", at: str = "2026-01-01T11:00:00+01:00", currency: str = "EUR",
               key: str | None = None, **extra: object) -> dict:
    """A signed NotificationRequestItem; `original` is the payment a modification refers to."""
    item = {
        "amount": {"currency": currency, "value": value}, "eventCode": code, "eventDate": at,
        "merchantAccountCode": "AcmeKitECOM", "merchantReference": f"order-{psp}",
        "paymentMethod": "visa", "pspReference": psp, "success": success, **extra,
    }
    if original is not None:
        item["originalReference"] = original
    return adyen_sign(item, key)


def adyen_body(*items: dict, live: str = "false") -> bytes:
    return json.dumps({"live": live, "notificationItems": [
        {"NotificationRequestItem": item} for item in items]}).encode()


# --- Square: computed as Square documents it, checked with Square's SDK -------------------

SQUARE_KEY = SECRETS["square"]["signature_keys"][0]
SQUARE_URL = SECRETS["square"]["notification_url"]


def square_signature(body: bytes, key: str | None = None, url: str | None = None) -> str:
    """base64 HMAC-SHA256(key, notification URL + body), and the SDK must agree."""
    import base64
    import hashlib
    import hmac

    from square.utils.webhooks_helper import verify_signature

    key, url = key or SQUARE_KEY, url or SQUARE_URL
    signature = base64.b64encode(hmac.new(key.encode(), url.encode() + body, hashlib.sha256).digest()).decode()
    assert verify_signature(request_body=body.decode(), signature_header=signature,
                            signature_key=key, notification_url=url)
    return signature


def square_headers(body: bytes, key: str | None = None, url: str | None = None) -> dict[str, str]:
    return {"Content-Type": "application/json",
            "x-square-hmacsha256-signature": square_signature(body, key, url)}


# --- One signer per registered provider, for the conformance test -------------------------

ADYEN_VECTOR_KEY = "74F490DD33F7327BAECC88B2947C011FC02D014A473AAA33A8EC93E4DC069174"
"""The key Adyen signed its own test notification with (`adyen/AUTHORISATION_adyen-signed`)."""


@dataclass(frozen=True)
class FixtureSigner:
    """How one provider's fixtures are signed in tests.

    `headers(body, event_id, at)` are the headers of a delivery of `body` signed at unix
    time `at` with a secret of `secrets` (the provider's secrets section); `event_id` is
    the expected event id, for schemes that carry it in a header. `other_secrets` holds
    only keys that signed none of it."""

    secrets: dict[str, Any]
    other_secrets: dict[str, Any]
    headers: Callable[[bytes, str, int], dict[str, str]]


SIGNERS: dict[str, FixtureSigner] = {
    "stripe": FixtureSigner(
        secrets=SECRETS["stripe"],
        other_secrets={"signing_secrets": ["whsec_someone_else_0123456789"]},
        headers=lambda body, event_id, at: stripe_headers(body, timestamp=at),
    ),
    "generic": FixtureSigner(
        secrets=SECRETS["generic"],
        other_secrets={"signing_secrets": ["whsec_c29tZW9uZSBlbHNlJ3Mgc2lnbmluZyBrZXk="]},
        headers=lambda body, event_id, at: generic_headers(body, event_id, timestamp=at),
    ),
    "square": FixtureSigner(
        secrets=SECRETS["square"],
        other_secrets={"signature_keys": ["someone-else-s-key"], "notification_url": SQUARE_URL},
        headers=lambda body, event_id, at: square_headers(body),
    ),
    # Adyen signs each item inside the body: the fixtures come signed (by the kit key, one
    # by Adyen itself), so a delivery needs no header.
    "adyen": FixtureSigner(
        secrets={**SECRETS["adyen"], "hmac_keys": [ADYEN_KEY, ADYEN_VECTOR_KEY]},
        other_secrets={"hmac_keys": ["00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"]},
        headers=lambda body, event_id, at: {"Content-Type": "application/json"},
    ),
    # PayPal signs with the test authority's certificate, served from 127.0.0.1.
    "paypal": FixtureSigner(
        secrets=paypal_secrets(),
        other_secrets=paypal_secrets(webhook_ids=[OTHER_WEBHOOK_ID]),
        headers=lambda body, event_id, at: paypal_headers(body, at),
    ),
}
