"""The generic receiver: the canonical JSON body (contract section 1) signed the Standard
Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> ...`).

`type` is `payment.<status>` for the seven statuses, and the status is explicit (a
`payment.refunded` is refunded, whatever the amounts). A well-formed envelope whose type
is outside the `payment.` namespace is stored and answered `ignored`; a `payment.` type
that is not one of the seven is a mistake in our own format and is refused (400).
"""
from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)

from chalicelib.domain.currencies import normalise_currency
from chalicelib.domain.events import CanonicalEvent, ParsedEvent, PaymentFacts
from chalicelib.domain.identifiers import id_problem
from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import parse_iso
from chalicelib.errors import InvalidPayload, SignatureError
from chalicelib.providers.base import ProviderRegistration, SecretsSection, WebhookRequest
from chalicelib.providers.hmac_provider import HmacProvider, SignatureHeader
from chalicelib.providers.payload import load_object
from chalicelib.providers.signatures import parse_unix_seconds

MAX_AMOUNT = 2**63 - 1
TYPE_PREFIX = "payment."
_SECRET_PREFIX = "whsec_"  # nosec B105 # the prefix Standard Webhooks secrets carry, not a secret
_MAX_SIGNATURES = 32
_REFUND_STATUSES = (Status.REFUNDED, Status.PARTIALLY_REFUNDED)


def _iso_timestamp(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("must be an ISO-8601 string with a UTC offset")
    parsed = parse_iso(value)
    if parsed.year < 1970:
        raise ValueError(f"'{value}' is before 1970")
    return parsed


def _iso_4217(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 8:  # do not echo a long value back
        raise ValueError("is not an ISO 4217 currency code")
    return normalise_currency(value) if isinstance(value, str) else value


Timestamp = Annotated[datetime, BeforeValidator(_iso_timestamp)]
def _identifier(value: str) -> str:
    problem = id_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


Identifier = Annotated[StrictStr, Field(min_length=1, max_length=255), AfterValidator(_identifier)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=255)]
Amount = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT)]
Currency = Annotated[StrictStr, BeforeValidator(_iso_4217)]


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    type: Name
    timestamp: Timestamp
    data: dict[str, Any]


class PaymentData(BaseModel):
    """`data` of a `payment.*` event: the payment as the sender knows it now."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: Identifier
    amount: Amount
    currency: Currency
    status: Status
    merchant_id: Name | None = None
    customer_id: Name | None = None
    payment_method: Name | None = None
    created_at: Timestamp | None = None
    amount_refunded: Amount = 0
    description: StrictStr | None = None
    metadata: dict[StrictStr, StrictStr] | None = None


class GenericSecrets(SecretsSection):
    """`whsec_<base64>` secrets, as the standardwebhooks libraries write them."""

    signing_secrets: list[str] = Field(default_factory=list)


class GenericProvider(HmacProvider[GenericSecrets]):
    """`POST /webhooks/generic`. `tolerance_seconds` bounds |now - webhook-timestamp|.

    Any configured secret and any `v1` signature may match; other versions (`v1a`) are
    ignored."""

    name = "generic"
    no_key_refusal = "no generic signing secret is configured"
    mismatch_refusal = "no webhook-signature v1 signature matches a configured secret"
    timestamp_header = "webhook-timestamp"

    def read_header(self, request: WebhookRequest) -> SignatureHeader:
        headers = request.headers
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            if not headers.get(name):
                raise SignatureError(f"missing {name} header")
        message_id, timestamp_text = headers["webhook-id"], headers["webhook-timestamp"]
        timestamp = parse_unix_seconds(timestamp_text, header="webhook-timestamp")
        provided = _v1_signatures(headers["webhook-signature"])
        signed_prefix = f"{message_id}.{timestamp_text}.".encode("utf-8", "replace")
        return SignatureHeader(provided, signed_prefix, timestamp)

    def keys(self, section: GenericSecrets) -> list[bytes]:
        return [key for key in map(_secret_key, section.signing_secrets) if key]

    def parse(self, request: WebhookRequest) -> list[ParsedEvent]:
        event = canonical_event(request.raw_body, request.headers.get("webhook-id") or "")
        return [ParsedEvent(event=event, raw=request.raw_body)]

    def parse_stored(self, raw: bytes, event_id: str) -> CanonicalEvent:
        return canonical_event(raw, event_id)


PROVIDER = ProviderRegistration(name=GenericProvider.name, build=GenericProvider, secrets=GenericSecrets)


def _secret_key(secret: str) -> bytes | None:
    """The HMAC key of a `whsec_<base64>` secret, decoded exactly as the standardwebhooks
    library does (prefix optional, padding forgiven); `None` for an unusable one."""
    encoded = secret[len(_SECRET_PREFIX):] if secret.startswith(_SECRET_PREFIX) else secret
    try:
        return base64.b64decode(encoded + "==") or None
    except (binascii.Error, ValueError):
        return None


def _v1_signatures(header: str) -> list[bytes]:
    entries = header.split()
    if len(entries) > _MAX_SIGNATURES:
        raise SignatureError("malformed webhook-signature header: too many signatures")
    signatures = []
    for entry in entries:
        version, comma, encoded = entry.partition(",")
        if version != "v1" or not comma:
            continue
        try:
            signatures.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue  # cannot match, but another v1 may
    if not signatures:
        raise SignatureError("malformed webhook-signature header: no v1 signature")
    return signatures


def canonical_event(raw: bytes, event_id: str) -> CanonicalEvent:
    """The canonical body, delivered as event `event_id` (the `webhook-id` header)."""
    problem = id_problem(event_id)
    if problem is not None:
        raise InvalidPayload(f"webhook-id header: {problem}")
    envelope = _validate(Envelope, load_object(raw), prefix="")
    common = dict(
        provider=GenericProvider.name, event_id=event_id, type=envelope.type,
        occurred_at=envelope.timestamp,
    )
    if not envelope.type.startswith(TYPE_PREFIX):
        return CanonicalEvent(**common)
    status = _status_of(envelope.type)
    data = _validate(PaymentData, envelope.data, prefix="data.")
    if data.status is not status:
        raise InvalidPayload(
            f"data.status: '{data.status.value}' does not match type '{envelope.type}'"
        )
    if data.amount_refunded > data.amount:
        raise InvalidPayload("data.amount_refunded: larger than data.amount")
    return CanonicalEvent(
        **common,
        payment_id=data.id,
        status=status,
        facts=PaymentFacts(
            amount=data.amount,
            currency=data.currency,
            # only a refund reports a refunded total (contract section 2)
            amount_refunded=data.amount_refunded if status in _REFUND_STATUSES else None,
            merchant_id=data.merchant_id,
            customer_id=data.customer_id,
            payment_method=data.payment_method,
            created_at=data.created_at,
        ),
    )


def _status_of(event_type: str) -> Status:
    try:
        return Status(event_type[len(TYPE_PREFIX):])
    except ValueError:
        allowed = ", ".join(TYPE_PREFIX + status.value for status in Status)
        raise InvalidPayload(f"type: '{event_type}' is not one of {allowed}") from None


def _validate(model: type[BaseModel], values: dict[str, Any], *, prefix: str) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise InvalidPayload(_describe(exc, prefix)) from None


def _describe(exc: ValidationError, prefix: str) -> str:
    """`data.amount: Input should be greater than or equal to 0; ...` (no input values)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False)[:3]:
        where = prefix + ".".join(str(part) for part in error["loc"])
        reason = error.get("ctx", {}).get("error") if error["type"] == "value_error" else None
        parts.append(f"{where}: {reason or error['msg']}")
    return "; ".join(parts)
