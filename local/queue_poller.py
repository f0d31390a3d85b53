"""The local stand-in for one Lambda SQS event source mapping (never deployed).

Receives from a queue of the emulator (by name) and hands each batch to one handler the
deployed Lambda runs (local/event_sources.py makes one poller per `@app.on_sqs_message`
handler), as the event Lambda would send (`Records` of `messageId`, `receiptHandle`, `body`,
`attributes`, `messageAttributes`, ...). Like Lambda with ReportBatchItemFailures it deletes
a message only once the handler succeeded with it: every message of a batch whose handler
raised, and each one the handler names in `batchItemFailures`, is offered again (after a
short delay, set through its visibility timeout). A queue with a redrive policy moves a
message received `maxReceiveCount` times to its dead-letter queue itself (the emulator does
this as SQS does); on a queue without one the poller gives up after `max_receives` with a
report and drops the message (a deployed queue would keep offering it until its retention
period ends: give a consumer's queue a redrive policy).
"""
from __future__ import annotations

import base64
import math
from typing import Any

from local.invocation import (
    FakeLambdaContext, Handler, Report, failed_identifiers, redelivery_delay, report_to_stderr,
)

MAX_MESSAGES_PER_RECEIVE = 10  # SQS's own limit
DEFAULT_MAX_RECEIVES = 5


def lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """A ReceiveMessage message as Lambda delivers it."""
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"], "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {name: _attribute(value) for name, value in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn, "awsRegion": queue_arn.split(":")[3],
    }


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """Lambda spells message attributes in camelCase and carries binary values as base64."""
    binary = value.get("BinaryValue")
    shaped: dict[str, Any] = {"dataType": value.get("DataType", "String"), "stringListValues": [],
                              "binaryListValues": []}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if binary is not None:
        shaped["binaryValue"] = base64.b64encode(binary).decode("ascii")
    return shaped


class QueuePoller:
    """Feeds one queue to one handler (`function`, the name it is reported under)."""

    def __init__(
        self, sqs: Any, queue_name: str, handler: Handler, function: str = "queue-consumer",
        batch_size: int = 10, max_receives: int = DEFAULT_MAX_RECEIVES, report: Report = report_to_stderr,
    ) -> None:
        self.function = function
        self.handler = handler
        self._sqs = sqs
        self._queue_name = queue_name
        self._batch_size = max(1, min(batch_size, MAX_MESSAGES_PER_RECEIVE))
        self._max_receives = max_receives
        self._report = report
        self._queue: tuple[str, str, bool] | None = None

    def poll_once(self) -> int:
        """Hand one received batch to the handler; answer how many messages it handled."""
        url, arn, redrives = self._resolve()
        messages = self._sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=self._batch_size, WaitTimeSeconds=0,
            AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return 0
        ids = [m["MessageId"] for m in messages]
        try:
            response = self.handler({"Records": [lambda_record(m, arn) for m in messages]},
                                     FakeLambdaContext(self.function))
            failed = failed_identifiers(response) & set(ids)
        except Exception as exc:  # noqa: BLE001 - a function error: the whole batch comes back
            self._report(f"{self.function}: handler raised {type(exc).__name__}: {exc}")
            failed = set(ids)
        done = [m for m in messages if m["MessageId"] not in failed]
        self._delete(url, done)
        for message in (m for m in messages if m["MessageId"] in failed):
            self._retry_or_give_up(url, message, redrives)
        return len(done)

    def _resolve(self) -> tuple[str, str, bool]:
        """The queue's URL, its ARN and whether it has a redrive policy, once it exists."""
        if self._queue is None:
            url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn", "RedrivePolicy"])["Attributes"]
            self._queue = (url, attributes["QueueArn"], bool(attributes.get("RedrivePolicy")))
        return self._queue

    def _delete(self, url: str, messages: list[dict[str, Any]]) -> None:
        if messages:  # at most one receive's worth, which is what one DeleteMessageBatch takes
            self._sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)])

    def _retry_or_give_up(self, url: str, message: dict[str, Any], redrives: bool) -> None:
        receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        if redrives or receives < self._max_receives:
            self._sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                                VisibilityTimeout=math.ceil(redelivery_delay(receives)))
            return
        self._delete(url, [message])
        self._report(f"{self.function}: message {message['MessageId']} failed {receives} times; dropped "
                     "(its queue has no redrive policy to move it to a dead-letter queue)")
