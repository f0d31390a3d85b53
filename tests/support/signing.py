"""Signing test requests with the providers' own SDKs, so our verification is checked
against the real thing rather than against itself."""
from __future__ import annotations

import json
import time
from pathlib import Path

import stripe
from standardwebhooks import Webhook

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
