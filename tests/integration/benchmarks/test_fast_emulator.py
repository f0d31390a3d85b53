"""The benchmarks' cheap-reads emulator (benchmarks/support/fast_emulator.py) answers every
index Query with the items and attributes the project's emulator answers: the same
writes (puts, updates that move an item to another index key, deletes, cancelled and
committed transactions) are sent to both, and every key of every index is read back from
each, page by page."""
from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from benchmarks.support.emulator import CHEAP_READS, PLAIN
from local.emulator_process import EmulatorProcess

TABLE = "payments-under-test"
OWNERS = [f"owner-{n}" for n in range(6)]
KINDS = ["card", "wallet", "bank"]
INDEXES = {"by-owner": "owner", "by-kind": "kind"}  # ALL, and KEYS_ONLY


def _client(service: str, endpoint_url: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"mode": "standard", "total_max_attempts": 1}))


@pytest.fixture(scope="module")
def emulators() -> Iterator[list[str]]:
    """The project's emulator and the cheap-reads one: their endpoints, in that order."""
    processes = [EmulatorProcess(start_timeout=60.0, module=module) for module in (PLAIN, CHEAP_READS)]
    try:
        yield [process.endpoint_url for process in processes]
    finally:
        for process in processes:
            process.stop()


def _create(ddb: Any) -> None:
    ddb.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "owner", "kind", "at")],
        GlobalSecondaryIndexes=[
            {"IndexName": "by-owner", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"},
                                                    {"AttributeName": "at", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "by-kind", "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})


def _writes(rng: random.Random, count: int) -> Iterator[dict[str, Any]]:
    """Calls to replay on each emulator: (operation, parameters)."""
    for n in range(count):
        pk = {"S": f"pay-{rng.randrange(40)}"}
        choice = rng.random()
        if choice < 0.4:
            item = {"pk": pk, "kind": {"S": rng.choice(KINDS)}, "amount": {"N": str(n)}, "at": {"S": f"{n:05d}"}}
            if rng.random() < 0.8:
                item["owner"] = {"S": rng.choice(OWNERS)}
            yield {"op": "put_item", "TableName": TABLE, "Item": item}
        elif choice < 0.7:
            yield {"op": "update_item", "TableName": TABLE, "Key": {"pk": pk},
                   "UpdateExpression": "SET #owner = :owner, #at = :at",
                   "ExpressionAttributeNames": {"#owner": "owner", "#at": "at"},
                   "ExpressionAttributeValues": {":owner": {"S": rng.choice(OWNERS)}, ":at": {"S": f"{n:05d}"}}}
        elif choice < 0.8:
            yield {"op": "delete_item", "TableName": TABLE, "Key": {"pk": pk}}
        else:
            moved = {"Update": {"TableName": TABLE, "Key": {"pk": pk}, "UpdateExpression": "SET #owner = :owner",
                                "ExpressionAttributeNames": {"#owner": "owner"},
                                "ExpressionAttributeValues": {":owner": {"S": rng.choice(OWNERS)}}}}
            guard = {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": f"pay-{rng.randrange(40)}"}},
                                        "ConditionExpression": "attribute_exists(pk)"}}
            yield {"op": "transact_write_items", "TransactItems": [moved, guard]}


def _send(ddb: Any, call: dict[str, Any]) -> str:
    parameters = {key: value for key, value in call.items() if key != "op"}
    try:
        getattr(ddb, call["op"])(**parameters)
        return "ok"
    except ClientError as error:
        return error.response["Error"]["Code"]


def _read_back(ddb: Any) -> dict[tuple[str, str], list[list[dict[str, Any]]]]:
    """Every page of every key of both indexes, pages of 3 items."""
    answers = {}
    for index, attribute in INDEXES.items():
        for value in (OWNERS if attribute == "owner" else KINDS) + ["nobody"]:
            pages, start = [], None
            while True:
                page = ddb.query(TableName=TABLE, IndexName=index, Limit=3,
                                 KeyConditionExpression="#key = :value",
                                 ExpressionAttributeNames={"#key": attribute},
                                 ExpressionAttributeValues={":value": {"S": value}},
                                 **({"ExclusiveStartKey": start} if start else {}))
                pages.append(page["Items"])
                start = page.get("LastEvaluatedKey")
                if not start:
                    break
            answers[(index, value)] = pages
    return answers


def test_every_index_query_answers_as_the_project_emulator_does_while_items_move_between_keys(
        emulators: list[str]) -> None:
    plain, cheap = (_client("dynamodb", endpoint_url) for endpoint_url in emulators)
    for ddb in (plain, cheap):
        _create(ddb)
    rng = random.Random(17)
    outcomes = []
    for number, call in enumerate(_writes(rng, 400)):
        outcomes.append((_send(plain, call), _send(cheap, call)))
        if number % 50 == 49:
            assert _read_back(cheap) == _read_back(plain), f"after write {number + 1}"

    assert all(mine == theirs for mine, theirs in outcomes)
    assert {"ok", "TransactionCanceledException"} <= {outcome for outcome, _ in outcomes}
    assert any(len(pages) > 1 for pages in _read_back(plain).values())  # paging was exercised


def _queue_behaviour(sqs: Any) -> dict[str, Any]:
    """What sends to each kind of queue leave: the standard queue's counts, the FIFO queues'
    deduplication and their refusal of a message without a group."""
    seen: dict[str, Any] = {}
    standard = sqs.create_queue(QueueName="standard-under-test")["QueueUrl"]
    for n in range(5):
        sqs.send_message(QueueUrl=standard, MessageBody=f"m{n}", DelaySeconds=60 if n == 4 else 0)
    sqs.receive_message(QueueUrl=standard, MaxNumberOfMessages=2)
    counts = sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=["All"])["Attributes"]
    seen["standard"] = {k: v for k, v in counts.items() if k.startswith("ApproximateNumber")}
    for dedupe in ("true", "false"):
        fifo = sqs.create_queue(QueueName=f"fifo-{dedupe}.fifo", Attributes={
            "FifoQueue": "true", "ContentBasedDeduplication": dedupe})["QueueUrl"]
        try:
            sqs.send_message(QueueUrl=fifo, MessageBody="no group")
            seen[f"{dedupe} without group"] = "sent"
        except ClientError as error:
            seen[f"{dedupe} without group"] = error.response["Error"]["Code"]
        for _ in range(2):
            try:
                sqs.send_message(QueueUrl=fifo, MessageBody="same body", MessageGroupId="g")
            except ClientError as error:
                seen[f"{dedupe} same body"] = error.response["Error"]["Code"]
        seen[f"{dedupe} waiting"] = sqs.get_queue_attributes(
            QueueUrl=fifo, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return seen


def test_sends_deduplicate_refuse_and_count_as_the_project_emulator_does(emulators: list[str]) -> None:
    plain, cheap = (_queue_behaviour(_client("sqs", endpoint_url)) for endpoint_url in emulators)

    assert cheap == plain
    assert plain["standard"] == {"ApproximateNumberOfMessages": "2", "ApproximateNumberOfMessagesNotVisible": "2",
                                 "ApproximateNumberOfMessagesDelayed": "1"}
    assert plain["true waiting"] == {"ApproximateNumberOfMessages": "1"}
