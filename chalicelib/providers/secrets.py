"""The signing-secrets document (contract section 6): one JSON object, one section per
registered provider, each section the model its provider module declares.

Locally it comes from `LOCAL_SECRETS_FILE` seeded into the emulator's Secrets Manager;
deployed stages read the secret named by `WEBHOOK_SECRETS_ID`. Several secrets per provider
are accepted at once so that a secret can be rotated without dropping webhooks."""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from chalicelib.providers.base import SecretsSection
from chalicelib.providers.registry import provider_names, registrations


class InvalidSecretsDocument(ValueError):
    """A secrets document that does not fit the registered sections. The message names
    fields only, never values."""


class SecretsDocument(BaseModel):
    """A section the document holds for a provider that is not registered (yet, or any
    more) is ignored at run time, so a document can be updated before or after a deploy."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def section(self, provider: str) -> SecretsSection:
        return cast(SecretsSection, getattr(self, provider))

    def __repr__(self) -> str:  # never print secret values, even by accident
        return "WebhookSecrets(<redacted>)"

    __str__ = __repr__


WebhookSecrets: type[SecretsDocument] = create_model(
    "WebhookSecrets",
    __base__=SecretsDocument,
    **{r.name: (r.secrets, r.secrets()) for r in registrations()},
)


def load_document(text: str) -> SecretsDocument:
    """The document as a stage reads it from Secrets Manager (sections of providers that
    are not registered are ignored)."""
    try:
        return WebhookSecrets.model_validate_json(text)
    except ValidationError as exc:
        raise InvalidSecretsDocument(f"the secrets document is invalid at: {_locations(exc)}") from None


def validate_document(text: str) -> SecretsDocument:
    """A secrets file an operator wrote, checked strictly: besides the types, a provider
    or field name that no registered section reads is refused (a typo would otherwise
    leave that provider unconfigured, refusing every webhook)."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InvalidSecretsDocument(f"the secrets document is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidSecretsDocument("the secrets document must be a JSON object, one key per provider")
    unknown = _unknown_names(document)
    if unknown:
        raise InvalidSecretsDocument(
            f"the secrets document names unknown {', '.join(unknown)}; "
            f"the providers are {', '.join(provider_names())}"
        )
    return load_document(text)


def _locations(exc: ValidationError) -> str:
    return ", ".join(".".join(map(str, error["loc"])) or "(document)" for error in exc.errors())


def _unknown_names(document: Mapping[str, Any]) -> list[str]:
    sections = {r.name: r.secrets for r in registrations()}
    unknown = []
    for name, values in document.items():
        model = sections.get(name)
        if model is None:
            unknown.append(f"provider {name!r}")
        elif isinstance(values, dict):
            unknown.extend(f"field {name}.{key}" for key in values if key not in model.model_fields)
    return unknown
