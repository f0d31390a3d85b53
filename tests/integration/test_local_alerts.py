"""`make run` sends payment alerts (docs/api.md section 9): a failed payment's webhook
becomes one `payment_failed` message on a queue subscribed to the local topic, and is
listed by GET /admin/alerts, through the whole local chain (stream, feed publisher, bus,
rule, alerts queue, send_payment_alerts)."""
from __future__ import annotations

import json
import sys
import time
import urllib.request

import pytest

from local.provision import client
from tests.support.local_stack import running_local_stack
from tests.support.signing import payment_intent, stripe_event, stripe_headers

def feed_publisher_registered() -> bool:
    import app

    return "publish_payment_changes" in app.app.handler_map


TOPIC = "arn:aws:sns:us-east-1:123456789012:payment-webhooks-local-payment-alerts"


def post(url: str, body: bytes) -> dict:
    request = urllib.request.Request(url, data=body, headers=stripe_headers(body), method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def subscribed_queue(emulator: str) -> tuple[object, str]:
    sqs = client("sqs", emulator)
    url = sqs.create_queue(QueueName="payments-team-alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("sns", emulator).subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=arn, Attributes={
        "RawMessageDelivery": "true", "FilterPolicy": json.dumps({"kind": ["payment_failed"]})})
    return sqs, url


def messages(sqs, url: str, wait_seconds: float, expect: int) -> list[dict]:
    found: list[dict] = []
    deadline = time.monotonic() + wait_seconds
    while len(found) < expect and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                           MessageAttributeNames=["All"]).get("Messages", []):
            found.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        time.sleep(0.2)
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="the supervisor's process handling is tested on Linux")
@pytest.mark.skipif(not feed_publisher_registered(), reason="needs the change feed publisher (docs/api.md section 7)")
def test_a_failed_payment_webhook_sends_one_payment_failed_alert_and_lists_it() -> None:
    with running_local_stack() as stack:
        sqs, queue = subscribed_queue(f"http://127.0.0.1:{stack.emulator_port}")
        now = int(time.time())
        failed = stripe_event("evt_alert_1", "payment_intent.payment_failed", now,
                              payment_intent("pi_alert", "requires_payment_method", created=now, merchant="acct_9"))
        for _ in range(2):  # the second is a duplicate: no second alert
            post(f"{stack.api}/webhooks/stripe", failed)
        [message] = messages(sqs, queue, wait_seconds=20, expect=1) or [None]
        assert message is not None, stack.log()
        body = json.loads(message["Body"])
        assert (body["kind"], body["key"], body["transaction"]["status"]) == (
            "payment_failed", "stripe/pi_alert", "failed")
        assert message["MessageAttributes"]["merchant_id"]["StringValue"] == "acct_9"
        deadline, listed = time.monotonic() + 5, []
        while not listed and time.monotonic() < deadline:  # marked sent just after the publish
            listed = get(f"{stack.api}/admin/alerts?limit=10")["items"]
            time.sleep(0.1)
        assert [(a["kind"], a["key"], a["transaction"]) for a in listed] == [
            ("payment_failed", "stripe/pi_alert", "stripe/pi_alert")]
        assert messages(sqs, queue, wait_seconds=2, expect=1) == []
    assert stack.runner.returncode == 0, stack.log()
