"""The transactions stream read directly (dynamodbstreams API) into the records Lambda
delivers to a consumer, and a range of them re-read for a redrive.

Lambda's shape differs from GetRecords' in three ways this module makes up for:
`eventSourceARN` is added, `ApproximateCreationDateTime` is epoch seconds, binary values are
base64 text; and a mapping with a tumbling window wraps the records in an envelope naming
the shard, which is how the deployed consumers learn their lane. The local event sources
(local/stream_poller.py) and the dead-letter redrive both build events here, so what they
hand a consumer is what Lambda hands it."""
from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from chalicelib.storage.errors import is_code, storage_errors

WINDOW_SECONDS = 900
MAX_RECORDS_PER_READ = 1000  # GetRecords' own limit


class RecordsTrimmed(Exception):
    """The stream no longer holds the records asked for (older than its 24 hours)."""


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


class StreamRecords:
    """Re-reads a range of one shard of a stream (what an on-failure record names)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def read_range(self, stream_arn: str, shard_id: str, first: str, last: str,
                   max_reads: int = 20) -> list[dict[str, Any]]:
        """The records from sequence number `first` to `last`, as GetRecords returns them.
        `RecordsTrimmed` when the stream no longer starts at or before `first`."""
        try:
            with storage_errors():
                try:
                    iterator = self._client.get_shard_iterator(
                        StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER",
                        SequenceNumber=first)["ShardIterator"]
                except Exception as exc:  # noqa: BLE001 - sorted below
                    if _trimmed(exc):
                        raise RecordsTrimmed(f"{shard_id} no longer holds {first}") from None
                    raise
                records: list[dict[str, Any]] = []
                for _ in range(max_reads):
                    try:  # an iterator at a trimmed position is refused only when it is read
                        response = self._client.get_records(ShardIterator=iterator, Limit=MAX_RECORDS_PER_READ)
                    except Exception as exc:  # noqa: BLE001 - sorted below
                        if _trimmed(exc):
                            raise RecordsTrimmed(f"{shard_id} no longer holds {first}") from None
                        raise
                    for record in response["Records"]:
                        sequence = int(record["dynamodb"]["SequenceNumber"])
                        if sequence > int(last):
                            return records
                        if sequence >= int(first):
                            records.append(record)
                    iterator = response.get("NextShardIterator")
                    if not iterator or not response["Records"] or (
                            records and int(records[-1]["dynamodb"]["SequenceNumber"]) >= int(last)):
                        break
        except RecordsTrimmed:
            raise
        if not records or records[0]["dynamodb"]["SequenceNumber"] != first:
            raise RecordsTrimmed(f"{shard_id} no longer holds {first}")
        return records


def _trimmed(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(exc, ClientError) and is_code(
        exc, "TrimmedDataAccessException", "ResourceNotFoundException", "ValidationException")


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
