"""What a dead letter says: which consumer or job gave up, on what (docs/api.md section 11).

Two shapes come from Lambda itself, so they are read here once:
- a stream consumer's on-failure record, which names the batch and not its records:
  `requestContext.functionArn` (the consumer), `DDBStreamBatchInfo` (stream ARN, shard,
  first and last sequence number);
- a scheduled job's failed asynchronous invocation: the original EventBridge event, whose
  `resources` name the rule Chalice made for the job (`<function name>-event`).
A record that fits neither is `UnreadableLetter`: it stays in its queue for a person to read.
Pure: no I/O."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.timestamps import InvalidTimestamp, parse_iso


class UnreadableLetter(ValueError):
    """A dead letter that does not say what to redrive (it is left where it is)."""


@dataclass(frozen=True)
class StreamFailure:
    consumer: str
    stream_arn: str
    shard_id: str
    first_sequence: str
    last_sequence: str


def stream_failure(body: str, function_prefix: str) -> StreamFailure:
    """Lambda's on-failure record of a DynamoDB-stream batch; `consumer` is the function
    name without the stage's prefix (the name it is registered under in the app)."""
    record = _json_object(body)
    batch = record.get("DDBStreamBatchInfo")
    context = record.get("requestContext")
    if not isinstance(batch, dict) or not isinstance(context, dict):
        raise UnreadableLetter("not a stream on-failure record (no DDBStreamBatchInfo)")
    function = _function_name(context.get("functionArn"))
    if not function.startswith(function_prefix) or function == function_prefix:
        raise UnreadableLetter(f"function {function!r} is not one of this stage's consumers")
    fields = [batch.get(k) for k in ("streamArn", "shardId", "startSequenceNumber", "endSequenceNumber")]
    if not all(isinstance(value, str) and value for value in fields):
        raise UnreadableLetter("DDBStreamBatchInfo lacks the stream, shard or sequence numbers")
    stream_arn, shard_id, first, last = fields
    if not (first.isdigit() and last.isdigit()) or int(first) > int(last):
        raise UnreadableLetter("DDBStreamBatchInfo sequence numbers are not an ascending range")
    return StreamFailure(function.removeprefix(function_prefix), stream_arn, shard_id, first, last)


def arrival_window(body: str) -> tuple[datetime, datetime]:
    """When the first and the last record of a stream-failure letter's batch reached the
    stream (`approximateArrivalOf{First,Last}Record`): all that is left to find its
    transactions by once the stream no longer holds the records."""
    batch = _json_object(body).get("DDBStreamBatchInfo")
    try:
        first, last = (parse_iso(batch[k]) for k in ("approximateArrivalOfFirstRecord",
                                                       "approximateArrivalOfLastRecord"))
    except (InvalidTimestamp, KeyError, TypeError) as exc:
        raise UnreadableLetter("DDBStreamBatchInfo lacks the records' arrival times") from exc
    if last < first:
        raise UnreadableLetter("DDBStreamBatchInfo arrival times are not in order")
    return first, last


def failed_job(body: str, function_prefix: str) -> tuple[str, dict[str, Any]]:
    """The job whose invocation failed and the event to invoke it with again."""
    event = _json_object(body)
    resources = event.get("resources")
    rules = [r.rsplit("/", 1)[-1] for r in resources if isinstance(r, str)] if isinstance(resources, list) else []
    for rule in rules:
        if rule.startswith(function_prefix) and rule.endswith("-event"):
            job = rule.removeprefix(function_prefix).removesuffix("-event")
            if job:
                return job, event
    raise UnreadableLetter("not a scheduled event of this stage (no rule of its jobs in resources)")


def stream_failure_record(
    failure: StreamFailure, function_arn: str, batch_size: int, condition: str, at: str,
) -> dict[str, Any]:
    """The record Lambda leaves in the on-failure destination (the local event sources
    write the same when they give up, so `make run` and the tests redrive what AWS sends)."""
    return {
        "requestContext": {"requestId": f"{failure.shard_id}:{failure.first_sequence}",
                           "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": 1},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": at,
        "DDBStreamBatchInfo": {
            "shardId": failure.shard_id, "startSequenceNumber": failure.first_sequence,
            "endSequenceNumber": failure.last_sequence, "approximateArrivalOfFirstRecord": at,
            "approximateArrivalOfLastRecord": at, "batchSize": batch_size, "streamArn": failure.stream_arn,
        },
    }


def incident_key(queue_name: str, opened_at: str) -> str:
    """One `dead_letter` alert per incident: an incident of a queue opens when a check
    first finds it non-empty and closes when a check finds it empty, so the key is the
    queue's name and the time its incident opened."""
    return f"{queue_name}/{opened_at}"


def _function_name(arn: Any) -> str:
    """`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]` -> `<name>`."""
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
        raise UnreadableLetter("requestContext.functionArn is not a Lambda function ARN")
    return parts[6]


def _json_object(body: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (TypeError, ValueError):
        raise UnreadableLetter("not JSON") from None
    if not isinstance(value, dict):
        raise UnreadableLetter("not a JSON object")
    return value
