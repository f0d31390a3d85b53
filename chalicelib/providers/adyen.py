"""Adyen: standard notifications (`{"live", "notificationItems": [...]}`), verified item by
item, each item one canonical event.

Adyen signs each `NotificationRequestItem`, not the body: `additionalData.hmacSignature` is
base64 HMAC-SHA256, with the hex-decoded key, of
`pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success`
(a missing field is an empty string). Every item must match a configured key (rotation);
one that does not rejects the whole request before anything is stored. Adyen's SDK helper
given a whole request checks only the first item, which is why this module does not use
it. When `basic_auth` is configured, the `Authorization: Basic` header must match too.

Mapping (contract section 2; `success` "true" unless said):
- AUTHORISATION -> succeeded, with `success` "false" -> failed. Both state the payment's
  amount and currency, and the authorisation time as the payment's creation time.
- CAPTURE -> succeeded (its amount, the captured one, is the payment's); CAPTURE_FAILED ->
  failed; CANCELLATION -> canceled; CHARGEBACK_REVERSED -> succeeded.
- REFUND, CANCEL_OR_REFUND -> one refund (id: the item's pspReference, its own amount),
  refunded or partially refunded by the sum of refunds against the payment's amount.
- CHARGEBACK, SECOND_CHARGEBACK -> disputed (the chargeback amount is not the payment's).
- Anything else, including REFUND_FAILED and `success` "false" on any code but
  AUTHORISATION (a modification Adyen refused changed nothing), is stored and `ignored`.

The transaction is `originalReference` (the payment a modification refers to), else the
item's own `pspReference`; the event id is `<pspReference>:<eventCode>:<success>`, which a
redelivery repeats exactly (Adyen's deduplication guidance).
"""
from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.events import CanonicalEvent, ParsedEvent, PaymentFacts, RefundFact
from chalicelib.domain.status import Status
from chalicelib.errors import InvalidPayload, SignatureError
from chalicelib.providers.base import ProviderRegistration, SecretsSection, WebhookRequest
from chalicelib.providers.hmac_provider import HmacProvider, SignatureHeader, SignedMessage
from chalicelib.providers.payload import Fields, build_event, json_type, load_object

ACKNOWLEDGEMENT = "[accepted]"
ITEMS, ITEM = "notificationItems", "NotificationRequestItem"
SIGNED_FIELDS = (
    "pspReference", "originalReference", "merchantAccountCode", "merchantReference",
    "value", "currency", "eventCode", "success",
)
_SUCCESS_VALUES = ("true", "false")

_STATUS_ON_SUCCESS = {
    "AUTHORISATION": Status.SUCCEEDED,
    "CAPTURE": Status.SUCCEEDED,
    "CHARGEBACK_REVERSED": Status.SUCCEEDED,
    "CAPTURE_FAILED": Status.FAILED,
    "CANCELLATION": Status.CANCELED,
    "REFUND": Status.PARTIALLY_REFUNDED,
    "CANCEL_OR_REFUND": Status.PARTIALLY_REFUNDED,
    "CHARGEBACK": Status.DISPUTED,
    "SECOND_CHARGEBACK": Status.DISPUTED,
}
_REFUND_CODES = frozenset({"REFUND", "CANCEL_OR_REFUND"})
_PAYMENT_AMOUNT_CODES = frozenset({"AUTHORISATION", "CAPTURE"})


class BasicAuth(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    username: str
    password: str


class AdyenSecrets(SecretsSection):
    """HMAC keys as Adyen's Customer Area shows them (hex), and the Basic credentials set
    on the webhook, if any."""

    hmac_keys: list[str] = Field(default_factory=list)
    basic_auth: BasicAuth | None = None


class AdyenProvider(HmacProvider[AdyenSecrets]):
    """`POST /webhooks/adyen`. Adyen's scheme has no timestamp: dedupe is by event id.

    Basic auth (when configured) is checked first, then the HMAC of every item. The body
    must be JSON to be verified at all (the signatures live inside it): otherwise 400."""

    name = "adyen"
    acknowledgement = ACKNOWLEDGEMENT
    no_key_refusal = "no Adyen HMAC key is configured"

    def check_credentials(self, request: WebhookRequest, section: AdyenSecrets) -> None:
        if section.basic_auth is not None:
            check_basic_auth(request.headers.get("authorization"), section.basic_auth)

    def read_header(self, request: WebhookRequest) -> SignatureHeader:
        """No header: each item carries its own signature in the body."""
        return SignatureHeader(())

    def keys(self, section: AdyenSecrets) -> list[bytes]:
        return [key for key in map(_hex_key, section.hmac_keys) if key]

    def signed_messages(
        self, request: WebhookRequest, header: SignatureHeader, section: AdyenSecrets,
    ) -> Iterator[SignedMessage]:
        """Every item: its signing string and its `additionalData.hmacSignature`."""
        for item in _items(Fields(load_object(request.raw_body), "")):
            provided = _provided_signature(item)
            yield SignedMessage(
                signing_string(item), [provided],
                f"{item.where('additionalData.hmacSignature')}: does not match a configured key",
            )

    def parse(self, request: WebhookRequest) -> list[ParsedEvent]:
        document = load_object(request.raw_body)
        root = Fields(document, "")
        live = _live(root)
        return [
            ParsedEvent(event=canonical_event(item, live), raw=_one_item_request(document, index))
            for index, item in enumerate(_items(root))
        ]

    def parse_stored(self, raw: bytes, event_id: str) -> CanonicalEvent:
        """`raw` is the one-item notification `parse` kept for this item."""
        root = Fields(load_object(raw), "")
        items = _items(root)
        if len(items) != 1:
            raise InvalidPayload(f"{ITEMS}: a stored Adyen event holds exactly one item")
        event = canonical_event(items[0], _live(root))
        if event.event_id != event_id:
            raise InvalidPayload(
                f"{ITEMS}[0]: stored event {event_id!r} holds event {event.event_id!r}"
            )
        return event


PROVIDER = ProviderRegistration(name=AdyenProvider.name, build=AdyenProvider, secrets=AdyenSecrets)


def check_basic_auth(header: str | None, expected: BasicAuth) -> None:
    """`Authorization: Basic base64(username:password)`; both parts are always compared in
    constant time, so the time taken does not say which one was wrong."""
    if not header:
        raise SignatureError("missing Authorization header: Basic credentials are required")
    scheme, _, encoded = header.strip().partition(" ")
    try:
        if scheme.lower() != "basic":
            raise ValueError("not Basic")
        username, colon, password = base64.b64decode(encoded.strip(), validate=True).partition(b":")
        if not colon:
            raise ValueError("no colon")
    except (binascii.Error, ValueError):
        raise SignatureError("malformed Authorization header: expected Basic credentials") from None
    user_ok = hmac.compare_digest(username, expected.username.encode())
    password_ok = hmac.compare_digest(password, expected.password.encode())
    if not (user_ok & password_ok):
        raise SignatureError("the Basic credentials do not match")


def signing_string(item: Fields) -> bytes:
    """What Adyen signs for one item; a missing or null field is an empty string."""
    amount = item.optional_object("amount")
    parts = []
    for name in SIGNED_FIELDS:
        source = amount if name in ("value", "currency") else item
        parts.append(_signed_part(source, name) if source is not None else "")
    return ":".join(parts).encode()


def _signed_part(fields: Fields, key: str) -> str:
    value = fields.values.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidPayload(
            f"{fields.where(key)}: must be a string or an integer, not {json_type(value)}"
        )
    return str(value)


def _provided_signature(item: Fields) -> bytes:
    where = item.where("additionalData.hmacSignature")
    additional = item.optional_object("additionalData")
    encoded = additional.values.get("hmacSignature") if additional is not None else None
    if not encoded or not isinstance(encoded, str):
        raise SignatureError(f"{where}: missing")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{where}: not base64") from None


def _hex_key(key: str) -> bytes | None:
    """An HMAC key as Adyen shows it (hex); `None` for an unusable one."""
    try:
        return bytes.fromhex(key) or None
    except ValueError:
        return None


def _items(root: Fields) -> list[Fields]:
    return [entry.object(ITEM) for entry in root.objects(ITEMS)]


def _live(root: Fields) -> bool | None:
    """Adyen sends `"live": "true"` / `"false"` as strings; a boolean is taken too."""
    value = root.values.get("live")
    if value is None or isinstance(value, bool):
        return value
    if value not in _SUCCESS_VALUES:
        raise InvalidPayload('live: must be "true" or "false"')
    return value == "true"


def _one_item_request(document: dict[str, Any], index: int) -> bytes:
    """The bytes kept for replay of one item: a notification holding that item alone, with
    the batch's `live` flag, so that replay parses it exactly as a delivery."""
    kept: dict[str, Any] = {ITEMS: [document[ITEMS][index]]}
    if "live" in document:
        kept = {"live": document["live"], **kept}
    return json.dumps(kept, separators=(",", ":")).encode()


def canonical_event(item: Fields, live: bool | None) -> CanonicalEvent:
    """One verified `NotificationRequestItem` as a canonical event."""
    psp_reference = item.identifier("pspReference")
    code = item.identifier("eventCode")
    success = item.choice("success", _SUCCESS_VALUES)
    envelope = dict(
        provider=AdyenProvider.name,
        event_id=f"{psp_reference}:{code}:{success}",
        type=code,
        occurred_at=item.timestamp("eventDate", required=True),
    )
    status = _status(code, success)
    if status is None:
        return build_event(envelope)
    return build_event(
        envelope,
        payment_id=item.optional_identifier("originalReference") or psp_reference,
        status=status,
        refund_by_amount=code in _REFUND_CODES,
        facts=_facts(item, code, psp_reference, live, envelope["occurred_at"]),
    )


def _status(code: str, success: str) -> Status | None:
    if success == "true":
        return _STATUS_ON_SUCCESS.get(code)
    return Status.FAILED if code == "AUTHORISATION" else None


def _facts(
    item: Fields, code: str, psp_reference: str, live: bool | None, occurred_at: datetime,
) -> PaymentFacts:
    amount = item.object("amount")
    value = amount.amount("value")
    additional = item.optional_object("additionalData")
    return PaymentFacts(
        amount=value if code in _PAYMENT_AMOUNT_CODES else None,
        currency=amount.currency("currency"),
        refund=RefundFact(id=psp_reference, amount=value) if code in _REFUND_CODES else None,
        merchant_id=item.text("merchantAccountCode"),
        customer_id=additional.text("shopperReference") if additional is not None else None,
        payment_method=item.text("paymentMethod"),
        created_at=occurred_at if code == "AUTHORISATION" else None,
        live=live,
    )
