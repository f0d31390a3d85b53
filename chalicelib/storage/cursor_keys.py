"""The key that signs pagination cursors: a Secrets Manager secret of its own.

Its own, because a cursor must outlive any change to the webhook signing secrets (a key
derived from them made every cursor invalid whenever a provider's secret was rotated).
Rotation of this key is Secrets Manager's: putting a new value moves the old one to the
`AWSPREVIOUS` stage, and cursors signed with it stay valid until the next rotation.
Cached briefly, as the signing secrets are, so a rotation reaches every container soon."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.errors import StorageUnavailable
from chalicelib.storage.errors import is_code, storage_errors
from chalicelib.storage.refreshed import Refreshed

CURRENT, PREVIOUS = "AWSCURRENT", "AWSPREVIOUS"


class CursorKeys:
    def __init__(
        self, client: Any, secret_id: str, ttl_seconds: float, monotonic: Callable[[], float],
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._keys = Refreshed(self._fetch, ttl_seconds, monotonic)

    def current(self) -> tuple[bytes, ...]:
        """The signing key first, then the previous one if there is one."""
        return self._keys.get()

    def _fetch(self) -> tuple[bytes, ...]:
        current = self._value(CURRENT)
        if not current:
            raise StorageUnavailable("the cursor key secret has no current value")
        previous = self._value(PREVIOUS)
        return tuple(_key(value) for value in (current, previous) if value)

    def _value(self, stage: str) -> str | None:
        with storage_errors():
            try:
                response = self._client.get_secret_value(SecretId=self._secret_id, VersionStage=stage)
            except ClientError as exc:
                if stage == PREVIOUS and is_code(exc, "ResourceNotFoundException"):
                    return None  # never rotated
                raise
        return response.get("SecretString")


def _key(value: str) -> bytes:
    """A fixed-size HMAC key whatever the secret's text (generated or put by hand)."""
    return hashlib.sha256(b"payment-webhooks cursor key\x00" + value.encode()).digest()
