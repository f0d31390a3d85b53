"""Read-merge-write retried on a write conflict, then 503. No AWS, no clock."""
from __future__ import annotations

import pytest

from chalicelib.errors import StorageUnavailable
from chalicelib.services.conflicts import MAX_CONFLICT_RETRIES, retry_on_conflict
from chalicelib.storage.errors import WriteConflict


def conflicting(times: int) -> tuple[list[int], object]:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(len(calls))
        if len(calls) <= times:
            raise WriteConflict()
        return "merged"

    return calls, attempt


def test_a_conflict_is_read_and_merged_again_after_a_pause() -> None:
    slept: list[float] = []
    calls, attempt = conflicting(2)
    assert retry_on_conflict(attempt, slept.append) == "merged"
    assert len(calls) == 3 and len(slept) == 2


def test_conflicts_on_every_attempt_answer_unavailable_so_the_provider_retries() -> None:
    slept: list[float] = []
    calls, attempt = conflicting(MAX_CONFLICT_RETRIES)
    with pytest.raises(StorageUnavailable):
        retry_on_conflict(attempt, slept.append)
    assert len(calls) == MAX_CONFLICT_RETRIES and len(slept) == MAX_CONFLICT_RETRIES - 1


def test_any_other_failure_is_not_retried() -> None:
    calls: list[int] = []

    def attempt() -> None:
        calls.append(1)
        raise StorageUnavailable("storage is unavailable")

    with pytest.raises(StorageUnavailable):
        retry_on_conflict(attempt, lambda _: pytest.fail("no pause for a failure that is not a conflict"))
    assert calls == [1]
