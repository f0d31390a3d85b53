"""Optimistic concurrency for read-merge-write: when another writer changed the transaction
between our read and our write, read and merge again after a jittered backoff."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from chalicelib.backoff import Sleep, retry_attempts
from chalicelib.errors import StorageUnavailable
from chalicelib.storage.errors import WriteConflict

MAX_CONFLICT_RETRIES = 8
T = TypeVar("T")


def retry_on_conflict(attempt: Callable[[], T], sleep: Sleep) -> T:
    """Run `attempt` (read, merge, conditional write) until it does not raise
    `WriteConflict`; after a bounded number of tries answer 503 so the caller retries."""
    for _ in retry_attempts(MAX_CONFLICT_RETRIES, sleep):
        try:
            return attempt()
        except WriteConflict:
            pass  # another writer got there first: read and merge again
    raise StorageUnavailable("the transaction is being changed concurrently; retry later")
