"""Stripe: `Stripe-Signature` verification and Event objects to canonical events.

Mapping (contract section 2): PaymentIntent events give the payment's status and facts;
`charge.refunded` and the dispute events reach the PaymentIntent through their
`payment_intent` field. Any other type, or a charge or dispute with no PaymentIntent (a
legacy Charges-API payment), is stored and answered `ignored`.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from chalicelib.domain.currencies import UnknownCurrency, normalise_currency
from chalicelib.domain.events import CanonicalEvent, ParsedEvent, PaymentFacts
from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import from_epoch
from chalicelib.errors import InvalidPayload, SignatureError
from chalicelib.providers.base import WebhookRequest
from chalicelib.providers.secrets import WebhookSecrets
from chalicelib.providers.signatures import (
    DEFAULT_TOLERANCE_SECONDS,
    any_signature_matches,
    check_tolerance,
    hmac_sha256,
    parse_unix_seconds,
)

HEADER = "Stripe-Signature"
MAX_AMOUNT = 2**63 - 1
MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z
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


class StripeProvider:
    """`POST /webhooks/stripe`. `tolerance_seconds` bounds |now - t| of the signed time."""

    name = "stripe"

    def __init__(self, tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS) -> None:
        self.tolerance_seconds = tolerance_seconds

    def verify(self, request: WebhookRequest, secrets: WebhookSecrets, now: datetime) -> None:
        """Any configured secret and any `v1` signature may match (rotation on both sides);
        `v0` and unknown schemes are ignored. The signature is checked before the time, so
        "expired" is only ever said of a request that Stripe really signed."""
        header = request.headers.get("stripe-signature")
        if not header:
            raise SignatureError(f"missing {HEADER} header")
        timestamp_text, provided = _read_header(header)
        timestamp = parse_unix_seconds(timestamp_text, header=HEADER)
        keys = [secret.encode() for secret in secrets.stripe.signing_secrets if secret]
        if not keys:
            raise SignatureError("no Stripe signing secret is configured")
        signed = f"{timestamp_text}.".encode() + request.raw_body
        if not any_signature_matches((hmac_sha256(key, signed) for key in keys), provided):
            raise SignatureError(f"no {HEADER} v1 signature matches a configured secret")
        check_tolerance(timestamp, now, self.tolerance_seconds, header=HEADER)

    def parse(self, request: WebhookRequest) -> list[ParsedEvent]:
        event = canonical_event(_load_object(request.raw_body))
        return [ParsedEvent(event=event, raw=request.raw_body)]

    def parse_stored(self, raw: bytes, event_id: str) -> CanonicalEvent:
        event = canonical_event(_load_object(raw))
        if event.event_id != event_id:
            raise InvalidPayload(f"id: stored event {event_id!r} holds event {event.event_id!r}")
        return event


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


def _load_object(raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidPayload("body: not valid JSON") from exc
    if not isinstance(document, dict):
        raise InvalidPayload("body: must be a JSON object")
    return document


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def canonical_event(document: dict[str, Any]) -> CanonicalEvent:
    """One Stripe Event object (already JSON-decoded) as a canonical event."""
    root = _Fields(document, "")
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
        return _build(envelope)
    return _build(
        envelope,
        payment_id=payment_id,
        status=status,
        refund_by_amount=event_type == "charge.refunded",
        facts=facts,
    )


def _dispute_status(event_type: str, dispute: _Fields) -> Status | None:
    """`charge.dispute.closed` is `succeeded` when won and `disputed` when lost. Any other
    closing status (`warning_closed`: an inquiry that never became a chargeback; newer ones
    such as `prevented`) is `ignored`: the payment keeps the status it had. Mapping
    `warning_closed` to `succeeded` would be wrong whenever the merchant settled the
    inquiry with a refund (a common way to close one): being the newest event, it would
    undo the refund's status."""
    if event_type == "charge.dispute.created":
        return Status.DISPUTED
    return _CLOSED_DISPUTE_STATUS.get(dispute.text("status", required=True) or "")


def _payment_intent_facts(root: _Fields, intent: _Fields) -> PaymentFacts:
    return PaymentFacts(
        amount=intent.amount("amount"),
        currency=intent.currency("currency"),
        customer_id=intent.reference("customer"),
        created_at=intent.epoch("created"),
        live=root.flag("livemode"),
        merchant_id=_merchant(root, intent),
        payment_method=_single_method_type(intent),
    )


def _charge_facts(root: _Fields, charge: _Fields) -> PaymentFacts:
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


def _dispute_facts(root: _Fields, dispute: _Fields) -> PaymentFacts:
    """A dispute's amount is the disputed amount, not the payment's: only currency."""
    return PaymentFacts(
        currency=dispute.currency("currency"),
        live=root.flag("livemode"),
        merchant_id=_merchant(root, dispute),
    )


def _merchant(root: _Fields, obj: _Fields) -> str | None:
    """The connected account for Connect events, else `metadata.merchant_id`."""
    account = root.text("account")
    if account:
        return account
    metadata = obj.optional_object("metadata")
    return metadata.text("merchant_id") if metadata is not None else None


def _single_method_type(intent: _Fields) -> str | None:
    types = intent.values.get("payment_method_types")
    if types is None:
        return None
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise InvalidPayload(f"{intent.where('payment_method_types')}: must be a list of strings")
    return types[0] if len(types) == 1 and types[0] else None


def _build(envelope: dict[str, Any], **fields: Any) -> CanonicalEvent:
    try:
        return CanonicalEvent(**envelope, **fields)
    except ValidationError as exc:  # a safety net: the readers below check first
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise InvalidPayload(f"{where}: {error['msg']}") from None


class _Fields:
    """A JSON object being read, and its dotted path for error messages.

    Readers return `None` for an absent or null optional field and raise `InvalidPayload`
    naming the field for a missing required one or a value of the wrong type."""

    __slots__ = ("values", "path")

    def __init__(self, values: dict[str, Any], path: str) -> None:
        self.values, self.path = values, path

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str, required: bool) -> Any:
        value = self.values.get(key)
        if value is None and required:
            raise InvalidPayload(f"{self.where(key)}: is required")
        return value

    def _wrong(self, key: str, expected: str, value: Any) -> InvalidPayload:
        return InvalidPayload(f"{self.where(key)}: must be {expected}, not {_json_type(value)}")

    def object(self, key: str) -> _Fields:
        value = self._get(key, True)
        if not isinstance(value, dict):
            raise self._wrong(key, "an object", value)
        return _Fields(value, self.where(key))

    def optional_object(self, key: str) -> _Fields | None:
        return self.object(key) if self.values.get(key) is not None else None

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        if not value and required:
            raise InvalidPayload(f"{self.where(key)}: must not be empty")
        if len(value) > 255:
            raise InvalidPayload(f"{self.where(key)}: longer than 255 characters")
        return value or None

    def identifier(self, key: str) -> str:
        """An id that can appear in a URL path: 1-255 characters, no '/'."""
        value = self.text(key, required=True)
        assert value is not None
        if "/" in value:
            raise InvalidPayload(f"{self.where(key)}: must not contain '/'")
        return value

    def reference(self, key: str) -> str | None:
        """Another object's id: a string, or the object itself when Stripe expanded it."""
        value = self.values.get(key)
        if isinstance(value, dict):
            return _Fields(value, self.where(key)).identifier("id")
        return self.identifier(key) if value is not None else None

    def amount(self, key: str) -> int:
        value = self._get(key, True)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(key, "an integer amount in minor units", value)
        if not 0 <= value <= MAX_AMOUNT:
            raise InvalidPayload(f"{self.where(key)}: {value} is out of range")
        return value

    def currency(self, key: str) -> str:
        value = self.text(key, required=True)
        try:
            return normalise_currency(value or "")
        except UnknownCurrency as exc:
            raise InvalidPayload(f"{self.where(key)}: {exc}") from None

    def epoch(self, key: str, *, required: bool = False) -> datetime | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(key, "a unix time in seconds", value)
        if not 0 <= value <= MAX_EPOCH:
            raise InvalidPayload(f"{self.where(key)}: {value} is out of range")
        return from_epoch(value)

    def flag(self, key: str) -> bool | None:
        value = self.values.get(key)
        if value is not None and not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {
        str: "a string", int: "a number", float: "a number", list: "an array",
        dict: "an object", type(None): "null",
    }.get(type(value), type(value).__name__)
