"""Optimistic concurrency for read-merge-write: when another writer changed the transaction
between our read and our write, read and merge again after a jittered backoff."""
from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar

from chalicelib.errors import StorageUnavailable
from chalicelib.storage.errors import WriteConflict

MAX_CONFLICT_RETRIES = 8
T = TypeVar("T")


def retry_on_conflict(attempt: Callable[[], T], sleep: Callable[[float], None]) -> T:
    """Run `attempt` (read, merge, conditional write) until it does not raise
    `WriteConflict`; after a bounded number of tries answer 503 so the caller retries."""
    for tries in range(MAX_CONFLICT_RETRIES):
        try:
            return attempt()
        except WriteConflict:
            sleep(random.uniform(0, 0.01 * 2 ** tries))
    raise StorageUnavailable("the transaction is being changed concurrently; retry later")
