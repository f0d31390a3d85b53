"""Retrying a conditional write that lost a race: a bounded number of attempts, with
exponentially growing, fully jittered pauses between them.

Two writers that collided and retry after the same pause collide again; a random pause in
[0, base * 2^n] ("full jitter") spreads them apart, and doubling the range each time lets a
hot item calm down. Only the standard library: services and storage both use it."""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator

Sleep = Callable[[float], None]
Jitter = Callable[[float, float], float]

BASE_DELAY_SECONDS = 0.01


def retry_attempts(
    limit: int, sleep: Sleep = time.sleep, base_seconds: float = BASE_DELAY_SECONDS,
    jitter: Jitter = random.uniform,
) -> Iterator[int]:
    """Attempt numbers 0 .. limit-1 for a `for` loop that returns or breaks on success;
    before attempt n (from 1) it sleeps `jitter(0, base_seconds * 2 ** (n - 1))`. Falling
    off the end of the loop means every attempt failed; no pause follows the last one."""
    if limit < 1:
        raise ValueError("limit must be positive")
    for attempt in range(limit):
        if attempt:
            sleep(jitter(0, base_seconds * 2 ** (attempt - 1)))
        yield attempt
