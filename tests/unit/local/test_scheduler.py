"""When the local scheduler runs archival: 02:00 UTC daily, like the deployed Cron. Pure."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from local.scheduler import next_run

UTC = timezone.utc


def test_the_next_run_is_the_coming_0200_utc() -> None:
    assert next_run(datetime(2026, 11, 23, 1, 59, tzinfo=UTC)) == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert next_run(datetime(2026, 11, 23, 2, 0, tzinfo=UTC)) == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    assert next_run(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == datetime(2027, 1, 1, 2, 0, tzinfo=UTC)


def test_a_local_clock_in_another_zone_still_means_0200_utc() -> None:
    paris = timezone(timedelta(hours=1))
    assert next_run(datetime(2026, 11, 23, 2, 30, tzinfo=paris)) == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert next_run(datetime(2026, 11, 23, 3, 30, tzinfo=paris)) == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_the_dead_letter_watch_runs_on_every_fifth_minute() -> None:
    from local.scheduler import every

    assert every(5)(datetime(2026, 11, 23, 10, 4, 59, tzinfo=UTC)) == datetime(2026, 11, 23, 10, 5, tzinfo=UTC)
    assert every(5)(datetime(2026, 11, 23, 10, 5, tzinfo=UTC)) == datetime(2026, 11, 23, 10, 10, tzinfo=UTC)
    assert every(5)(datetime(2026, 11, 23, 23, 58, tzinfo=UTC)) == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


def test_the_reconciliation_validation_runs_daily_at_0300_utc_after_archival() -> None:
    from local.scheduler import JOBS

    due = {job.function: job.next_run(datetime(2026, 11, 23, 1, 0, tzinfo=UTC)) for job in JOBS}
    assert due["archive_transactions"] == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert due["validate_reconciliations"] == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert JOBS[1].next_run(datetime(2026, 11, 23, 3, 0, tzinfo=UTC)) == datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
