"""The local stand-in for Lambda's event source mappings (never deployed): `make run` feeds
every handler the Chalice app registers for a DynamoDB stream (`@app.on_dynamodb_record`)
or an SQS queue (`@app.on_sqs_message`) from the emulator, as Lambda does when deployed.
Chalice itself has no local streams or queues.

The app's registered event sources are discovered, not listed here, so a new consumer needs
nothing in `local/`: each handler gets its own poller (local/stream_poller.py,
local/queue_poller.py), with its own checkpoints, in its own thread, so a slow or failing
consumer never delays another, as each deployed consumer has its own mapping. Each poller
calls the very function the deployed Lambda runs, with Lambda's event shape, and honours
`batchItemFailures`. Schedules are local/scheduler.py's; other kinds of source are reported
and not driven.

Run by `make run` (local/run.py): `python -m local.event_sources`, configured like the app
(AWS_ENDPOINT_URL, TRANSACTIONS_STREAM_ARN, ANALYTICS_TABLE, ...). Each poller polls every
0.5 s while there is work and every 1 s when idle, so a handler sees a change within about
2 s.
"""
from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from local.invocation import Report, report_to_stderr
from local.queue_poller import QueuePoller
from local.stream_poller import Checkpoints, FileCheckpoints, MemoryCheckpoints, StreamPoller

REPO_ROOT = Path(__file__).resolve().parent.parent
CHECKPOINT_DIR = REPO_ROOT / ".local-state" / "stream-checkpoints"
READY_PREFIX = "EVENT_SOURCES_READY"


class Poller(Protocol):
    function: str

    def poll_once(self) -> int: ...


@dataclass(frozen=True)
class Clients:
    """The emulator's clients the pollers read with."""

    streams: Any
    sqs: Any


def on_failure_destination(sqs: Any, function: str, stream_arn: str) -> Callable[[str, str], None]:
    """What the deployed stream mapping does with a record it gave up on: Lambda's
    on-failure record for it, sent to the stage's stream-failures queue, naming the
    function as its ARN (the dead-letter redrive routes by it, docs/api.md section 11)."""
    from chalicelib.domain.dead_letters import StreamFailure, stream_failure_record
    from chalicelib.domain.timestamps import format_iso
    from chalicelib.settings import get_settings

    settings = get_settings()
    (queue,) = [q.queue for q in settings.dead_letters if q.redrive == "stream"]
    region, account = stream_arn.split(":")[3:5]
    function_arn = f"arn:aws:lambda:{region}:{account}:function:{settings.function_prefix}{function}"

    def send(shard_id: str, sequence_number: str) -> None:
        failure = StreamFailure(function, stream_arn, shard_id, sequence_number, sequence_number)
        record = stream_failure_record(failure, function_arn, 1, "RetryAttemptsExhausted",
                                       format_iso(datetime.now(timezone.utc)))
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
    return send


def pollers(
    app: Any, clients: Clients,
    checkpoints: Callable[[str, str], Checkpoints] = lambda function, stream_arn: MemoryCheckpoints(),
    report: Report = report_to_stderr, clock: Callable[[], float] | None = None,
) -> list[Poller]:
    """One poller per stream or queue handler `app` (a Chalice app) registered, in order.
    `checkpoints(function, stream_arn)` gives each stream consumer its own; `clock` is the
    stream pollers' clock for their retry back-off (a test's runs fast)."""
    from chalice.app import DynamoDBEventConfig, ScheduledEventConfig, SQSEventConfig

    found: list[Poller] = []
    for source in app.event_sources:
        handler = app.handler_map[source.name]
        if isinstance(source, DynamoDBEventConfig):
            if not source.stream_arn:
                raise ValueError(f"{source.name}: no stream ARN (is its environment variable set?)")
            found.append(StreamPoller(
                clients.streams, source.stream_arn, handler, checkpoints(source.name, source.stream_arn),
                function=source.name, batch_size=source.batch_size, report=report,
                **({"clock": clock} if clock else {}),
                on_failure=on_failure_destination(clients.sqs, source.name, source.stream_arn)))
        elif isinstance(source, SQSEventConfig):
            queue = source.queue or str(source.queue_arn).rsplit(":", 1)[1]
            found.append(QueuePoller(clients.sqs, queue, handler, function=source.name,
                                     batch_size=source.batch_size, report=report))
        elif not isinstance(source, ScheduledEventConfig):  # schedules: local/scheduler.py
            report(f"{source.name}: {type(source).__name__} sources are not driven locally")
    return found


def file_checkpoints(directory: Path = CHECKPOINT_DIR) -> Callable[[str, str], Checkpoints]:
    """Checkpoints per consumer in `directory`, so a restarted driver resumes each one."""
    return lambda function, stream_arn: FileCheckpoints(directory / f"{function}.json", stream_arn)


def drive(poller: Poller, stop: threading.Event, report: Report = report_to_stderr,
          interval: float = 0.5, idle_interval: float = 1.0) -> None:
    """Poll until `stop`: briskly while there is work, more slowly after ten idle polls."""
    idle_polls = 0
    while not stop.is_set():
        try:
            delivered = poller.poll_once()
        except Exception as exc:  # noqa: BLE001 - the emulator restarting, say: keep polling
            report(f"{poller.function}: poll failed: {type(exc).__name__}: {exc}")
            delivered = 0
        idle_polls = 0 if delivered else idle_polls + 1
        stop.wait(interval if idle_polls < 10 else idle_interval)


def drive_all(found: list[Poller], stop: threading.Event, report: Report = report_to_stderr) -> list[threading.Thread]:
    """Each poller in a thread of its own (boto3 clients are safe to share between threads)."""
    threads = [threading.Thread(target=drive, args=(poller, stop, report), name=poller.function, daemon=True)
               for poller in found]
    for thread in threads:
        thread.start()
    return threads


def main() -> None:
    import boto3

    sys.path.insert(0, str(REPO_ROOT))
    import app

    found = pollers(app.app, Clients(boto3.client("dynamodbstreams"), boto3.client("sqs")), file_checkpoints())
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    threads = drive_all(found, stop)
    print(f"{READY_PREFIX} {' '.join(p.function for p in found) or '(no stream or queue handlers)'}", flush=True)
    while not stop.wait(1.0):
        pass
    for thread in threads:
        thread.join(timeout=10)


if __name__ == "__main__":
    main()
