"""Webhook signature primitives shared by every provider module.

Each provider decides what is signed and how the header is laid out; the arithmetic is
here, once: HMAC-SHA256, a constant-time comparison against every candidate (secret
rotation on our side, several signatures on the provider's side) and the timestamp
tolerance that stops a captured request from being replayed later.

Messages raised from here name the header and the timestamp at most, never a signature
or a secret.
"""
from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable
from datetime import datetime

from chalicelib.errors import SignatureError

DEFAULT_TOLERANCE_SECONDS = 300


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def any_signature_matches(expected_candidates: Iterable[bytes], provided: Iterable[bytes]) -> bool:
    """True when any provided signature equals any expected one (one per configured secret).

    Every pair is compared with `hmac.compare_digest` and the loop does not stop at the
    first match, so the time taken says nothing about which secret or signature matched."""
    expected = tuple(expected_candidates)
    matched = False
    for signature in provided:
        for candidate in expected:
            matched |= hmac.compare_digest(candidate, signature)
    return matched


def check_tolerance(timestamp: int, now: datetime, tolerance: int, *, header: str) -> None:
    """Refuse a signed timestamp more than `tolerance` seconds away from `now`, either way.

    Too old is a replay or a delivery held up for too long; too new means a clock that is
    wrong on one side, and accepting it would stretch the replay window by the skew.
    `now` must be timezone-aware (it is the caller's clock, passed in)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    age = now.timestamp() - timestamp
    if age > tolerance:
        raise SignatureError(
            f"{header} timestamp {timestamp} has expired: it is {math.ceil(age)} s old and the "
            f"tolerance is {tolerance} s"
        )
    if -age > tolerance:
        raise SignatureError(
            f"{header} timestamp {timestamp} is {math.ceil(-age)} s in the future and the "
            f"tolerance is {tolerance} s"
        )


def parse_unix_seconds(text: str, *, header: str) -> int:
    """A signed unix timestamp: ASCII digits only (no sign, no fraction, no spaces)."""
    if not (0 < len(text) <= 12 and text.isascii() and text.isdigit()):
        raise SignatureError(f"{header} timestamp is not a unix time in seconds")
    return int(text)
