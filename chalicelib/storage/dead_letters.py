"""The stage's dead-letter queues (SQS): depths, reading letters, deleting or moving them.

A letter is received with a visibility timeout that outlasts the request handling it, so
a redrive never sees the same letter twice; one that failed again is made visible again
at the end (`release`), never deleted: a letter leaves its queue only once redriven. The
open incident of a queue (the `dead_letter` alert's key) is kept as a tag on the queue
itself, so the watch needs no table of its own."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.storage.errors import storage_errors

INCIDENT_TAG = "dead-letter-incident"
MAX_PER_RECEIVE = 10  # SQS's own limit


@dataclass(frozen=True)
class Letter:
    message_id: str
    receipt: str
    body: str
    attributes: dict[str, Any]  # message attributes, as SendMessage takes them


class DeadLetterQueues:
    def __init__(self, client: Any) -> None:
        self._client = client
        self._urls: dict[str, str] = {}

    def depth(self, queue: str) -> int:
        """Every letter in the queue, also those a redrive is holding right now."""
        with storage_errors():
            attributes = self._client.get_queue_attributes(
                QueueUrl=self._url(queue),
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def receive(self, queue: str, hold_seconds: int, limit: int = MAX_PER_RECEIVE) -> list[Letter]:
        with storage_errors():
            messages = self._client.receive_message(
                QueueUrl=self._url(queue), MaxNumberOfMessages=max(1, min(limit, MAX_PER_RECEIVE)),
                VisibilityTimeout=hold_seconds, WaitTimeSeconds=0, MessageAttributeNames=["All"],
            ).get("Messages", [])
        return [Letter(m["MessageId"], m["ReceiptHandle"], m["Body"], _sendable(m.get("MessageAttributes", {})))
                for m in messages]

    def delete(self, queue: str, letter: Letter) -> None:
        with storage_errors():
            self._client.delete_message(QueueUrl=self._url(queue), ReceiptHandle=letter.receipt)

    def release(self, queue: str, letter: Letter) -> None:
        """Visible again at once, for the next redrive."""
        with storage_errors():
            self._client.change_message_visibility(
                QueueUrl=self._url(queue), ReceiptHandle=letter.receipt, VisibilityTimeout=0)

    def send(self, queue: str, letter: Letter) -> None:
        """The letter's body and attributes onto `queue` (moving it back to its source)."""
        request: dict[str, Any] = {"QueueUrl": self._url(queue), "MessageBody": letter.body}
        if letter.attributes:
            request["MessageAttributes"] = letter.attributes
        with storage_errors():
            self._client.send_message(**request)

    def incident(self, queue: str) -> str | None:
        """When the queue's open incident opened, if one is open."""
        with storage_errors():
            tags = self._client.list_queue_tags(QueueUrl=self._url(queue)).get("Tags", {})
        return tags.get(INCIDENT_TAG)

    def open_incident(self, queue: str, opened_at: str) -> None:
        with storage_errors():
            self._client.tag_queue(QueueUrl=self._url(queue), Tags={INCIDENT_TAG: opened_at})

    def close_incident(self, queue: str) -> None:
        with storage_errors():
            self._client.untag_queue(QueueUrl=self._url(queue), TagKeys=[INCIDENT_TAG])

    def _url(self, queue: str) -> str:
        if queue not in self._urls:
            with storage_errors():
                self._urls[queue] = self._client.get_queue_url(QueueName=queue)["QueueUrl"]
        return self._urls[queue]


def _sendable(attributes: dict[str, Any]) -> dict[str, Any]:
    """ReceiveMessage answers list fields SendMessage refuses when empty."""
    return {name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
            for name, value in attributes.items()}
