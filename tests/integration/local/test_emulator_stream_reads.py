"""GetRecords in the emulator answers its JSON directly (local/emulator_stream_reads.py), and
the answer is moto's own: the same records through the same iterator, read through moto's
serializer and through the patch, give the same body, headers and parsed records."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

from local import emulator_stream_reads

PLAIN = {"n": {"N": "1.50"}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "empty": {"S": ""},
         "m": {"M": {"x": {"NULL": True}, "y": {"BOOL": False}, "l": {"L": [{"S": "é"}, {"N": "-3"}]}}}}
BINARY = {"b": {"B": b"\x00\x01"}, "bs": {"BS": [b"x", b"\xff"]}}


@pytest.fixture
def streams(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, str]]:
    """In-process moto, a table with a NEW_AND_OLD_IMAGES stream: (dynamodb, streams, stream ARN)."""
    from moto import mock_aws

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        ddb, reader = session.client("dynamodb"), session.client("dynamodbstreams")
        ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST",
                         StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        yield ddb, reader, ddb.describe_table(TableName="t")["Table"]["LatestStreamArn"]


def _iterator(reader: Any, arn: str) -> str:
    shard = reader.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return reader.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]


def _read(reader: Any, iterator: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """GetRecords once: (raw JSON body, response headers, boto3's parsed records), without the
    parts that differ on every call (the next iterator's ARN, the request id and date)."""
    raw: list[Any] = []

    def keep(http_response: Any, **_: Any) -> None:
        raw.append(http_response)

    reader.meta.events.register("after-call.dynamodbstreams.GetRecords", keep)
    try:
        parsed = reader.get_records(ShardIterator=iterator)
    finally:
        reader.meta.events.unregister("after-call.dynamodbstreams.GetRecords", keep)
    body = json.loads(raw[0].content)
    assert body.pop("NextShardIterator")
    headers = {k.lower(): v for k, v in raw[0].headers.items() if k.lower() not in ("x-amzn-requestid", "date")}
    return body, headers, parsed["Records"]


def _both_ways(reader: Any, arn: str, monkeypatch: pytest.MonkeyPatch, serializer: bool = False) -> tuple[Any, Any]:
    """The same read through moto's serializer, then through the patch (which, unless
    `serializer`, must not fall back to it)."""
    iterator = _iterator(reader, arn)
    moto_own = _read(reader, iterator)
    monkeypatch.setattr(DynamoDBStreamsHandler, "get_records", emulator_stream_reads.get_records)
    if not serializer:
        monkeypatch.setattr(DynamoDBStreamsHandler, "serialized", _not_called)
    return moto_own, _read(reader, iterator)


def _not_called(*_: Any) -> None:
    raise AssertionError("the answer went through moto's serializer")


def test_inserts_modifications_and_removals_read_exactly_as_through_motos_serializer(
        streams: tuple[Any, Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    ddb, reader, arn = streams
    for i in range(3):
        ddb.put_item(TableName="t", Item={"pk": {"S": f"k{i}"}, **PLAIN})
    ddb.update_item(TableName="t", Key={"pk": {"S": "k0"}}, UpdateExpression="SET n = :n REMOVE m",
                    ExpressionAttributeValues={":n": {"N": "2"}})
    ddb.delete_item(TableName="t", Key={"pk": {"S": "k1"}})

    moto_own, patched = _both_ways(reader, arn, monkeypatch)

    assert patched == moto_own
    assert [r["eventName"] for r in patched[0]["Records"]] == ["INSERT"] * 3 + ["MODIFY", "REMOVE"]


def test_an_empty_read_answers_as_moto_does(streams: tuple[Any, Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    _, reader, arn = streams

    moto_own, patched = _both_ways(reader, arn, monkeypatch)

    assert patched == moto_own
    assert patched[2] == []


def test_binary_values_are_left_to_motos_serializer(streams: tuple[Any, Any, str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ddb, reader, arn = streams
    ddb.put_item(TableName="t", Item={"pk": {"S": "k"}, **PLAIN, **BINARY})

    moto_own, patched = _both_ways(reader, arn, monkeypatch, serializer=True)

    assert patched == moto_own
    assert patched[2][0]["dynamodb"]["NewImage"]["bs"] == {"BS": [b"x", b"\xff"]}
