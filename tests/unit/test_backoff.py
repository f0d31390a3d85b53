"""Bounded retries with exponentially growing, fully jittered pauses. No clock: sleep and
jitter are injected."""
from __future__ import annotations

import random

import pytest

from chalicelib.backoff import retry_attempts


class Pauses:
    def __init__(self) -> None:
        self.slept: list[float] = []
        self.ranges: list[tuple[float, float]] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def jitter(self, low: float, high: float) -> float:
        self.ranges.append((low, high))
        return high / 2


def test_every_attempt_is_offered_with_a_doubling_jittered_pause_between_them() -> None:
    pauses = Pauses()
    attempts = list(retry_attempts(4, pauses.sleep, base_seconds=0.01, jitter=pauses.jitter))
    assert attempts == [0, 1, 2, 3]
    assert pauses.ranges == [(0, 0.01), (0, 0.02), (0, 0.04)]
    assert pauses.slept == [0.005, 0.01, 0.02]


def test_the_first_attempt_runs_at_once_and_success_ends_the_pauses() -> None:
    pauses = Pauses()
    for attempt in retry_attempts(5, pauses.sleep, jitter=pauses.jitter):
        if attempt == 1:
            break
    assert len(pauses.slept) == 1


def test_a_single_attempt_never_pauses() -> None:
    pauses = Pauses()
    assert list(retry_attempts(1, pauses.sleep, jitter=pauses.jitter)) == [0]
    assert pauses.slept == []


def test_the_default_jitter_pauses_somewhere_between_nothing_and_the_bound() -> None:
    slept: list[float] = []
    random.seed(11)
    for _ in range(200):
        list(retry_attempts(3, slept.append, base_seconds=0.01))
    first, second = slept[0::2], slept[1::2]
    assert all(0 <= s <= 0.01 for s in first) and all(0 <= s <= 0.02 for s in second)
    assert len(set(first)) > 100, "pauses are spread, not one fixed delay"


def test_fewer_than_one_attempt_is_refused() -> None:
    with pytest.raises(ValueError):
        list(retry_attempts(0))
