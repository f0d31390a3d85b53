"""`make run`'s event sources against the emulator: every stream consumer the app registers
gets every transaction change, with its own failures and retries only; an SQS handler gets
its queue's messages, deletes only what it handled, and what keeps failing is redriven."""
from __future__ import annotations

import json
import time
from collections.abc import Callable

from chalice import Chalice

from chalicelib.api import stream_consumers
from chalicelib.storage.transaction_stream import StreamBatch
from local.event_sources import Clients, Poller, pollers
from tests.support.signing import payment_intent, stripe_event, stripe_headers

JAN_1 = 1767261600  # 2026-01-01T10:00:00Z


def poll_until(found: list[Poller], done: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the event sources did not deliver in time"
        for poller in found:
            poller.poll_once()
        time.sleep(0.1)


def stream_app(stream_arn: str) -> Chalice:
    """Two consumers of the transactions stream, each its own handler, as in app.py."""
    app = Chalice(app_name="two-stream-consumers")

    @app.on_dynamodb_record(stream_arn=stream_arn, batch_size=100)
    def ledger_copy(event):
        return stream_consumers.deliver("ledger_copy", event.to_dict())

    @app.on_dynamodb_record(stream_arn=stream_arn, batch_size=100)
    def feed_publisher(event):
        return stream_consumers.deliver("feed_publisher", event.to_dict())

    return app


def test_two_stream_consumers_each_receive_every_change_and_retry_only_their_own_failures(
        aws, services, monkeypatch) -> None:
    seen: dict[str, list[str]] = {"ledger_copy": [], "feed_publisher": []}
    payments: set[str] = set()
    failed_once: list[str] = []

    def ledger_copy(batch: StreamBatch) -> list[str]:
        seen["ledger_copy"].extend(change.sequence for change in batch.changes)
        payments.update(change.after.ref for change in batch.changes if change.after is not None)
        return []

    def feed_publisher(batch: StreamBatch) -> list[str]:
        seen["feed_publisher"].extend(change.sequence for change in batch.changes)
        if not failed_once and len(batch.changes) > 1:
            failed_once.append(batch.changes[1].sequence)
            return failed_once
        return []

    monkeypatch.setitem(stream_consumers.CONSUMERS, "ledger_copy", ledger_copy)
    monkeypatch.setitem(stream_consumers.CONSUMERS, "feed_publisher", feed_publisher)
    for n in range(3):
        body = stripe_event(f"e{n}", "payment_intent.succeeded", JAN_1 + n, payment_intent(f"pi_{n}", "succeeded"))
        services.ingest_service().receive("stripe", body, stripe_headers(body))
    stream = aws.outputs["TransactionsStreamArn"]
    shard = aws.client("dynamodbstreams").describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]
    iterator = aws.client("dynamodbstreams").get_shard_iterator(
        StreamArn=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    every_change = [r["dynamodb"]["SequenceNumber"]
                    for r in aws.client("dynamodbstreams").get_records(ShardIterator=iterator)["Records"]]

    found = pollers(stream_app(stream), Clients(aws.client("dynamodbstreams"), aws.client("sqs")))
    poll_until(found, lambda: bool(failed_once) and seen["feed_publisher"].count(failed_once[0]) == 2
               and seen["feed_publisher"][-1] == every_change[-1])

    assert seen["ledger_copy"] == every_change  # each once, in stream order, untouched by the other's failure
    assert payments == {"stripe/pi_0", "stripe/pi_1", "stripe/pi_2"}  # typed changes: domain transactions
    retried_from = every_change.index(failed_once[0])
    assert seen["feed_publisher"] == every_change + every_change[retried_from:]


def queue_app(queue: str, got: list[str], raising: list[bool]) -> Chalice:
    app = Chalice(app_name="queue-consumer")

    @app.on_sqs_message(queue=queue, batch_size=5)
    def alerts(event):
        if raising and raising.pop():
            raise RuntimeError("function error")
        failures = []
        for record in event:
            got.append(record.body)
            if record.body == "poison":
                failures.append({"itemIdentifier": record.to_dict()["messageId"]})
        return {"batchItemFailures": failures}

    return app


def messages_in(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return sum(int(n) for n in attributes.values())


def test_an_sqs_handler_gets_each_message_once_and_one_that_keeps_failing_is_redriven(aws) -> None:
    sqs = aws.client("sqs")
    dead_letters = sqs.create_queue(QueueName="test-alerts-dlq")["QueueUrl"]
    dead_letters_arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName="test-alerts", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dead_letters_arn, "maxReceiveCount": "2"})})["QueueUrl"]
    for body in ("a", "poison", "b"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    got: list[str] = []
    (poller,) = pollers(queue_app("test-alerts", got, raising=[]), Clients(streams=None, sqs=sqs))

    def redriven() -> bool:
        return bool(sqs.receive_message(QueueUrl=dead_letters, VisibilityTimeout=0).get("Messages"))

    poll_until([poller], redriven)
    assert sorted(got) == ["a", "b", "poison", "poison"]  # the poison message: maxReceiveCount deliveries
    assert messages_in(sqs, url) == 0


def test_a_handler_that_raises_leaves_its_whole_batch_on_the_queue(aws) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="test-alerts")["QueueUrl"]
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    got: list[str] = []
    (poller,) = pollers(queue_app("test-alerts", got, raising=[True]), Clients(streams=None, sqs=sqs))
    assert poller.poll_once() == 0
    assert messages_in(sqs, url) == 2
    poll_until([poller], lambda: len(got) == 2)
    assert sorted(got) == ["a", "b"] and messages_in(sqs, url) == 0
