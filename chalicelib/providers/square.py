"""Square: webhook events signed with `x-square-hmacsha256-signature`.

The signature is base64 HMAC-SHA256, keyed with the subscription's signature key, of the
notification URL followed by the raw body. The URL is the one configured for the stage
(`secrets.square.notification_url`), byte for byte as it is registered with Square (scheme,
host, path, trailing slash, query), never the URL this request arrived on: API Gateway
stage paths and proxies rewrite that. The scheme has no timestamp, so a captured request
could be sent again; its `event_id` dedupes it. The deprecated SHA-1 `x-square-signature`
is not accepted.

Mapping (contract section 2):
- `payment.created` / `payment.updated` by the payment's `status`: APPROVED, PENDING ->
  pending; COMPLETED -> succeeded; FAILED -> failed; CANCELED -> canceled (another status
  is `ignored`). The payment states its amount (`amount_money`), creation time, customer,
  method (`source_type`, lower-cased) and `version`, which breaks ties between events
  with the same time and status. A payment that carries `refunded_money` (Square sends
  `payment.updated` after each refund) reports the refunded total, as Stripe's
  `charge.refunded` does: refunded or partially refunded by it, never `succeeded`.
- `refund.created` / `refund.updated` with a COMPLETED refund -> one refund (its id and
  `amount_money`) on `refund.payment_id`, refunded or partially refunded by the sum of
  refunds against the payment's amount. A refund in any other state moved no money yet:
  `ignored`. Square sends both events for one refund, so refunds are counted by id.
- `dispute.created` -> disputed, on `disputed_payment.payment_id`; `dispute.state.updated`
  (and its older name `dispute.state.changed`): WON -> succeeded, LOST or ACCEPTED ->
  disputed, other states `ignored`. A dispute's amount is not the payment's.
- Any other type is stored and `ignored`.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

from pydantic import Field

from chalicelib.domain.events import CanonicalEvent, ParsedEvent, PaymentFacts, RefundFact
from chalicelib.domain.status import Status
from chalicelib.errors import SignatureError
from chalicelib.providers.base import ProviderRegistration, SecretsSection, WebhookRequest
from chalicelib.providers.hmac_provider import HmacProvider, SignatureHeader, SignedMessage
from chalicelib.providers.payload import Fields, build_event, one_event, stored_event

HEADER = "x-square-hmacsha256-signature"

_PAYMENT_EVENTS = frozenset({"payment.created", "payment.updated"})
_REFUND_EVENTS = frozenset({"refund.created", "refund.updated"})
_DISPUTE_STATE_EVENTS = frozenset({"dispute.state.updated", "dispute.state.changed"})
_PAYMENT_STATUS = {
    "APPROVED": Status.PENDING,
    "PENDING": Status.PENDING,
    "COMPLETED": Status.SUCCEEDED,
    "FAILED": Status.FAILED,
    "CANCELED": Status.CANCELED,
}
_DISPUTE_STATE_STATUS = {
    "WON": Status.SUCCEEDED,
    "LOST": Status.DISPUTED,
    "ACCEPTED": Status.DISPUTED,
}


class SquareSecrets(SecretsSection):
    """The subscription's signature keys, and the notification URL exactly as registered
    with Square (it is part of what Square signs). `api_key`, an access token that may
    search events, is used only by provider sync (docs/api.md section 10)."""

    signature_keys: list[str] = Field(default_factory=list)
    notification_url: str = ""
    api_key: str = ""


class SquareProvider(HmacProvider[SquareSecrets]):
    """`POST /webhooks/square`. Any configured signature key may match (rotation)."""

    name = "square"
    no_key_refusal = "no Square signature key is configured"
    dedupe_forever = True

    def read_header(self, request: WebhookRequest) -> SignatureHeader:
        header = request.headers.get(HEADER)
        if not header:
            raise SignatureError(f"missing {HEADER} header")
        try:
            return SignatureHeader([base64.b64decode(header.strip(), validate=True)])
        except (binascii.Error, ValueError):
            raise SignatureError(f"malformed {HEADER} header: not base64") from None

    def keys(self, section: SquareSecrets) -> list[bytes]:
        return [key.encode() for key in section.signature_keys if key]

    def signed_messages(
        self, request: WebhookRequest, header: SignatureHeader, section: SquareSecrets,
    ) -> Iterator[SignedMessage]:
        """The configured notification URL, then the raw body."""
        if not section.notification_url:
            raise SignatureError("no Square notification URL is configured")
        yield SignedMessage(
            section.notification_url.encode() + request.raw_body, header.signatures,
            f"the {HEADER} signature does not match a configured key and notification URL",
        )

    def parse(self, request: WebhookRequest) -> list[ParsedEvent]:
        return one_event(request.raw_body, canonical_event)

    def parse_stored(self, raw: bytes, event_id: str) -> CanonicalEvent:
        return stored_event(raw, event_id, canonical_event, "event_id")


PROVIDER = ProviderRegistration(name=SquareProvider.name, build=SquareProvider, secrets=SquareSecrets)


def canonical_event(root: Fields) -> CanonicalEvent:
    """One Square webhook event (already JSON-decoded) as a canonical event."""
    envelope = dict(
        provider=SquareProvider.name,
        event_id=root.identifier("event_id"),
        type=root.text("type", required=True),
        occurred_at=root.timestamp("created_at", required=True),
    )
    event_type = envelope["type"]
    merchant_id = root.text("merchant_id")
    if event_type in _PAYMENT_EVENTS:
        return _payment_event(envelope, _data_object(root).object("payment"), merchant_id)
    if event_type in _REFUND_EVENTS:
        return _refund_event(envelope, _data_object(root).object("refund"), merchant_id)
    if event_type == "dispute.created" or event_type in _DISPUTE_STATE_EVENTS:
        return _dispute_event(envelope, _dispute(_data_object(root)), merchant_id)
    return build_event(envelope)


def _data_object(root: Fields) -> Fields:
    return root.object("data").object("object")


def _payment_event(
    envelope: dict[str, Any], payment: Fields, merchant_id: str | None,
) -> CanonicalEvent:
    status = _PAYMENT_STATUS.get(payment.text("status", required=True) or "")
    if status is None:
        return build_event(envelope)
    money = payment.object("amount_money")
    currency = money.currency("currency")
    refunded = _refunded_total(payment, currency)
    source_type = payment.text("source_type")
    return build_event(
        envelope,
        payment_id=payment.identifier("id"),
        status=Status.PARTIALLY_REFUNDED if refunded else status,
        refund_by_amount=bool(refunded),
        sequence=payment.counter("version"),
        facts=PaymentFacts(
            amount=money.amount("amount"),
            currency=currency,
            amount_refunded=refunded or None,
            merchant_id=merchant_id,
            customer_id=payment.text("customer_id"),
            payment_method=source_type.lower() if source_type else None,
            created_at=payment.timestamp("created_at"),
        ),
    )


def _refunded_total(payment: Fields, currency: str) -> int | None:
    """`refunded_money.amount`, the payment's refunded total, when the payment has one."""
    refunded = payment.optional_object("refunded_money")
    if refunded is None:
        return None
    if refunded.currency("currency") != currency:
        raise InvalidPayload(f"{refunded.where('currency')}: differs from the payment's amount_money")
    return refunded.amount("amount")


def _refund_event(
    envelope: dict[str, Any], refund: Fields, merchant_id: str | None,
) -> CanonicalEvent:
    if refund.text("status", required=True) != "COMPLETED":
        return build_event(envelope)
    money = refund.object("amount_money")
    return build_event(
        envelope,
        payment_id=refund.identifier("payment_id"),
        status=Status.PARTIALLY_REFUNDED,
        refund_by_amount=True,
        facts=PaymentFacts(
            currency=money.currency("currency"),
            merchant_id=merchant_id,
            refund=RefundFact(id=refund.identifier("id"), amount=money.amount("amount")),
        ),
    )


def _dispute_event(
    envelope: dict[str, Any], dispute: Fields, merchant_id: str | None,
) -> CanonicalEvent:
    """A dispute without a payment id (none is documented to lack one) is `ignored`, like
    a Stripe dispute with no PaymentIntent: there is no transaction to put it on."""
    if envelope["type"] == "dispute.created":
        status: Status | None = Status.DISPUTED
    else:
        status = _DISPUTE_STATE_STATUS.get(dispute.text("state", required=True) or "")
    disputed = dispute.optional_object("disputed_payment")
    payment_id = disputed.optional_identifier("payment_id") if disputed is not None else None
    if status is None or payment_id is None:
        return build_event(envelope)
    money = dispute.optional_object("amount_money")
    return build_event(
        envelope,
        payment_id=payment_id,
        status=status,
        facts=PaymentFacts(
            currency=money.currency("currency") if money is not None else None,
            merchant_id=merchant_id,
        ),
    )


def _dispute(data_object: Fields) -> Fields:
    """Square's examples put the dispute under `data.object.dispute`; its API definition
    (and so its SDKs) under `data.object.object`. Either is read."""
    if data_object.values.get("dispute") is None and data_object.values.get("object") is not None:
        return data_object.object("object")
    return data_object.object("dispute")
