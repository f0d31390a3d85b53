"""PayPal: webhook events verified offline with PayPal's certificate-based signatures.

PayPal signs `<PAYPAL-TRANSMISSION-ID>|<PAYPAL-TRANSMISSION-TIME>|<webhook id>|<CRC32 of the
raw body, unsigned decimal>` with RSA-SHA256 (`PAYPAL-AUTH-ALGO: SHA256withRSA`) and sends
the base64 signature in `PAYPAL-TRANSMISSION-SIG`, and the URL of its certificate in
`PAYPAL-CERT-URL`. Verifying needs no call to PayPal's postback API, only the certificate
(fetched once per URL, trusted by its chain: see `certificates`).

Two mistakes this avoids: the CRC32 is of the exact bytes received, never of a body parsed
and serialised again (key order, spacing and escapes change, and every signature fails);
and the certificate URL is trusted only under a configured prefix, the certificate only by
its chain to the configured roots, never because the request points at it.

Each configured webhook id is tried (rotation, or one receiver for several webhooks);
then the transmission time must be within the stage's tolerance, so a captured delivery
cannot be replayed later. The event mapping is in `events`."""
from __future__ import annotations

import base64
import binascii
import zlib
from datetime import datetime
from typing import TYPE_CHECKING, cast

from pydantic import Field, field_validator

from chalicelib.domain.events import CanonicalEvent, ParsedEvent
from chalicelib.domain.timestamps import InvalidTimestamp, parse_iso
from chalicelib.errors import SignatureError
from chalicelib.providers.base import ProviderRegistration, SecretsSection, WebhookRequest
from chalicelib.providers.payload import one_event, stored_event
from chalicelib.providers.paypal import certificates
from chalicelib.providers.paypal.events import PROVIDER_NAME, canonical_event
from chalicelib.providers.signatures import DEFAULT_TOLERANCE_SECONDS, check_tolerance

if TYPE_CHECKING:
    from chalicelib.providers.secrets import WebhookSecrets

AUTH_ALGORITHM = "SHA256withRSA"
DEFAULT_CERT_URL_PREFIXES = (
    "https://api.paypal.com/v1/notifications/certs/",
    "https://api-m.paypal.com/v1/notifications/certs/",
    "https://api.sandbox.paypal.com/v1/notifications/certs/",
    "https://api-m.sandbox.paypal.com/v1/notifications/certs/",
)
_MAX_HEADER = 500


class PayPalSecrets(SecretsSection):
    """The ids of the webhooks (one per PayPal app and environment) whose deliveries this
    stage accepts; where certificates may be fetched from; the roots they must chain to
    (PEM; empty for the bundle shipped with the service). None of it is secret, but it is
    what decides which signatures count, so it lives with the other providers' keys."""

    webhook_ids: list[str] = Field(default_factory=list)
    cert_url_prefixes: list[str] = Field(default_factory=lambda: list(DEFAULT_CERT_URL_PREFIXES))
    ca_pem: str = ""

    @field_validator("cert_url_prefixes")
    @classmethod
    def _host_and_path(cls, prefixes: list[str]) -> list[str]:
        """A prefix must name its scheme, host and a path ending in `/`: without the slash,
        `https://api.paypal.com` would also admit `https://api.paypal.com.attacker.example/`."""
        for prefix in prefixes:
            scheme, separator, rest = prefix.partition("://")
            host, slash, _ = rest.partition("/")
            if scheme not in ("https", "http") or not separator or not host or not slash or not prefix.endswith("/"):
                raise ValueError("each certificate URL prefix must be http(s)://host/path/ ending in '/'")
        return prefixes


class PayPalProvider:
    """`POST /webhooks/paypal`."""

    name = PROVIDER_NAME
    acknowledgement: str | None = None

    def __init__(
        self,
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
        certificates_source: certificates.CertificateSource | None = None,
    ) -> None:
        self.tolerance_seconds = tolerance_seconds
        self._certificates = certificates_source or certificates.CertificateSource()

    def verify(self, request: WebhookRequest, secrets: WebhookSecrets, now: datetime) -> None:
        section = cast(PayPalSecrets, secrets.section(self.name))
        transmission_id = _header(request, "paypal-transmission-id")
        transmission_time = _header(request, "paypal-transmission-time")
        signed_at = _transmission_time(transmission_time)
        signature = _signature(request)
        if _header(request, "paypal-auth-algo") != AUTH_ALGORITHM:
            raise SignatureError(f"PAYPAL-AUTH-ALGO must be {AUTH_ALGORITHM}")
        webhook_ids = [webhook_id for webhook_id in section.webhook_ids if webhook_id]
        if not webhook_ids:
            raise SignatureError("no PayPal webhook id is configured")
        cert_url = request.headers.get("paypal-cert-url", "")
        certificates.check_url(cert_url, section.cert_url_prefixes)
        key = certificates.signer_key(self._certificates.chain(cert_url), section.ca_pem, now)
        crc = zlib.crc32(request.raw_body)
        signed = [f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode() for webhook_id in webhook_ids]
        matches = [certificates.verify_rsa_sha256(key, signature, message) for message in signed]  # all, always
        if not any(matches):
            raise SignatureError(
                "PAYPAL-TRANSMISSION-SIG does not match the body for a configured webhook id"
            )
        check_tolerance(int(signed_at.timestamp()), now, self.tolerance_seconds,
                        header="PAYPAL-TRANSMISSION-TIME")

    def parse(self, request: WebhookRequest) -> list[ParsedEvent]:
        return one_event(request.raw_body, canonical_event)

    def parse_stored(self, raw: bytes, event_id: str) -> CanonicalEvent:
        return stored_event(raw, event_id, canonical_event, "id")


PROVIDER = ProviderRegistration(name=PayPalProvider.name, build=PayPalProvider, secrets=PayPalSecrets)


def _header(request: WebhookRequest, name: str) -> str:
    """A signed header: present, printable ASCII, and no `|` (the signed message's
    separator, so that no value can shift the fields of another)."""
    value = request.headers.get(name, "")
    if not value:
        raise SignatureError(f"missing {name.upper()} header")
    if len(value) > _MAX_HEADER or not (value.isascii() and value.isprintable()) or "|" in value:
        raise SignatureError(f"malformed {name.upper()} header")
    return value


def _transmission_time(text: str) -> datetime:
    try:
        return parse_iso(text)
    except InvalidTimestamp:
        raise SignatureError("malformed PAYPAL-TRANSMISSION-TIME header: not an ISO-8601 time") from None


def _signature(request: WebhookRequest) -> bytes:
    try:
        return base64.b64decode(_header(request, "paypal-transmission-sig"), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("malformed PAYPAL-TRANSMISSION-SIG header: not base64") from None
