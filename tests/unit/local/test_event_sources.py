"""The local stand-in for Lambda's event source mappings: every stream and queue handler a
Chalice app registers gets a poller of its own, and SQS messages reach a handler in
Lambda's shape. (Delivery against real queues and streams: tests/integration/local.)"""
from __future__ import annotations

import json
import threading

from chalice import Chalice, Rate

from local.event_sources import Clients, drive, pollers
from local.queue_poller import QueuePoller, lambda_record
from local.stream_poller import MemoryCheckpoints, StreamPoller

STREAM = "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"
QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:payment-webhooks-local-alerts"


def two_stream_consumers_and_a_queue() -> Chalice:
    app = Chalice(app_name="event-sources-test")

    @app.on_dynamodb_record(stream_arn=STREAM, batch_size=50)
    def first_consumer(event):
        return {"batchItemFailures": []}

    @app.on_dynamodb_record(stream_arn=STREAM)
    def second_consumer(event):
        return {"batchItemFailures": []}

    @app.on_sqs_message(queue="payment-webhooks-local-alerts", batch_size=3)
    def alerts(event):
        return None

    @app.on_sqs_message(queue_arn=QUEUE_ARN)
    def alerts_by_arn(event):
        return None

    @app.schedule(Rate(1, unit=Rate.HOURS))
    def hourly(event):
        return None

    return app


def test_every_stream_and_queue_handler_gets_its_own_poller_with_its_own_checkpoints() -> None:
    made: dict[str, MemoryCheckpoints] = {}

    def checkpoints(function: str, stream_arn: str) -> MemoryCheckpoints:
        assert stream_arn == STREAM
        return made.setdefault(function, MemoryCheckpoints())

    reports: list[str] = []
    found = pollers(two_stream_consumers_and_a_queue(), Clients(streams=None, sqs=None), checkpoints,
                    report=reports.append)
    assert [(type(p).__name__, p.function) for p in found] == [
        ("StreamPoller", "first_consumer"), ("StreamPoller", "second_consumer"),
        ("QueuePoller", "alerts"), ("QueuePoller", "alerts_by_arn")]
    assert set(made) == {"first_consumer", "second_consumer"}
    assert made["first_consumer"] is not made["second_consumer"]
    assert reports == []  # the schedule is the scheduler's, not an unsupported source


def test_the_pollers_call_the_functions_chalice_wraps_for_lambda() -> None:
    app = two_stream_consumers_and_a_queue()
    found = pollers(app, Clients(streams=None, sqs=None))
    assert [p.handler for p in found] == [app.handler_map[name] for name in (
        "first_consumer", "second_consumer", "alerts", "alerts_by_arn")]


def test_the_app_feeds_its_stream_consumers_from_the_transactions_stream() -> None:
    import app

    found = pollers(app.app, Clients(streams=None, sqs=None))
    streams = [p.function for p in found if isinstance(p, StreamPoller)]
    assert streams == ["update_daily_analytics", "publish_payment_changes"]


def test_the_app_feeds_its_payment_alerts_handler_from_the_alerts_queue() -> None:
    import app

    found = [p for p in pollers(app.app, Clients(streams=None, sqs=None)) if p.function == "send_payment_alerts"]
    assert [type(p) for p in found] == [QueuePoller]
    assert found[0]._queue_name == "payment-webhooks-local-payment-alerts-queue"


def test_a_message_is_delivered_as_lambda_delivers_it() -> None:
    message = {"MessageId": "m-1", "ReceiptHandle": "rh-1", "Body": '{"a": 1}', "MD5OfBody": "x",
               "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767261600000"},
               "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "alert"},
                                     "raw": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}}
    record = lambda_record(message, QUEUE_ARN)
    assert (record["messageId"], record["receiptHandle"], record["body"]) == ("m-1", "rh-1", '{"a": 1}')
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", QUEUE_ARN, "eu-west-1")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"] == {
        "dataType": "String", "stringValue": "alert", "stringListValues": [], "binaryListValues": []}
    assert record["messageAttributes"]["raw"]["binaryValue"] == "AP8="
    json.dumps(record)  # JSON all the way down, like Lambda's payload


def test_a_queue_batch_is_never_larger_than_sqs_allows() -> None:
    assert QueuePoller(None, "q", lambda e, c: None, batch_size=100)._batch_size == 10


class Flaky:
    """A poller whose first poll fails (the emulator restarting, say)."""

    function = "flaky"

    def __init__(self, stop: threading.Event) -> None:
        self.polls, self.stop = 0, stop

    def poll_once(self) -> int:
        self.polls += 1
        if self.polls == 1:
            raise ConnectionError("emulator away")
        if self.polls == 3:
            self.stop.set()
        return 1


def test_a_failed_poll_is_reported_and_polling_goes_on_until_stopped() -> None:
    stop = threading.Event()
    poller, reports = Flaky(stop), []
    drive(poller, stop, reports.append, interval=0, idle_interval=0)
    assert poller.polls == 3
    assert reports == ["flaky: poll failed: ConnectionError: emulator away"]
