"""Replacing a committed part's transactions on a thread pool. No AWS: the records are a
stand-in that answers each conditional replacement."""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import pytest

from chalicelib.domain.events import CanonicalEvent
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import ArchivePointer, Transaction, merge_event
from chalicelib.services.archive.replace import Archived, ReplacementOutcome, Replacer
from chalicelib.storage.archive.archivable import Replacement
from chalicelib.storage.archive.parts import line_digest

POINTER = ArchivePointer(at=datetime(2026, 11, 23, tzinfo=timezone.utc), object="s3://archive/part-00000.jsonl.gz")


class Records:
    """Replaces every id except those in `changed` (gone: left live) and `failing` (raises)."""

    def __init__(self, changed: frozenset[str] = frozenset(), failing: frozenset[str] = frozenset()) -> None:
        self.changed, self.failing = changed, failing
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def replace_with_archived(self, provider: str, payment_id: str, version: int, pointer: Any) -> Replacement:
        with self._lock:
            self.calls.append(payment_id)
        time.sleep(0.001)
        if payment_id in self.failing:
            raise ConnectionError(f"replacing {payment_id}")
        return Replacement(False) if payment_id in self.changed else Replacement(True)


class CountingPool(ThreadPoolExecutor):
    """Remembers the most replacements ever submitted and not yet finished."""

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.outstanding = self.most_outstanding = 0
        self._count_lock = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._count_lock:
            self.outstanding += 1
            self.most_outstanding = max(self.most_outstanding, self.outstanding)
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _: Future[Any]) -> None:
        with self._count_lock:
            self.outstanding -= 1


def part(count: int) -> list[Archived]:
    return [Archived("stripe", f"pi_{n}", 1, b"digest") for n in range(count)]


def test_every_transaction_of_a_part_is_replaced_and_counted_by_its_outcome() -> None:
    records = Records(changed=frozenset({"pi_3", "pi_7"}))
    with ThreadPoolExecutor(4) as pool:
        outcomes = Replacer(records, lambda txn: b"", pool, in_flight=8).replace_all(part(50), POINTER)
    assert outcomes == {ReplacementOutcome.REPLACED: 48, ReplacementOutcome.CHANGED: 2}
    assert sorted(records.calls) == sorted(item.id for item in part(50))


def test_no_more_than_in_flight_replacements_are_submitted_at_once_however_large_the_part() -> None:
    with CountingPool(4) as pool:
        outcomes = Replacer(Records(), lambda txn: b"", pool, in_flight=8).replace_all(part(300), POINTER)
    assert outcomes[ReplacementOutcome.REPLACED] == 300
    assert pool.most_outstanding <= 8


def test_a_failed_replacement_propagates_and_the_rest_of_the_part_is_not_submitted() -> None:
    records = Records(failing=frozenset({"pi_5"}))
    with ThreadPoolExecutor(2) as pool, pytest.raises(ConnectionError):
        Replacer(records, lambda txn: b"", pool, in_flight=4).replace_all(part(500), POINTER)
    assert len(records.calls) < 500


def test_in_flight_must_be_positive() -> None:
    with ThreadPoolExecutor(1) as pool, pytest.raises(ValueError):
        Replacer(Records(), lambda txn: b"", pool, in_flight=0)


class Contended:
    """Refuses the first replacement of each id: the item moved to a newer version with the
    same snapshot (its line unchanged), as a replayed event it already lists would."""

    def __init__(self) -> None:
        self.versions: list[int] = []

    def replace_with_archived(self, provider: str, payment_id: str, version: int, pointer: Any) -> Replacement:
        self.versions.append(version)
        if len(self.versions) == 1:
            return Replacement(False, _transaction(version=version + 1))
        return Replacement(True)


def _transaction(version: int) -> Transaction:
    event = CanonicalEvent(provider="stripe", event_id="evt_1", type="t", payment_id="pi_0",
                           occurred_at=POINTER.at, status=Status.SUCCEEDED)
    return merge_event(None, event, POINTER.at).transaction.model_copy(update={"version": version})


def test_an_unchanged_snapshot_at_a_newer_version_is_replaced_after_a_jittered_pause() -> None:
    records, slept = Contended(), []
    with ThreadPoolExecutor(1) as pool:
        replacer = Replacer(records, lambda txn: b"line", pool, sleep=slept.append)
        outcomes = replacer.replace_all([Archived("stripe", "pi_0", 1, line_digest(b"line"))], POINTER)
    assert outcomes == {ReplacementOutcome.REPLACED: 1}
    assert records.versions == [1, 2] and len(slept) == 1
