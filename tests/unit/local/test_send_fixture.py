"""The "Try it" sender signs as each provider does: its headers pass the providers' own SDKs."""
from __future__ import annotations

import time

import pytest
import stripe
from square.utils.webhooks_helper import verify_signature
from standardwebhooks import Webhook

from local.send_fixture import signed_headers
from tests.support.signing import SECRETS, fixture_bytes


def test_a_stripe_fixture_is_signed_as_stripe_signs() -> None:
    body = fixture_bytes("stripe", "payment_intent.succeeded")
    headers = signed_headers("stripe", body, SECRETS, int(time.time()), "unused")
    stripe.WebhookSignature.verify_header(body.decode(), headers["Stripe-Signature"],
                                          SECRETS["stripe"]["signing_secrets"][0], tolerance=300)


def test_a_square_fixture_is_signed_over_the_configured_notification_url() -> None:
    body = fixture_bytes("square", "payment.updated")
    headers = signed_headers("square", body, SECRETS, int(time.time()), "unused")
    assert verify_signature(request_body=body.decode(),
                            signature_header=headers["x-square-hmacsha256-signature"],
                            signature_key=SECRETS["square"]["signature_keys"][0],
                            notification_url=SECRETS["square"]["notification_url"])


def test_a_generic_fixture_is_signed_the_standard_webhooks_way_under_the_given_id() -> None:
    body = fixture_bytes("generic", "payment.succeeded")
    headers = signed_headers("generic", body, SECRETS, int(time.time()), "msg_try_1")
    assert headers["webhook-id"] == "msg_try_1"
    Webhook(SECRETS["generic"]["signing_secrets"][0]).verify(body, headers)


def test_an_adyen_body_goes_unchanged_because_its_signatures_are_inside_it() -> None:
    assert signed_headers("adyen", b"{}", SECRETS, 0, "unused") == {"Content-Type": "application/json"}


def test_a_provider_without_a_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="paypal"):
        signed_headers("paypal", b"{}", SECRETS, 0, "unused")
