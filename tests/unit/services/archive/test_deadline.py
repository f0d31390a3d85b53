"""The time budget. Pure."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.services.archive.run import Deadline


def test_work_stops_once_the_remaining_time_is_within_the_margin() -> None:
    remaining = iter([600_000, 60_001, 60_000, 10])
    deadline = Deadline(lambda: next(remaining), timedelta(seconds=60))
    assert [deadline.near() for _ in range(4)] == [False, False, True, True]
