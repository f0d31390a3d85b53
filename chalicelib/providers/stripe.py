"""Stripe: `Stripe-Signature` verification and Event objects to canonical events.

Mapping (contract section 2): PaymentIntent events give the payment's status and facts;
`charge.refunded` and the dispute events reach the PaymentIntent through their
`payment_intent` field. Any other type, or a charge or dispute with no PaymentIntent (a
legacy Charges-API payment), is stored and answered `ignored`.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from chalicelib.domain.events import CanonicalEvent, ParsedEvent, PaymentFacts
from chalicelib.domain.status import Status
from chalicelib.errors import InvalidPayload, SignatureError
from chalicelib.providers.base import ProviderRegistration, SecretsSection, WebhookRequest
from chalicelib.providers.hmac_provider import HmacProvider, SignatureHeader
from chalicelib.providers.payload import Fields, build_event, load_object
from chalicelib.providers.signatures import parse_unix_seconds

HEADER = "Stripe-Signature"
_MAX_HEADER_ITEMS = 32

_PAYMENT_INTENT_STATUS = {
    "payment_intent.created": Status.PENDING,
    "payment_intent.processing": Status.PENDING,
    "payment_intent.requires_action": Status.PENDING,
    "payment_intent.amount_capturable_updated": Status.PENDING,
    "payment_intent.succeeded": Status.SUCCEEDED,
    "payment_intent.payment_failed": Status.FAILED,
    "payment_intent.canceled": Status.CANCELED,
}
_CLOSED_DISPUTE_STATUS = {"won": Status.SUCCEEDED, "lost": Status.DISPUTED}


class StripeSecrets(SecretsSection):
    """`whsec_...` endpoint secrets, used as the HMAC key as written; `api_key`, a secret or
    restricted key that may read events, is used only by provider sync (docs/api.md
    section 10), never by the receiver. Its form is checked by the sync command, not
    here: a mistyped sync key must not stop the document loading for every webhook."""

    signing_secrets: list[str] = Field(default_factory=list)
    api_key: str = ""


class StripeProvider(HmacProvider[StripeSecrets]):
    """`POST /webhooks/stripe`. `tolerance_seconds` bounds |now - t| of the signed time.

    Any configured secret and any `v1` signature may match (rotation on both sides); `v0`
    and unknown schemes are ignored."""

    name = "stripe"
    no_key_refusal = "no Stripe signing secret is configured"
    mismatch_refusal = f"no {HEADER} v1 signature matches a configured secret"
    timestamp_header = HEADER

    def read_header(self, request: WebhookRequest) -> SignatureHeader:
        header = request.headers.get("stripe-signature")
        if not header:
            raise SignatureError(f"missing {HEADER} header")
        timestamp_text, provided = _read_header(header)
        timestamp = parse_unix_seconds(timestamp_text, header=HEADER)
        return SignatureHeader(provided, f"{timestamp_text}.".encode(), timestamp)

    def keys(self, section: StripeSecrets) -> list[bytes]:
        return [secret.encode() for secret in section.signing_secrets if secret]

    def parse(self, request: WebhookRequest) -> list[ParsedEvent]:
        event = canonical_event(load_object(request.raw_body))
        return [ParsedEvent(event=event, raw=request.raw_body)]

    def parse_stored(self, raw: bytes, event_id: str) -> CanonicalEvent:
        event = canonical_event(load_object(raw))
        if event.event_id != event_id:
            raise InvalidPayload(f"id: stored event {event_id!r} holds event {event.event_id!r}")
        return event


PROVIDER = ProviderRegistration(name=StripeProvider.name, build=StripeProvider, secrets=StripeSecrets)


def _read_header(header: str) -> tuple[str, list[bytes]]:
    """`t=<unix>,v1=<hex>[,v1=<hex>...][,v0=<hex>]` -> (t as sent, decoded v1 signatures)."""
    items = header.split(",")
    if len(items) > _MAX_HEADER_ITEMS:
        raise SignatureError(f"malformed {HEADER} header: too many items")
    timestamps: list[str] = []
    signatures: list[bytes] = []
    for item in items:
        scheme, equals, value = item.strip().partition("=")
        if not equals:
            raise SignatureError(f"malformed {HEADER} header: expected key=value items")
        if scheme == "t":
            timestamps.append(value)
        elif scheme == "v1" and len(value) == 64:
            try:
                signatures.append(bytes.fromhex(value))
            except ValueError:
                continue  # not hex: cannot match, but another v1 may
    if len(timestamps) != 1:
        raise SignatureError(f"malformed {HEADER} header: expected exactly one t=")
    if not signatures:
        raise SignatureError(f"malformed {HEADER} header: no v1 signature")
    return timestamps[0], signatures


def canonical_event(document: dict[str, Any]) -> CanonicalEvent:
    """One Stripe Event object (already JSON-decoded) as a canonical event."""
    root = Fields(document, "")
    envelope = dict(
        provider=StripeProvider.name,
        event_id=root.identifier("id"),
        type=root.text("type", required=True),
        occurred_at=root.epoch("created", required=True),
    )
    obj = root.object("data").object("object")
    event_type = envelope["type"]

    if event_type in _PAYMENT_INTENT_STATUS:
        payment_id = obj.identifier("id")
        status = _PAYMENT_INTENT_STATUS[event_type]
        facts = _payment_intent_facts(root, obj)
    elif event_type == "charge.refunded":
        payment_id = obj.reference("payment_intent")
        status = Status.PARTIALLY_REFUNDED
        facts = _charge_facts(root, obj) if payment_id else None
    elif event_type in ("charge.dispute.created", "charge.dispute.closed"):
        payment_id = obj.reference("payment_intent")
        status = _dispute_status(event_type, obj) if payment_id else None
        facts = _dispute_facts(root, obj) if payment_id and status else None
    else:
        payment_id, status, facts = None, None, None

    if payment_id is None or status is None or facts is None:
        return build_event(envelope)
    return build_event(
        envelope,
        payment_id=payment_id,
        status=status,
        refund_by_amount=event_type == "charge.refunded",
        facts=facts,
    )


def _dispute_status(event_type: str, dispute: Fields) -> Status | None:
    """`charge.dispute.closed` is `succeeded` when won and `disputed` when lost. Any other
    closing status (`warning_closed`: an inquiry that never became a chargeback; newer ones
    such as `prevented`) is `ignored`: the payment keeps the status it had. Mapping
    `warning_closed` to `succeeded` would be wrong whenever the merchant settled the
    inquiry with a refund (a common way to close one): being the newest event, it would
    undo the refund's status."""
    if event_type == "charge.dispute.created":
        return Status.DISPUTED
    return _CLOSED_DISPUTE_STATUS.get(dispute.text("status", required=True) or "")


def _payment_intent_facts(root: Fields, intent: Fields) -> PaymentFacts:
    return PaymentFacts(
        amount=intent.amount("amount"),
        currency=intent.currency("currency"),
        customer_id=intent.reference("customer"),
        created_at=intent.epoch("created"),
        live=root.flag("livemode"),
        merchant_id=_merchant(root, intent),
        payment_method=_single_method_type(intent),
    )


def _charge_facts(root: Fields, charge: Fields) -> PaymentFacts:
    """A charge's `created` is the charge's, not the payment's: it is not a fact here."""
    details = charge.optional_object("payment_method_details")
    return PaymentFacts(
        amount=charge.amount("amount"),
        currency=charge.currency("currency"),
        amount_refunded=charge.amount("amount_refunded"),
        customer_id=charge.reference("customer"),
        live=root.flag("livemode"),
        merchant_id=_merchant(root, charge),
        payment_method=details.text("type") if details is not None else None,
    )


def _dispute_facts(root: Fields, dispute: Fields) -> PaymentFacts:
    """A dispute's amount is the disputed amount, not the payment's: only currency."""
    return PaymentFacts(
        currency=dispute.currency("currency"),
        live=root.flag("livemode"),
        merchant_id=_merchant(root, dispute),
    )


def _merchant(root: Fields, obj: Fields) -> str | None:
    """The connected account for Connect events, else `metadata.merchant_id`."""
    account = root.text("account")
    if account:
        return account
    metadata = obj.optional_object("metadata")
    return metadata.text("merchant_id") if metadata is not None else None


def _single_method_type(intent: Fields) -> str | None:
    types = intent.values.get("payment_method_types")
    if types is None:
        return None
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise InvalidPayload(f"{intent.where('payment_method_types')}: must be a list of strings")
    return types[0] if len(types) == 1 and types[0] else None
