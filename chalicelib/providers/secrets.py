"""The signing-secrets document (contract section 6): one JSON object, per provider.

Locally it comes from `LOCAL_SECRETS_FILE` seeded into the emulator's Secrets Manager;
deployed stages read the secret named by `WEBHOOK_SECRETS_ID`. Several secrets per provider
are accepted at once so that a secret can be rotated without dropping webhooks."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class StripeSecrets(_Section):
    signing_secrets: list[str] = Field(default_factory=list)


class BasicAuth(_Section):
    username: str
    password: str


class AdyenSecrets(_Section):
    hmac_keys: list[str] = Field(default_factory=list)
    basic_auth: BasicAuth | None = None


class SquareSecrets(_Section):
    signature_keys: list[str] = Field(default_factory=list)
    notification_url: str = ""


class GenericSecrets(_Section):
    signing_secrets: list[str] = Field(default_factory=list)


class WebhookSecrets(_Section):
    stripe: StripeSecrets = StripeSecrets()
    adyen: AdyenSecrets = AdyenSecrets()
    square: SquareSecrets = SquareSecrets()
    generic: GenericSecrets = GenericSecrets()

    def __repr__(self) -> str:  # never print secret values, even by accident
        return "WebhookSecrets(<redacted>)"

    __str__ = __repr__
