"""The local stand-in for Lambda's stream event source mapping: Lambda-shaped events, a
checkpoint per shard, retries from the first reported failure, a cap on retries."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from local.stream_poller import FileCheckpoints, MemoryCheckpoints, StreamPoller, lambda_event, lambda_record

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"
SHARD = "shardId-00000001541626099285-f35f62ef"


def stream_record(seq: int) -> dict:
    return {"eventID": f"e{seq}", "eventName": "INSERT", "eventVersion": "1.0", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1", "dynamodb": {
                "ApproximateCreationDateTime": datetime(2026, 1, 1, 10, 0, 0, 500000, tzinfo=timezone.utc),
                "Keys": {"pk": {"S": f"k{seq}"}}, "NewImage": {"pk": {"S": f"k{seq}"}, "raw": {"B": b"\x00\xff"}},
                "SequenceNumber": str(seq), "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES"}}


class FakeStreams:
    """The dynamodbstreams calls the poller makes, over one shard's list of records."""

    def __init__(self, records: list[dict]) -> None:
        self.records = records

    def describe_stream(self, StreamArn: str, **_: object) -> dict:
        return {"StreamDescription": {"Shards": [{"ShardId": SHARD}]}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str,
                           SequenceNumber: str | None = None) -> dict:
        after = int(SequenceNumber) if ShardIteratorType == "AFTER_SEQUENCE_NUMBER" else -1
        return {"ShardIterator": str(after)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict:
        later = [r for r in self.records if int(r["dynamodb"]["SequenceNumber"]) > int(ShardIterator)]
        return {"Records": later[:Limit]}


class Handler:
    """Records what it was given; fails the sequence numbers in `failing`."""

    def __init__(self, failing: set[str] = frozenset(), raises: bool = False) -> None:
        self.failing, self.raises = set(failing), raises
        self.batches: list[list[str]] = []
        self.functions: list[str] = []

    def __call__(self, event: dict, context: object) -> dict:
        self.batches.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
        self.functions.append(context.function_name)
        if self.raises:
            raise RuntimeError("function error")
        return {"batchItemFailures": [{"itemIdentifier": s} for s in self.batches[-1] if s in self.failing]}


def make_poller(records: list[dict], handler: Handler, **options) -> tuple[StreamPoller, MemoryCheckpoints, list]:
    clock = [0.0]
    checkpoints = MemoryCheckpoints()
    poller = StreamPoller(FakeStreams(records), ARN, handler, checkpoints, function="consumer_a",
                          report=lambda line: None, clock=lambda: clock[0], **options)
    return poller, checkpoints, clock


def test_a_record_is_delivered_as_lambda_delivers_it() -> None:
    shaped = lambda_record(stream_record(7), ARN)
    assert shaped["eventSourceARN"] == ARN and shaped["awsRegion"] == "eu-west-1"
    assert shaped["dynamodb"]["ApproximateCreationDateTime"] == 1767261600
    assert shaped["dynamodb"]["NewImage"]["raw"] == {"B": "AP8="}
    assert {"eventID", "eventName", "eventVersion", "eventSource", "dynamodb"} <= shaped.keys()
    assert {"Keys", "NewImage", "SequenceNumber", "SizeBytes", "StreamViewType"} <= shaped["dynamodb"].keys()
    json.dumps(shaped)  # JSON all the way down, like Lambda's payload


def test_the_event_is_a_tumbling_window_event_naming_the_shard() -> None:
    event = lambda_event([stream_record(1)], ARN, SHARD, datetime(2026, 1, 1, 10, 7, tzinfo=timezone.utc))
    assert event["shardId"] == SHARD and event["eventSourceARN"] == ARN and event["state"] == {}
    assert event["window"] == {"start": "2026-01-01T10:00:00Z", "end": "2026-01-01T10:15:00Z"}
    assert event["isFinalInvokeForWindow"] is False and len(event["Records"]) == 1


def test_records_are_delivered_in_batches_and_only_once_while_all_succeed() -> None:
    handler = Handler()
    poller, checkpoints, _ = make_poller([stream_record(n) for n in range(1, 8)], handler, batch_size=3)
    assert poller.poll_once() == 7
    assert handler.batches == [["1", "2", "3"], ["4", "5", "6"], ["7"]]
    assert checkpoints.get(SHARD) == "7"
    assert poller.poll_once() == 0 and len(handler.batches) == 3
    assert set(handler.functions) == {"consumer_a"}  # the context names the consumer's function


def test_after_a_reported_failure_delivery_resumes_at_the_failed_record() -> None:
    handler = Handler(failing={"3"})
    records = [stream_record(n) for n in range(1, 6)]
    poller, checkpoints, clock = make_poller(records, handler)
    assert poller.poll_once() == 2
    assert checkpoints.get(SHARD) == "2"
    assert poller.poll_once() == 0  # backing off
    handler.failing.clear()
    clock[0] += 10
    assert poller.poll_once() == 3
    assert handler.batches == [["1", "2", "3", "4", "5"], ["3", "4", "5"]]


def test_a_record_that_keeps_failing_is_skipped_after_the_last_attempt() -> None:
    handler = Handler(failing={"2"})
    poller, checkpoints, clock = make_poller([stream_record(n) for n in range(1, 4)], handler, max_attempts=3)
    for _ in range(3):
        poller.poll_once()
        clock[0] += 60
    assert checkpoints.get(SHARD) == "3"
    assert handler.batches == [["1", "2", "3"], ["2", "3"], ["2", "3"], ["3"]]


def test_a_handler_that_raises_gets_the_whole_batch_again() -> None:
    handler = Handler(raises=True)
    poller, checkpoints, clock = make_poller([stream_record(1), stream_record(2)], handler)
    assert poller.poll_once() == 0 and checkpoints.get(SHARD) is None
    handler.raises = False
    clock[0] += 10
    assert poller.poll_once() == 2 and handler.batches[-1] == ["1", "2"]


def test_file_checkpoints_survive_a_restart_but_not_a_new_stream(tmp_path: Path) -> None:
    path = tmp_path / "state" / "checkpoints.json"
    FileCheckpoints(path, ARN).set(SHARD, "42")
    assert FileCheckpoints(path, ARN).get(SHARD) == "42"
    assert FileCheckpoints(path, ARN + "-new").get(SHARD) is None
    path.write_text("not json")
    assert FileCheckpoints(path, ARN).get(SHARD) is None
