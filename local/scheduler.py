"""The scheduled jobs of `make run`, on their schedules (docs/api.md section 6). Never deployed.

Archival daily at 02:00 UTC and the reconciliation validation daily at 03:00 UTC, like the
deployed `Cron(0, 2, *, *, ?, *)` and `Cron(0, 3, *, *, ?, *)`, each by calling the app's
scheduled handler the way Lambda does (local/archive.py). Started by local/run.py as a
managed worker with the stack's environment; SIGTERM stops it. A run that fails is logged
and retried at its next hour, like a scheduled Lambda whose retries are spent.
"""
from __future__ import annotations

import json
import sys
import time
import traceback
from datetime import datetime, timedelta, timezone

ARCHIVAL_HOUR_UTC = 2
JOBS = {"archive_transactions": ARCHIVAL_HOUR_UTC, "validate_reconciliations": 3}
"""Each scheduled handler of app.py and its daily hour (UTC)."""
_TICK_SECONDS = 30.0


def next_run(now: datetime, hour: int = ARCHIVAL_HOUR_UTC) -> datetime:
    """The first `hour`:00 UTC strictly after `now`."""
    utc = now.astimezone(timezone.utc)
    candidate = utc.replace(hour=hour, minute=0, second=0, microsecond=0)
    return candidate if candidate > utc else candidate + timedelta(days=1)


def next_job(now: datetime, jobs: dict[str, int] = JOBS) -> tuple[datetime, str]:
    """The job due first after `now`, and when (ties in the table's order)."""
    return min((next_run(now, hour), name) for name, hour in jobs.items())


def main() -> int:
    from local.archive import invoke_scheduled

    schedule = ", ".join(f"{name} daily at {hour:02d}:00 UTC" for name, hour in JOBS.items())
    print(f"local.scheduler: {schedule}", flush=True)
    while True:
        due, job = next_job(datetime.now(timezone.utc))
        while (left := (due - datetime.now(timezone.utc)).total_seconds()) > 0:
            time.sleep(min(left, _TICK_SECONDS))
        try:
            report = invoke_scheduled(job)
            print(f"local.scheduler: {job} done {json.dumps(report)}", flush=True)
        except Exception:  # keep the schedule going, as Lambda would
            print(f"local.scheduler: {job} failed\n{traceback.format_exc()}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
