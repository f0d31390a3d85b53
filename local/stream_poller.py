"""The local stand-in for one Lambda DynamoDB-stream event source mapping (never deployed).

Reads a stream of the emulator through the `dynamodbstreams` API and hands each batch to
one handler the deployed Lambda runs (local/event_sources.py makes one poller per
`@app.on_dynamodb_record` handler, each with its own checkpoints, as each deployed consumer
has its own mapping), as the event Lambda would send: the records in Lambda's shape
(`eventSourceARN` added, `ApproximateCreationDateTime` in epoch seconds, binary values
base64) inside a tumbling-window envelope (`shardId`, `window`, `state`), which is how the
deployed mapping tells the handler its shard.

Like Lambda it keeps a checkpoint per shard (the last sequence number handled), retries from
the earliest record the handler reports in `batchItemFailures`, and gives up on a record
after `max_attempts` (a deployed stage sends it to the on-failure destination). Every batch
reads through a fresh `AFTER_SEQUENCE_NUMBER` iterator from the checkpoint: the checkpoint,
not an iterator chain, is what survives a restarted poller, and unpatched moto replaces a
shard object after a cancelled transaction, which blinds an old chain.
A poller without a checkpoint reads from the start of the stream (TRIM_HORIZON, whatever the
handler's `starting_position`): the emulator's streams start empty with each `make run`.
"""
from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from local.invocation import (
    FakeLambdaContext, Handler, Report, failed_identifiers, redelivery_delay, report_to_stderr,
)

WINDOW_SECONDS = 900


class Checkpoints(Protocol):
    def get(self, shard_id: str) -> str | None: ...
    def set(self, shard_id: str, sequence_number: str) -> None: ...


class MemoryCheckpoints:
    def __init__(self) -> None:
        self._positions: dict[str, str] = {}

    def get(self, shard_id: str) -> str | None:
        return self._positions.get(shard_id)

    def set(self, shard_id: str, sequence_number: str) -> None:
        self._positions[shard_id] = sequence_number


class FileCheckpoints:
    """Checkpoints of one consumer of one stream in a small JSON file, so a restarted poller
    resumes where it was while the emulator lives; a new emulator has a new stream ARN and
    starts over."""

    def __init__(self, path: Path, stream_arn: str) -> None:
        self._path = path
        self._stream_arn = stream_arn
        try:
            saved = json.loads(path.read_text(encoding="utf-8")).get(stream_arn, {})
        except (OSError, ValueError, AttributeError):
            saved = {}
        self._positions: dict[str, str] = dict(saved) if isinstance(saved, dict) else {}

    def get(self, shard_id: str) -> str | None:
        return self._positions.get(shard_id)

    def set(self, shard_id: str, sequence_number: str) -> None:
        self._positions[shard_id] = sequence_number
        self._path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._path.with_suffix(f".{os.getpid()}.tmp")  # another poller may be writing too
        partial.write_text(json.dumps({self._stream_arn: self._positions}), encoding="utf-8")
        partial.replace(self._path)


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    for image in ("Keys", "NewImage", "OldImage"):
        if image in stream:
            stream[image] = _json_safe(stream[image])
    return {
        "eventID": record["eventID"], "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": record.get("eventSource", "aws:dynamodb"),
        "awsRegion": stream_arn.split(":")[3], "dynamodb": stream, "eventSourceARN": stream_arn,
    }


def lambda_event(records: list[Mapping[str, Any]], stream_arn: str, shard_id: str, now: datetime) -> dict[str, Any]:
    """The event of a mapping with a tumbling window: Lambda's only event that names the shard."""
    start = int(now.timestamp()) // WINDOW_SECONDS * WINDOW_SECONDS
    return {
        "Records": [lambda_record(r, stream_arn) for r in records],
        "window": {"start": _iso(start), "end": _iso(start + WINDOW_SECONDS)},
        "state": {}, "shardId": shard_id, "eventSourceARN": stream_arn,
        "isFinalInvokeForWindow": False, "isWindowTerminatedEarly": False,
    }


class StreamPoller:
    """Feeds one stream to one handler (`function`, the name it is reported under)."""

    def __init__(
        self, streams: Any, stream_arn: str, handler: Handler, checkpoints: Checkpoints,
        function: str = "stream-consumer", batch_size: int = 100, max_attempts: int = 5,
        report: Report = report_to_stderr, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.function = function
        self._streams = streams
        self._stream_arn = stream_arn
        self.handler = handler
        self._checkpoints = checkpoints
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._report = report
        self._clock = clock
        self._attempts: dict[tuple[str, str], int] = {}
        self._resume_at: dict[str, float] = {}

    def poll_once(self) -> int:
        """Hand every available record to the handler; answer how many were delivered."""
        return sum(self._drain(shard_id) for shard_id in self._shard_ids())

    def _shard_ids(self) -> list[str]:
        shards: list[str] = []
        request: dict[str, Any] = {"StreamArn": self._stream_arn}
        while True:
            description = self._streams.describe_stream(**request)["StreamDescription"]
            shards.extend(shard["ShardId"] for shard in description.get("Shards", []))
            if not description.get("LastEvaluatedShardId"):
                return shards
            request["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]

    def _drain(self, shard_id: str) -> int:
        delivered = 0
        while self._clock() >= self._resume_at.get(shard_id, 0.0):
            records = self._read(shard_id)
            if not records:
                break
            delivered += self._deliver(shard_id, records)
            caught_up = self._checkpoints.get(shard_id) == records[-1]["dynamodb"]["SequenceNumber"]
            if caught_up and len(records) < self._batch_size:
                break
        return delivered

    def _read(self, shard_id: str) -> list[dict[str, Any]]:
        checkpoint = self._checkpoints.get(shard_id)
        start: dict[str, Any] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": checkpoint}
            if checkpoint else {"ShardIteratorType": "TRIM_HORIZON"})
        iterator = self._streams.get_shard_iterator(
            StreamArn=self._stream_arn, ShardId=shard_id, **start)["ShardIterator"]
        return self._streams.get_records(ShardIterator=iterator, Limit=self._batch_size)["Records"]

    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> int:
        """Invoke the handler; move the checkpoint past what succeeded. Answers the number of
        records now behind the checkpoint (0 when the first record must be retried)."""
        event = lambda_event(records, self._stream_arn, shard_id, datetime.now(timezone.utc))
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        try:
            failed = failed_identifiers(self.handler(event, FakeLambdaContext(self.function)))
        except Exception as exc:  # noqa: BLE001 - a function error: Lambda retries the batch
            self._report(f"{self.function}: handler raised {type(exc).__name__}: {exc}")
            failed = {sequence_numbers[0]}
        failed_at = next((i for i, s in enumerate(sequence_numbers) if s in failed),
                         0 if failed else len(records))
        if failed_at == len(records):
            self._checkpoints.set(shard_id, sequence_numbers[-1])
            self._attempts = {key: n for key, n in self._attempts.items() if key[0] != shard_id}
            return len(records)
        if failed_at:
            self._checkpoints.set(shard_id, sequence_numbers[failed_at - 1])
        return failed_at + self._retry_or_skip(shard_id, sequence_numbers[failed_at])

    def _retry_or_skip(self, shard_id: str, sequence_number: str) -> int:
        key = (shard_id, sequence_number)
        attempts = self._attempts[key] = self._attempts.get(key, 0) + 1
        if attempts < self._max_attempts:
            self._resume_at[shard_id] = self._clock() + redelivery_delay(attempts)
            return 0
        del self._attempts[key]
        self._report(f"{self.function}: record {sequence_number} of {shard_id} failed {attempts} times; "
                     "skipped (a deployed stage sends it to the on-failure destination)")
        self._checkpoints.set(shard_id, sequence_number)
        return 1


def _json_safe(value: Any) -> Any:
    """boto3 decodes binary attribute values to bytes; Lambda's JSON carries base64 text."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
