"""What every provider module offers the ingest service."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.domain.events import CanonicalEvent, ParsedEvent
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
    dedupe_forever: bool
    """True when the provider's signature covers no timestamp: a captured request is valid
    for ever, so its event ids must be recognised for ever (contract section 2)."""

    def verify(self, request: WebhookRequest, secrets: WebhookSecrets, now: datetime) -> None:
        """Raise `SignatureError` unless the request is signed by one of the configured
        secrets (rotation) within tolerance. Nothing has been parsed or stored yet."""

    def parse(self, request: WebhookRequest) -> list[ParsedEvent]:
        """Normalise a verified request into canonical events, each with the raw bytes to
        keep for replay. Raise `InvalidPayload` naming the offending field."""

    def parse_stored(self, raw: bytes, event_id: str) -> CanonicalEvent:
        """Parse one event again from the bytes `parse` kept for it (replay)."""
