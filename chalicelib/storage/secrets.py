"""Signing secrets from Secrets Manager, cached briefly so rotation takes effect quickly
without a Secrets Manager call on every webhook.

The document's model is handed in (the providers define what each section holds): storage
knows where the secret is kept and how long a copy may be trusted, not what it says."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from chalicelib.errors import StorageUnavailable
from chalicelib.storage.errors import storage_errors

Document = TypeVar("Document", bound=BaseModel)


class SecretsRepository(Generic[Document]):
    def __init__(
        self, client: Any, secret_id: str, ttl_seconds: float, monotonic: Callable[[], float],
        document: type[Document],
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._document = document
        self._lock = threading.Lock()
        self._cached: tuple[float, Document] | None = None

    def current(self) -> Document:
        with self._lock:
            if self._cached is None or self._monotonic() - self._cached[0] > self._ttl:
                self._cached = (self._monotonic(), self._fetch())
            return self._cached[1]

    def _fetch(self) -> Document:
        with storage_errors():
            value = self._client.get_secret_value(SecretId=self._secret_id)["SecretString"]
        try:
            return self._document.model_validate_json(value)
        except ValidationError as exc:
            # The message names fields only, never values.
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            raise StorageUnavailable(f"webhook secrets document is invalid at: {fields}") from None
