"""A downstream team's subscription to the change feed, as docs/change-feed.md describes
it: an EventBridge rule on the bus with a content filter, targeting the team's own SQS
queue; and reading the feed events back from that queue."""
from __future__ import annotations

import json
import time
from typing import Any

FEED_PATTERN: dict[str, Any] = {"source": ["payment-webhooks"]}


def subscribe_queue(events: Any, sqs: Any, bus: str, name: str,
                    pattern: dict[str, Any] | None = None) -> str:
    """Create queue `name` and a rule of the same name on `bus` delivering to it; answer
    the queue's URL."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern or FEED_PATTERN))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def receive_feed(sqs: Any, url: str, wait_seconds: float = 0.0, expect: int | None = None) -> list[dict[str, Any]]:
    """The feed events waiting in the queue (deleted as read), in the order received; with
    `expect`, keeps receiving until that many came or `wait_seconds` passed."""
    deadline = time.monotonic() + wait_seconds
    found: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if messages and (expect is None or len(found) < expect):
            continue
        if (expect is None or len(found) >= expect) or time.monotonic() >= deadline:
            return found
        time.sleep(0.05)
