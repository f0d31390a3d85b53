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
after `max_attempts`, handing it to `on_failure` (local/event_sources.py sends Lambda's
on-failure record for it to the stream-failures queue, as the deployed mapping does, having
bisected the batch down to that record). Every batch
reads through a fresh `AFTER_SEQUENCE_NUMBER` iterator from the checkpoint: the checkpoint,
not an iterator chain, is what survives a restarted poller, and unpatched moto replaces a
shard object after a cancelled transaction, which blinds an old chain.
A poller without a checkpoint reads from the start of the stream (TRIM_HORIZON, whatever the
handler's `starting_position`): the emulator's streams start empty with each `make run`.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from chalicelib.storage.stream_records import WINDOW_SECONDS, lambda_event, lambda_record  # noqa: F401
from local.invocation import (
    FakeLambdaContext, Handler, Report, failed_identifiers, redelivery_delay, report_to_stderr,
)


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


class StreamPoller:
    """Feeds one stream to one handler (`function`, the name it is reported under)."""

    def __init__(
        self, streams: Any, stream_arn: str, handler: Handler, checkpoints: Checkpoints,
        function: str = "stream-consumer", batch_size: int = 100, max_attempts: int = 5,
        report: Report = report_to_stderr, clock: Callable[[], float] = time.monotonic,
        on_failure: Callable[[str, str], None] | None = None,
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
        self._on_failure = on_failure
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
        if self._on_failure is not None:  # before the checkpoint moves: nothing is lost
            self._on_failure(shard_id, sequence_number)
        self._report(f"{self.function}: record {sequence_number} of {shard_id} failed {attempts} times; "
                     + ("sent to the on-failure destination" if self._on_failure else "skipped"))
        self._checkpoints.set(shard_id, sequence_number)
        return 1
