"""The scheduled jobs of `make run`, on their schedules (docs/api.md section 6). Never deployed.

One job today: archival, daily at 02:00 UTC like the deployed `Cron(0, 2, *, *, ?, *)`,
by calling the app's scheduled handler the way Lambda does (local/archive.py). Started by
local/run.py as a managed worker with the stack's environment; SIGTERM stops it. A run
that fails is logged and retried at the next 02:00, like a scheduled Lambda whose retries
are spent.
"""
from __future__ import annotations

import json
import sys
import time
import traceback
from datetime import datetime, timedelta, timezone

ARCHIVAL_HOUR_UTC = 2
_TICK_SECONDS = 30.0


def next_run(now: datetime, hour: int = ARCHIVAL_HOUR_UTC) -> datetime:
    """The first `hour`:00 UTC strictly after `now`."""
    utc = now.astimezone(timezone.utc)
    candidate = utc.replace(hour=hour, minute=0, second=0, microsecond=0)
    return candidate if candidate > utc else candidate + timedelta(days=1)


def main() -> int:
    from local.archive import invoke_archival

    print(f"local.scheduler: archival daily at {ARCHIVAL_HOUR_UTC:02d}:00 UTC", flush=True)
    while True:
        due = next_run(datetime.now(timezone.utc))
        while (left := (due - datetime.now(timezone.utc)).total_seconds()) > 0:
            time.sleep(min(left, _TICK_SECONDS))
        try:
            report = invoke_archival()
            print(f"local.scheduler: archival done {json.dumps(report)}", flush=True)
        except Exception:  # keep the schedule going, as Lambda would
            print(f"local.scheduler: archival failed\n{traceback.format_exc()}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
