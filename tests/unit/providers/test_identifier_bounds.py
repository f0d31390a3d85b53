"""Ids a provider sends become DynamoDB keys: one that AWS would refuse as a key (over
1,024 bytes in the listing indexes' sort key) is `400 invalid_payload` when it is read,
for every provider, instead of a 503 on every retry. moto enforces none of these limits."""
from __future__ import annotations

import json

import pytest

from chalicelib.errors import InvalidPayload
from chalicelib.providers import adyen, generic, square, stripe
from chalicelib.providers.payload import Fields

WIDE = "\U0001F600" * 255  # 255 characters, 1,020 bytes of UTF-8
CJK = "\u4e2d" * 230  # 690 bytes: fits (and leaves Adyen room for its event id suffix)


def stripe_intent(intent_id: str) -> dict:
    return {"id": "evt_1", "type": "payment_intent.succeeded", "created": 1767261600,
            "data": {"object": {"id": intent_id, "amount": 100, "currency": "usd", "created": 1767261600}}}


def square_payment(payment_id: str) -> dict:
    return {"event_id": "e-1", "type": "payment.updated", "created_at": "2026-01-01T10:00:00Z",
            "data": {"object": {"payment": {"id": payment_id, "status": "COMPLETED",
                                            "amount_money": {"amount": 100, "currency": "USD"}}}}}


def adyen_item(psp: str) -> dict:
    return {"pspReference": psp, "eventCode": "AUTHORISATION", "success": "true",
            "eventDate": "2026-01-01T10:00:00Z", "amount": {"value": 100, "currency": "EUR"}}


def generic_body(payment_id: str) -> bytes:
    return json.dumps({"type": "payment.succeeded", "timestamp": "2026-01-01T10:00:00Z",
                       "data": {"id": payment_id, "amount": 100, "currency": "EUR", "status": "succeeded"}}).encode()


PARSERS = {
    "stripe": lambda payment_id: stripe.canonical_event(stripe_intent(payment_id)),
    "square": lambda payment_id: square.canonical_event(Fields(square_payment(payment_id), "")),
    "adyen": lambda payment_id: adyen.canonical_event(Fields(adyen_item(payment_id), ""), None),
    "generic": lambda payment_id: generic.canonical_event(generic_body(payment_id), "msg_1"),
}


@pytest.mark.parametrize("provider", sorted(PARSERS))
def test_a_payment_id_of_255_four_byte_characters_is_invalid_payload(provider: str) -> None:
    with pytest.raises(InvalidPayload, match="bytes"):
        PARSERS[provider](WIDE)


@pytest.mark.parametrize("provider", sorted(PARSERS))
def test_a_payment_id_of_255_three_byte_characters_is_read(provider: str) -> None:
    assert PARSERS[provider](CJK).payment_id == CJK


def test_a_generic_webhook_id_of_255_four_byte_characters_is_invalid_payload() -> None:
    with pytest.raises(InvalidPayload, match="webhook-id"):
        generic.canonical_event(generic_body("ord-1"), WIDE)
