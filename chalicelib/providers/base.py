"""What every provider module offers the rest of the service, and how it says so.

A provider module declares one `ProviderRegistration` named `PROVIDER`; the registry,
the signing-secrets document, the local secrets file's validation, the template's
placeholder secret and the deploy allowlist are all derived from those declarations."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict

from chalicelib.domain.events import CanonicalEvent, ParsedEvent

if TYPE_CHECKING:
    from chalicelib.providers.secrets import WebhookSecrets


@dataclass(frozen=True)
class WebhookRequest:
    """A webhook exactly as received: the raw body bytes (signatures are over these, never
    over re-serialised JSON) and the headers with lower-cased names."""

    raw_body: bytes
    headers: Mapping[str, str]

    @classmethod
    def of(cls, raw_body: bytes, headers: Mapping[str, str]) -> "WebhookRequest":
        return cls(raw_body, {name.lower(): value for name, value in headers.items()})


class WebhookProvider(Protocol):
    name: str
    acknowledgement: str | None
    """A plain-text body the provider expects on success instead of the JSON receipt
    (Adyen's `[accepted]`), or None for the receipt."""

    def verify(self, request: WebhookRequest, secrets: WebhookSecrets, now: datetime) -> None:
        """Raise `SignatureError` unless the request is signed by one of the configured
        secrets (rotation) within tolerance. Nothing has been parsed or stored yet."""

    def parse(self, request: WebhookRequest) -> list[ParsedEvent]:
        """Normalise a verified request into canonical events, each with the raw bytes to
        keep for replay. Raise `InvalidPayload` naming the offending field."""

    def parse_stored(self, raw: bytes, event_id: str) -> CanonicalEvent:
        """Parse one event again from the bytes `parse` kept for it (replay)."""


class SecretsSection(BaseModel):
    """One provider's part of the signing-secrets document. Every field needs a default:
    a stage that has not configured a provider yet still loads its document (and that
    provider refuses every webhook until it is configured)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


@dataclass(frozen=True)
class ProviderRegistration:
    """A provider as the rest of the service sees it.

    `name` is the `{provider}` of `POST /webhooks/{provider}`, the key of its section in
    the secrets document and the route the deploy allowlist can fence. `build` makes the
    provider given the stage's signature tolerance in seconds (a scheme without a
    timestamp ignores it)."""

    name: str
    build: Callable[[int], WebhookProvider]
    secrets: type[SecretsSection]

    def __post_init__(self) -> None:
        # A path segment, a JSON key and an attribute of the secrets document all at once.
        if not (self.name.isascii() and self.name.isalnum() and self.name.islower() and self.name[0].isalpha()):
            raise ValueError(f"provider name {self.name!r}: must be lower-case letters and digits")
