"""A value read from storage once and read again once it is older than a TTL, shared by
the threads of one process (`chalice local` serves each request on a thread)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Refreshed(Generic[T]):
    def __init__(self, fetch: Callable[[], T], ttl_seconds: float, monotonic: Callable[[], float]) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cached: tuple[float, T] | None = None

    def get(self) -> T:
        with self._lock:
            if self._cached is None or self._monotonic() - self._cached[0] > self._ttl:
                self._cached = (self._monotonic(), self._fetch())
            return self._cached[1]
