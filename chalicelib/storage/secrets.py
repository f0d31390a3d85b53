"""Signing secrets from Secrets Manager, cached briefly so rotation takes effect quickly
without a Secrets Manager call on every webhook."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from chalicelib.errors import StorageUnavailable
from chalicelib.providers.secrets import WebhookSecrets
from chalicelib.storage.errors import storage_errors
from chalicelib.storage.refreshed import Refreshed


class SecretsRepository:
    def __init__(
        self, client: Any, secret_id: str, ttl_seconds: float, monotonic: Callable[[], float],
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._value = Refreshed(self._fetch, ttl_seconds, monotonic)

    def current(self) -> WebhookSecrets:
        return self._value.get()

    def _fetch(self) -> WebhookSecrets:
        with storage_errors():
            value = self._client.get_secret_value(SecretId=self._secret_id)["SecretString"]
        try:
            return WebhookSecrets.model_validate_json(value)
        except ValidationError as exc:
            # The message names fields only, never values.
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            raise StorageUnavailable(f"webhook secrets document is invalid at: {fields}") from None
