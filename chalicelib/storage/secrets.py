"""Signing secrets from Secrets Manager, cached briefly so rotation takes effect quickly
without a Secrets Manager call on every webhook.

What the document holds is the providers' business: the repository is handed the
function that reads it (`parse`), and caches what that returns."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from chalicelib.errors import StorageUnavailable
from chalicelib.storage.errors import storage_errors

Document = TypeVar("Document")


class SecretsRepository(Generic[Document]):
    def __init__(
        self, client: Any, secret_id: str, ttl_seconds: float, monotonic: Callable[[], float],
        parse: Callable[[str], Document],
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._parse = parse
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
            return self._parse(value)
        except ValueError as exc:
            # `parse` names fields only, never values.
            raise StorageUnavailable(str(exc)) from None
