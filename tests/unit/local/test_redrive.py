"""`make redrive`: every queue redriven until complete, and a failure again is exit 1."""
from __future__ import annotations

from local.redrive import redrive_all


def test_each_queue_is_redriven_until_complete_and_totals_are_printed() -> None:
    answers = {"stream-failures": [{"redriven": 3, "failed": 0, "complete": False},
                                   {"redriven": 1, "failed": 0, "complete": True}],
               "schedule": [{"redriven": 0, "failed": 0, "complete": True}]}
    lines: list[str] = []
    assert redrive_all(list(answers), lambda name: answers[name].pop(0), lines.append) == 0
    assert lines == ["stream-failures: redriven 4, failed 0", "schedule: redriven 0, failed 0"]


def test_a_record_that_failed_again_makes_the_command_fail() -> None:
    lines: list[str] = []
    assert redrive_all(["schedule"], lambda name: {"redriven": 1, "failed": 2}, lines.append) == 1
    assert lines == ["schedule: redriven 1, failed 2"]


def test_what_was_re_applied_from_the_table_is_added_up_and_printed() -> None:
    answers = [{"redriven": 1, "failed": 0, "complete": False, "reapplied": {"transactions": 2, "buckets": 1}},
               {"redriven": 1, "failed": 0, "complete": True, "reapplied": {"transactions": 1, "buckets": 0}}]
    lines: list[str] = []
    assert redrive_all(["stream-failures"], lambda name: answers.pop(0), lines.append) == 0
    assert lines == ["stream-failures: redriven 2, failed 0 (from the table: 3 transactions, 1 buckets)"]
