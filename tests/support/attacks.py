"""The signature attack matrix: for every provider, a genuine delivery and the forgeries an
attacker (or a broken proxy) can make of it, each with the answer the contract requires
(docs/api.md sections 1, 5 and 12).

A forgery is built from a genuine delivery so the matrix proves the check, not a typo:
the genuine one is accepted by the same test. Attacks that a provider's scheme makes
meaningless carry the reason instead (Adyen and Square sign no time: a replay of theirs is
a duplicate however late, which tests/e2e/test_permanent_dedupe.py proves)."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from tests.support.paypal import paypal_headers
from tests.support.signing import (
    adyen_body, adyen_item, fixture_bytes, generic_headers, square_headers,
    stripe_headers,
)

OTHER_HMAC = "whsec_someone_else_0123456789"
OTHER_STANDARD = "whsec_c29tZW9uZSBlbHNlJ3Mgc2lnbmluZyBrZXk="
OTHER_ADYEN = "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
HUGE = 8 * 1024
Delivery = tuple[bytes, dict[str, str]]
ATTACKS = ("missing signature", "wrong key", "replayed timestamp", "far-future timestamp", "swapped id",
           "signature for another body", "truncated signature", "repeated header", "8 KB header",
           "certificate URL outside the prefixes")


@dataclass(frozen=True)
class Expected:
    status: int
    error: str


REJECTED = Expected(401, "invalid_signature")
MISDATED = Expected(400, "invalid_payload")  # signed, but more than 15 minutes ahead


@dataclass(frozen=True)
class Attack:
    name: str
    delivery: Delivery | None  # None: does not apply to this provider's scheme
    expected: Expected = REJECTED
    reason: str = ""


def _with(headers: dict[str, str], **changed: str) -> dict[str, str]:
    renamed = {name.replace("_", "-").lower(): value for name, value in changed.items()}
    return {name: renamed.pop(name.lower(), value) for name, value in headers.items()} | renamed


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key.lower() != name.lower()}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _header_attacks(body: bytes, headers: dict[str, str], header: str, other: Delivery,
                    huge: str) -> list[Attack]:
    """What every header-signed scheme shares: the signature header missing, cut, repeated,
    padded to 8 KB, or lifted from another body."""
    value = headers[header]
    other_value = other[1][header]
    return [
        Attack("missing signature", (body, _without(headers, header))),
        Attack("signature for another body", (body, {**headers, header: other_value})),
        Attack("truncated signature", (body, {**headers, header: value[: len(value) // 2]})),
        Attack("repeated header", (body, {**headers, header: f"{other_value}, {other_value}"})),
        Attack("8 KB header", (body, {**headers, header: huge})),
    ]


def stripe_attacks(now: int) -> tuple[Delivery, list[Attack]]:
    body = fixture_bytes("stripe", "payment_intent.succeeded")
    other = fixture_bytes("stripe", "charge.refunded")
    headers = stripe_headers(body, timestamp=now)
    swapped = body.replace(b"evt_3QkAcmeKitf1KuTe0EWotnG3", b"evt_3QkAcmeKitf1KuTe0EWotnG4")
    return (body, headers), [
        *_header_attacks(body, headers, "Stripe-Signature", (other, stripe_headers(other, timestamp=now)),
                         f"t={now},v1={'0' * HUGE}"),
        Attack("wrong key", (body, stripe_headers(body, OTHER_HMAC, now))),
        Attack("replayed timestamp", (body, stripe_headers(body, timestamp=now - 3600))),
        Attack("far-future timestamp", (body, stripe_headers(body, timestamp=now + 3600))),
        Attack("swapped id", (swapped, headers)),
        Attack("certificate URL outside the prefixes", None, reason="HMAC: no certificate"),
    ]


def generic_attacks(now: int) -> tuple[Delivery, list[Attack]]:
    moment = _iso(datetime.fromtimestamp(now, timezone.utc))
    document = {"type": "payment.succeeded", "timestamp": moment,
                "data": {"id": "ord-attack-1", "amount": 1250, "currency": "EUR", "status": "succeeded",
                         "merchant_id": "m-1", "created_at": moment}}
    body = json.dumps(document).encode()
    other = json.dumps({**document, "data": {**document["data"], "amount": 1}}).encode()
    headers = generic_headers(body, "msg_attack_1", timestamp=now)
    return (body, headers), [
        *_header_attacks(body, headers, "webhook-signature",
                         (other, generic_headers(other, "msg_attack_1", timestamp=now)), "v1," + "A" * HUGE),
        Attack("wrong key", (body, generic_headers(body, "msg_attack_1", OTHER_STANDARD, now))),
        Attack("replayed timestamp", (body, generic_headers(body, "msg_attack_1", timestamp=now - 3600))),
        Attack("far-future timestamp", (body, generic_headers(body, "msg_attack_1", timestamp=now + 3600))),
        Attack("swapped id", (body, _with(headers, webhook_id="msg_attack_2"))),
        Attack("certificate URL outside the prefixes", None, reason="HMAC: no certificate"),
    ]


def square_attacks(now: int) -> tuple[Delivery, list[Attack]]:
    body = fixture_bytes("square", "payment.updated")
    other = fixture_bytes("square", "refund.created")
    document = json.loads(body)
    swapped = json.dumps({**document, "event_id": "6a8f5f28-0000-4000-8000-000000000000"}).encode()
    future = json.dumps({**document, "created_at": _iso(datetime.fromtimestamp(now, timezone.utc)
                                                        + timedelta(days=1))}).encode()
    headers = square_headers(body)
    return (body, headers), [
        *_header_attacks(body, headers, "x-square-hmacsha256-signature", (other, square_headers(other)),
                         "A" * HUGE),
        Attack("wrong key", (body, square_headers(body, key="someone-else-s-key"))),
        Attack("replayed timestamp", None, reason="signs no time: a replay is a duplicate"),
        Attack("far-future timestamp", (future, square_headers(future)), MISDATED,
               "signs no time: a signed event dated a day ahead"),
        Attack("swapped id", (swapped, headers)),
        Attack("certificate URL outside the prefixes", None, reason="HMAC: no certificate"),
    ]


def adyen_attacks(now: int) -> tuple[Delivery, list[Attack]]:
    at = _iso(datetime.fromtimestamp(now, timezone.utc) - timedelta(minutes=5))
    item = adyen_item("ATTACK00000000001", "AUTHORISATION", 1250, at=at)
    other = adyen_item("ATTACK00000000002", "AUTHORISATION", 990, at=at)
    signature = item["additionalData"]["hmacSignature"]

    def signed_as(value: str, base: dict = item) -> dict:
        return {**base, "additionalData": {**base["additionalData"], "hmacSignature": value}}

    headers = {"Content-Type": "application/json"}
    future = adyen_item("ATTACK00000000003", "AUTHORISATION", 1250,
                        at=_iso(datetime.fromtimestamp(now, timezone.utc) + timedelta(days=1)))
    return (adyen_body(item), headers), [
        Attack("missing signature", (adyen_body({**item, "additionalData": {}}), headers)),
        Attack("wrong key", (adyen_body(adyen_item("ATTACK00000000001", "AUTHORISATION", 1250, at=at,
                                                   key=OTHER_ADYEN)), headers)),
        Attack("replayed timestamp", None, reason="signs no time: a replay is a duplicate"),
        Attack("far-future timestamp", (adyen_body(future), headers), MISDATED,
               "signs no time: a signed event dated a day ahead"),
        Attack("swapped id", (adyen_body({**item, "pspReference": "ATTACK00000000009"}), headers)),
        Attack("signature for another body", (adyen_body(signed_as(other["additionalData"]["hmacSignature"])),
                                              headers)),
        Attack("truncated signature", (adyen_body(signed_as(signature[: len(signature) // 2])), headers)),
        Attack("repeated header", (adyen_body(item, signed_as(signature, other)), headers),
               reason="signs in the body: a genuine item beside a forged one"),
        Attack("8 KB header", (adyen_body(signed_as("A" * HUGE)), headers)),
        Attack("certificate URL outside the prefixes", None, reason="HMAC: no certificate"),
    ]


def paypal_attacks(now: int) -> tuple[Delivery, list[Attack]]:
    body = fixture_bytes("paypal", "PAYMENT.CAPTURE.COMPLETED")
    other = fixture_bytes("paypal", "PAYMENT.CAPTURE.REFUNDED_full")
    headers = paypal_headers(body, now)
    return (body, headers), [
        *_header_attacks(body, headers, "PAYPAL-TRANSMISSION-SIG", (other, paypal_headers(other, now)),
                         "A" * HUGE),
        Attack("wrong key", (body, paypal_headers(body, now, key="intermediate"))),
        Attack("replayed timestamp", (body, paypal_headers(body, now - 3600))),
        Attack("far-future timestamp", (body, paypal_headers(body, now + 3600))),
        Attack("swapped id", (body, _with(headers, PAYPAL_TRANSMISSION_ID="00000000-0000-4000-8000-000000000000"))),
        Attack("certificate URL outside the prefixes", (body, paypal_headers(
            body, now, cert_url="https://api.paypal.com.attacker.example/v1/notifications/certs/CERT-1"))),
    ]


MATRIX: dict[str, Callable[[int], tuple[Delivery, list[Attack]]]] = {
    "stripe": stripe_attacks, "generic": generic_attacks, "square": square_attacks,
    "adyen": adyen_attacks, "paypal": paypal_attacks,
}


def attacks_for(provider: str, now: int | None = None) -> tuple[Delivery, list[Attack]]:
    genuine, attacks = MATRIX[provider](int(time.time()) if now is None else now)
    assert sorted(attack.name for attack in attacks) == sorted(ATTACKS), provider
    return genuine, sorted(attacks, key=lambda attack: ATTACKS.index(attack.name))


def table(rows: dict[str, dict[str, str]]) -> str:
    """The matrix as text: one line per attack, one column per provider."""
    providers = list(rows)
    width = max(map(len, ATTACKS))
    lines = ["attack".ljust(width) + "".join(f"  {p:<16}" for p in providers)]
    for attack in ATTACKS:
        lines.append(attack.ljust(width) + "".join(f"  {rows[p].get(attack, '?'):<16}" for p in providers))
    return "\n".join(lines)
