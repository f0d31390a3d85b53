"""Opaque, tamper-evident pagination cursors.

A cursor is the last item's index key plus a fingerprint of the query it belongs to, signed
with HMAC-SHA256. A cursor that was altered, forged or replayed against another query is
refused as `invalid_request` instead of silently paging somewhere else. `keys` gives the
signing key first and then any older key still accepted (rotation), read when needed."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from typing import Any

from chalicelib.errors import InvalidRequest


class CursorCodec:
    def __init__(self, keys: Callable[[], Sequence[bytes]]) -> None:
        self._keys = keys

    def encode(self, last_key: dict[str, Any], query: dict[str, Any]) -> str:
        body = json.dumps({"k": last_key, "q": _fingerprint(query)}, separators=(",", ":"),
                          sort_keys=True).encode()
        payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
        return f"{payload}.{_sign(self._keys()[0], payload).decode()}"

    def decode(self, cursor: str, query: dict[str, Any]) -> dict[str, Any]:
        """Signatures are compared as bytes: `hmac.compare_digest` refuses a `str` with
        non-ASCII characters (a TypeError, a 500), and a cursor is whatever a caller sent.
        Every character this service puts in a cursor is ASCII."""
        payload, _, signature = cursor.partition(".")
        if not (payload and cursor.isascii()) or not self._signed(payload, signature.encode()):
            raise InvalidRequest("cursor: not a cursor issued by this service")
        try:
            body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            last_key = body["k"]
        except (ValueError, TypeError, KeyError):
            raise InvalidRequest("cursor: not a cursor issued by this service") from None
        if body.get("q") != _fingerprint(query):
            raise InvalidRequest("cursor: belongs to a different query")
        return last_key

    def _signed(self, payload: str, signature: bytes) -> bool:
        """Any accepted key may match; every one is compared, in constant time."""
        matched = False
        for key in self._keys():
            matched |= hmac.compare_digest(signature, _sign(key, payload))
        return matched


def _sign(key: bytes, payload: str) -> bytes:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18])


def _fingerprint(query: dict[str, Any]) -> str:
    canonical = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
