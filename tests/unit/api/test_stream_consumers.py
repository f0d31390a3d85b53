"""Consumers of transaction changes: registered by the name of their Lambda function, each
given the batch read once, each answering Lambda with its own failures only."""
from __future__ import annotations

import pytest

from chalicelib.api import stream_consumers
from chalicelib.api.stream_consumers import consumer, deliver, stream_response
from chalicelib.storage.transaction_stream import StreamBatch

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"


def removal(seq: str) -> dict:
    return {"eventID": seq, "eventName": "REMOVE", "eventSourceARN": ARN,
            "dynamodb": {"SequenceNumber": seq, "Keys": {"pk": {"S": "stripe#pi_1"}}}}


def unreadable(seq: str) -> dict:
    return {"eventID": seq, "eventName": "UPSERT", "eventSourceARN": ARN, "dynamodb": {"SequenceNumber": seq}}


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setattr(stream_consumers, "CONSUMERS", {})
    return stream_consumers.CONSUMERS


def test_a_consumer_gets_the_read_batch_and_lambda_gets_its_failures_and_the_unreadable(registry) -> None:
    given: list[StreamBatch] = []

    @consumer("feed_publisher")
    def publish(batch: StreamBatch) -> list[str]:
        given.append(batch)
        return ["1000"]

    event = {"Records": [removal("1000"), unreadable("999"), removal("7")], "shardId": "shard-1", "window": {}}
    assert deliver("feed_publisher", event) == {
        "batchItemFailures": [{"itemIdentifier": "999"}, {"itemIdentifier": "1000"}], "state": {}}
    (batch,) = given
    assert batch.lane == "shard-1" and [c.sequence for c in batch.changes] == ["7", "1000"]


def test_each_consumer_answers_only_for_itself(registry) -> None:
    consumer("analytics")(lambda batch: ["7"])
    consumer("feed_publisher")(lambda batch: [])
    event = {"Records": [removal("7"), removal("8")]}
    assert deliver("analytics", event) == {"batchItemFailures": [{"itemIdentifier": "7"}]}
    assert deliver("feed_publisher", event) == {"batchItemFailures": []}


def test_a_name_is_registered_once(registry) -> None:
    consumer("analytics")(lambda batch: [])
    with pytest.raises(ValueError):
        consumer("analytics")(lambda batch: [])


def test_every_registered_consumer_is_a_stream_handler_of_the_app_and_analytics_is_one() -> None:
    from chalice.app import DynamoDBEventConfig

    import app

    handlers = {s.name for s in app.app.event_sources if isinstance(s, DynamoDBEventConfig)}
    assert set(stream_consumers.CONSUMERS) == handlers
    assert "update_daily_analytics" in handlers


def test_the_stream_response_lists_failures_and_carries_state_only_in_window_events() -> None:
    assert stream_response(["12", "15"], windowed=False) == {
        "batchItemFailures": [{"itemIdentifier": "12"}, {"itemIdentifier": "15"}]}
    assert stream_response([], windowed=True) == {"batchItemFailures": [], "state": {}}
