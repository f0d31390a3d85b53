"""The scheduled jobs of `make run`, on their schedules (docs/api.md section 6). Never deployed.

- `archive_transactions` daily at 02:00 UTC, like the deployed `Cron(0, 2, *, *, ?, *)`;
- `validate_reconciliations` daily at 03:00 UTC, like the deployed `Cron(0, 3, *, *, ?, *)`;
- `watch_dead_letters` every 5 minutes, like the deployed `Rate(5, MINUTES)`.
Each is run by calling the app's scheduled handler with the EventBridge event Lambda gets
(its `resources` name the rule Chalice makes, `<function name>-event`). A run that fails is
tried twice more, as Lambda retries an asynchronous invocation, and then its event goes to
the stage's schedule dead-letter queue as Lambda sends it, where `make redrive` (or the
redrive route) finds it. Started by local/run.py as a managed worker with the stack's
environment; SIGTERM stops it.
"""
from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

ARCHIVAL_HOUR_UTC = 2
ATTEMPTS = 3  # Lambda's asynchronous invocation: the first try and two retries
_TICK_SECONDS = 30.0


def next_run(now: datetime, hour: int = ARCHIVAL_HOUR_UTC) -> datetime:
    """The first `hour`:00 UTC strictly after `now`."""
    utc = now.astimezone(timezone.utc)
    candidate = utc.replace(hour=hour, minute=0, second=0, microsecond=0)
    return candidate if candidate > utc else candidate + timedelta(days=1)


def every(minutes: int) -> Callable[[datetime], datetime]:
    """The next multiple of `minutes` past the hour strictly after `now` (EventBridge's rate)."""
    def following(now: datetime) -> datetime:
        utc = now.astimezone(timezone.utc).replace(second=0, microsecond=0)
        return utc + timedelta(minutes=minutes - utc.minute % minutes)
    return following


@dataclass(frozen=True)
class Job:
    function: str
    next_run: Callable[[datetime], datetime]


def daily(hour: int) -> Callable[[datetime], datetime]:
    """The first `hour`:00 UTC strictly after `now` (a daily cron)."""
    return lambda now: next_run(now, hour)


JOBS = (Job("archive_transactions", daily(ARCHIVAL_HOUR_UTC)), Job("validate_reconciliations", daily(3)),
        Job("watch_dead_letters", every(5)))


def scheduled_event(function: str, now: datetime, function_prefix: str, region: str, account: str) -> dict[str, Any]:
    rule = f"arn:aws:events:{region}:{account}:rule/{function_prefix}{function}-event"
    return {"version": "0", "id": f"local-{function}-{int(now.timestamp())}", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": account, "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region, "resources": [rule], "detail": {}}


def run_job(handler: Callable[[dict[str, Any], Any], Any], function: str, event: dict[str, Any],
            dead_letter: Callable[[dict[str, Any], str], None], attempts: int = ATTEMPTS) -> Any:
    """Lambda's asynchronous invocation of a scheduled job: tried `attempts` times, then
    its event is dead-lettered (and the last error raised)."""
    from chalice.local import LambdaContext

    for attempt in range(1, attempts + 1):
        try:
            return handler(event, LambdaContext(function, memory_size=512, max_runtime_ms=900_000))
        except Exception as exc:  # noqa: BLE001 - as Lambda: retry, then dead-letter
            if attempt == attempts:
                dead_letter(event, f"{type(exc).__name__}: {exc}")
                raise
    raise AssertionError("unreachable")


def schedule_dead_letters(sqs: Any) -> Callable[[dict[str, Any], str], None]:
    """What Lambda sends the function's dead-letter queue: the event, with the error as
    message attributes."""
    from chalicelib.settings import get_settings

    (queue,) = [q.queue for q in get_settings().dead_letters if q.redrive == "schedule"]

    def send(event: dict[str, Any], error: str) -> None:
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event), MessageAttributes={
            "ErrorCode": {"DataType": "String", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": error[:256]}})
    return send


def main() -> int:
    import boto3

    from app import app
    from chalicelib.settings import get_settings
    from local import provision

    prefix, region = get_settings().function_prefix, provision.DEFAULT_REGION
    dead_letter = schedule_dead_letters(boto3.client("sqs"))
    due = {job.function: job.next_run(datetime.now(timezone.utc)) for job in JOBS}
    print("local.scheduler: " + ", ".join(f"{f} next at {d:%Y-%m-%d %H:%M} UTC" for f, d in due.items()), flush=True)
    while True:
        function, at = min(due.items(), key=lambda item: item[1])
        while (left := (at - datetime.now(timezone.utc)).total_seconds()) > 0:
            time.sleep(min(left, _TICK_SECONDS))
        job = next(j for j in JOBS if j.function == function)
        due[function] = job.next_run(datetime.now(timezone.utc))
        event = scheduled_event(function, at, prefix, region, "123456789012")
        try:
            report = run_job(app.handler_map[function], function, event, dead_letter)
            print(f"local.scheduler: {function} done {json.dumps(report, default=str)}", flush=True)
        except Exception:  # keep the schedule going, as Lambda would
            print(f"local.scheduler: {function} failed; its event is in the schedule dead-letter queue\n"
                  f"{traceback.format_exc()}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
