"""The emulator's TransactWriteItems (local/emulator_transactions.py) keeps moto's and
DynamoDB's semantics while saving only what a transaction writes: checked through the
emulator `make run` and the tests use, and side by side with moto's own implementation."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local import emulator_transactions
from tests.support.emulator import AwsStack

LEDGER = "ledger-under-test"  # hash and range key, with a stream: the other shape of table


def _create_ledger(ddb: Any) -> None:
    ddb.create_table(
        TableName=LEDGER, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})


def _stream_records(ddb: Any, streams: Any, table: str) -> list[dict[str, Any]]:
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return [{"event": r["eventName"], "keys": r["dynamodb"]["Keys"], "new": r["dynamodb"].get("NewImage"),
             "old": r["dynamodb"].get("OldImage"), "sequence": r["dynamodb"]["SequenceNumber"]}
            for r in streams.get_records(ShardIterator=iterator)["Records"]]


def _items(ddb: Any, table: str) -> list[dict[str, Any]]:
    return sorted(ddb.scan(TableName=table)["Items"], key=repr)


def _put(table: str, pk: str, **extra: Any) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": pk}, **extra}}}


def _cancellation(error: ClientError) -> list[dict[str, Any]]:
    return error.response["CancellationReasons"]


def _seed(ddb: Any, transactions: str) -> None:
    ddb.put_item(TableName=transactions, Item={"pk": {"S": "kept"}, "n": {"N": "1"}})
    ddb.put_item(TableName=transactions, Item={"pk": {"S": "to-delete"}})
    ddb.put_item(TableName=transactions, Item={"pk": {"S": "present"}})
    ddb.put_item(TableName=LEDGER, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1"}})


def _mixed_transaction(transactions: str, guard: str) -> list[dict[str, Any]]:
    """Update, Put, Delete on both table shapes, then a condition on `guard`."""
    return [
        {"Update": {"TableName": transactions, "Key": {"pk": {"S": "kept"}},
                    "UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        _put(transactions, "new", body={"S": "x"}),
        {"Delete": {"TableName": transactions, "Key": {"pk": {"S": "to-delete"}}}},
        {"Update": {"TableName": LEDGER, "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                    "UpdateExpression": "SET n = :two", "ExpressionAttributeValues": {":two": {"N": "2"}}}},
        {"Put": {"TableName": LEDGER, "Item": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
        {"ConditionCheck": {"TableName": transactions, "Key": {"pk": {"S": guard}},
                            "ConditionExpression": "attribute_exists(pk)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
    ]


def _observe(ddb: Any, streams: Any, transactions: str, guard: str) -> dict[str, Any]:
    """Everything a transaction can leave behind, for one mixed transaction."""
    _create_ledger(ddb)
    _seed(ddb, transactions)
    before = {"items": (_items(ddb, transactions), _items(ddb, LEDGER)),
              "streams": (_stream_records(ddb, streams, transactions), _stream_records(ddb, streams, LEDGER))}
    try:
        ddb.transact_write_items(TransactItems=_mixed_transaction(transactions, guard))
        outcome: Any = "committed"
    except ClientError as error:
        outcome = (error.response["Error"]["Code"], _cancellation(error))
    after = {"items": (_items(ddb, transactions), _items(ddb, LEDGER)),
             "streams": (_stream_records(ddb, streams, transactions), _stream_records(ddb, streams, LEDGER))}
    return {"outcome": outcome, "before": before, "after": after}


# --- through the emulator (the patch as `make run` and the tests run it) -------------------

def test_a_cancelled_transaction_leaves_no_item_and_no_stream_record(aws: AwsStack) -> None:
    ddb, streams = aws.client("dynamodb"), aws.client("dynamodbstreams")
    seen = _observe(ddb, streams, aws.outputs["TransactionsTableName"], guard="absent")

    code, reasons = seen["outcome"]
    assert code == "TransactionCanceledException"
    assert [r["Code"] for r in reasons] == ["None"] * 5 + ["ConditionalCheckFailed"]
    assert seen["after"] == seen["before"]


def test_a_committed_transaction_applies_every_item_and_streams_each_write(aws: AwsStack) -> None:
    ddb, streams = aws.client("dynamodb"), aws.client("dynamodbstreams")
    transactions = aws.outputs["TransactionsTableName"]
    seen = _observe(ddb, streams, transactions, guard="present")

    assert seen["outcome"] == "committed"
    assert {item["pk"]["S"] for item in seen["after"]["items"][0]} == {"kept", "new", "present"}
    assert next(i for i in seen["after"]["items"][0] if i["pk"]["S"] == "kept")["n"] == {"N": "2"}
    assert [(i["sk"]["S"], i.get("n")) for i in seen["after"]["items"][1]] == [("1", {"N": "2"}), ("2", None)]
    new_records = [r["event"] for r in seen["after"]["streams"][0][len(seen["before"]["streams"][0]):]]
    assert new_records == ["MODIFY", "INSERT", "REMOVE"]


def test_an_open_stream_iterator_keeps_reading_after_a_cancelled_transaction(aws: AwsStack) -> None:
    ddb, streams = aws.client("dynamodb"), aws.client("dynamodbstreams")
    table = aws.outputs["TransactionsTableName"]
    arn = aws.outputs["TransactionsStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    ddb.put_item(TableName=table, Item={"pk": {"S": "taken"}})
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[
            _put(table, "other"),
            {"Put": {"TableName": table, "Item": {"pk": {"S": "taken"}}, "ConditionExpression": "attribute_not_exists(pk)"}}])
    ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})

    records = streams.get_records(ShardIterator=iterator)["Records"]

    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["taken", "after"]


def test_two_operations_on_one_item_are_refused_and_leave_no_trace(aws: AwsStack) -> None:
    ddb, streams = aws.client("dynamodb"), aws.client("dynamodbstreams")
    table = aws.outputs["TransactionsTableName"]
    records_before = _stream_records(ddb, streams, table)

    with pytest.raises(ClientError) as refused:
        ddb.transact_write_items(TransactItems=[_put(table, "first"), _put(table, "twice"), _put(table, "twice")])

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert _items(ddb, table) == []
    assert _stream_records(ddb, streams, table) == records_before


def _counter_increment(table: str, token: str, by: str = "1") -> dict[str, Any]:
    return {"ClientRequestToken": token, "TransactItems": [
        {"Update": {"TableName": table, "Key": {"pk": {"S": "counter"}}, "UpdateExpression": "ADD n :by SET body_z = :raw",
                    "ExpressionAttributeValues": {":by": {"N": by}, ":raw": {"B": b"\x00compressed"}}}}]}


def test_a_retried_client_request_token_succeeds_without_applying_twice(aws: AwsStack) -> None:
    ddb, streams = aws.client("dynamodb"), aws.client("dynamodbstreams")
    table = aws.outputs["TransactionsTableName"]
    request = _counter_increment(table, token=str(uuid.uuid4()))

    ddb.transact_write_items(**request)
    ddb.transact_write_items(**request)

    assert ddb.get_item(TableName=table, Key={"pk": {"S": "counter"}})["Item"]["n"] == {"N": "1"}
    assert [r["new"]["n"] for r in _stream_records(ddb, streams, table) if r["new"] and "n" in r["new"]] == [{"N": "1"}]


def test_another_request_under_a_used_token_is_an_idempotent_parameter_mismatch(aws: AwsStack) -> None:
    ddb = aws.client("dynamodb")
    table = aws.outputs["TransactionsTableName"]
    token = str(uuid.uuid4())
    ddb.transact_write_items(**_counter_increment(table, token))

    with pytest.raises(ClientError) as mismatch:
        ddb.transact_write_items(**_counter_increment(table, token, by="5"))

    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "counter"}})["Item"]["n"] == {"N": "1"}


def test_a_cancelled_transaction_can_be_retried_under_its_token(aws: AwsStack) -> None:
    ddb = aws.client("dynamodb")
    table = aws.outputs["TransactionsTableName"]
    request = {"ClientRequestToken": str(uuid.uuid4()), "TransactItems": [
        {"Put": {"TableName": table, "Item": {"pk": {"S": "child"}}}},
        {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "parent"}},
                            "ConditionExpression": "attribute_exists(pk)"}}]}
    with pytest.raises(ClientError):
        ddb.transact_write_items(**request)
    ddb.put_item(TableName=table, Item={"pk": {"S": "parent"}})

    ddb.transact_write_items(**request)

    assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "child"}})


# --- side by side with moto's own implementation, in this process ---------------------------

@pytest.fixture
def in_process_moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], tuple[Any, Any]]]:
    """`use(patched)`: fresh in-process moto with either transaction implementation."""
    from moto import mock_aws
    from moto.dynamodb.models import DynamoDBBackend

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    moto_own = DynamoDBBackend.transact_write_items
    mocks: list[Any] = []

    def use(patched: bool) -> tuple[Any, Any]:
        monkeypatch.setattr(DynamoDBBackend, "transact_write_items",
                            emulator_transactions.transact_write_items if patched else moto_own)
        if mocks:
            mocks.pop().stop()
        mocks.append(mock_aws())
        mocks[-1].start()
        session = boto3.session.Session(region_name="us-east-1")
        ddb = session.client("dynamodb")
        ddb.create_table(TableName="transactions", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        return ddb, session.client("dynamodbstreams")

    yield use
    for mock in mocks:
        mock.stop()


@pytest.mark.parametrize("guard", ["absent", "present"], ids=["cancelled", "committed"])
def test_the_patched_transaction_answers_and_leaves_exactly_what_motos_own_does(
        in_process_moto: Callable[[bool], tuple[Any, Any]], guard: str) -> None:
    moto_own = _observe(*in_process_moto(False), "transactions", guard)
    patched = _observe(*in_process_moto(True), "transactions", guard)

    assert patched == moto_own
