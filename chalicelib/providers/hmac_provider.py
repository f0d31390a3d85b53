"""The verification every HMAC-signed provider shares, written once (a template method).

`verify` is the skeleton: read the signature header(s), load the usable keys, refuse when
none is configured, work out the signed bytes, match every provided signature against
every key in constant time, then check the signed time where the scheme has one. A
provider module fills in only what differs: where its signatures and timestamp live, how
its keys are written, what it signs, and its refusal messages.

The order is part of the contract: a malformed header is refused before the keys are
looked at, and the signature is checked before the time, so "expired" is only ever said
of a request the provider really signed."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar, cast

from chalicelib.domain.events import CanonicalEvent, ParsedEvent
from chalicelib.errors import SignatureError
from chalicelib.providers.base import SecretsSection, WebhookRequest
from chalicelib.providers.signatures import (
    DEFAULT_TOLERANCE_SECONDS,
    any_signature_matches,
    check_tolerance,
    hmac_sha256,
)

if TYPE_CHECKING:
    from chalicelib.providers.secrets import WebhookSecrets

Section = TypeVar("Section", bound=SecretsSection)


@dataclass(frozen=True)
class SignatureHeader:
    """What the signature header(s) of a request carry.

    `signed_prefix` is what the scheme signs before the raw body (Stripe's `t.`, Standard
    Webhooks' `id.t.`); `timestamp` is the signed unix time, or None for a scheme without
    one (its event ids dedupe a captured request sent again)."""

    signatures: Sequence[bytes]
    signed_prefix: bytes = b""
    timestamp: int | None = None


@dataclass(frozen=True)
class SignedMessage:
    """Bytes the sender signed, the signatures it sent for them, and what to answer when
    none matches (it names the header or the field, never a signature or a key)."""

    message: bytes
    signatures: Sequence[bytes]
    refusal: str


class HmacProvider(ABC, Generic[Section]):
    """An HMAC-SHA256 webhook scheme. Subclasses set `name`, `no_key_refusal` and, for
    the default single-signature layout, `mismatch_refusal`; `timestamp_header` names the
    header the tolerance messages speak of."""

    name: ClassVar[str]
    acknowledgement: ClassVar[str | None] = None
    no_key_refusal: ClassVar[str]
    mismatch_refusal: ClassVar[str] = ""
    timestamp_header: ClassVar[str] = ""

    def __init__(self, tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS) -> None:
        self.tolerance_seconds = tolerance_seconds

    def verify(self, request: WebhookRequest, secrets: WebhookSecrets, now: datetime) -> None:
        section = cast(Section, secrets.section(self.name))
        self.check_credentials(request, section)
        header = self.read_header(request)
        keys = self.keys(section)
        if not keys:
            raise SignatureError(self.no_key_refusal)
        for signed in self.signed_messages(request, header, section):
            expected = (hmac_sha256(key, signed.message) for key in keys)
            if not any_signature_matches(expected, signed.signatures):
                raise SignatureError(signed.refusal)
        if header.timestamp is not None:
            check_tolerance(header.timestamp, now, self.tolerance_seconds, header=self.timestamp_header)

    # --- what a provider fills in ---------------------------------------------------------

    @abstractmethod
    def read_header(self, request: WebhookRequest) -> SignatureHeader:
        """The signatures (and timestamp) the request carries; `SignatureError` naming the
        header when it is missing or malformed."""

    @abstractmethod
    def keys(self, section: Section) -> list[bytes]:
        """The usable HMAC keys of this provider's secrets section (an unusable one is left
        out, so that it cannot stop a usable one during a rotation)."""

    def check_credentials(self, request: WebhookRequest, section: Section) -> None:
        """Credentials checked before any signature (Adyen's optional Basic auth); none by
        default."""

    def signed_messages(
        self, request: WebhookRequest, header: SignatureHeader, section: Section,
    ) -> Iterator[SignedMessage]:
        """What was signed, once per signature set: by default the header's prefix then the
        raw body, covered by the header's signatures."""
        yield SignedMessage(header.signed_prefix + request.raw_body, header.signatures,
                            self.mismatch_refusal)

    @abstractmethod
    def parse(self, request: WebhookRequest) -> list[ParsedEvent]:
        """See `WebhookProvider.parse`."""

    @abstractmethod
    def parse_stored(self, raw: bytes, event_id: str) -> CanonicalEvent:
        """See `WebhookProvider.parse_stored`."""
