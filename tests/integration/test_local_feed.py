"""`make run` publishes the change feed (docs/api.md section 7): a downstream team's own
rule and queue on the local bus receive each business change within 10 seconds."""
from __future__ import annotations

import json
import sys
import time
import urllib.request

import pytest

from local.provision import client
from tests.support.feed import receive_feed, subscribe_queue
from tests.support.local_stack import running_local_stack
from tests.support.signing import payment_intent, stripe_event, stripe_headers

BUS = "payment-webhooks-local"


def post(url: str, body: bytes) -> dict:
    request = urllib.request.Request(url, data=body, headers=stripe_headers(body), method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.skipif(sys.platform != "linux", reason="the supervisor's process handling is tested on Linux")
def test_a_consumers_queue_on_the_local_bus_receives_each_business_change_within_ten_seconds() -> None:
    with running_local_stack() as stack:
        emulator = f"http://127.0.0.1:{stack.emulator_port}"
        sqs = client("sqs", emulator)
        queue = subscribe_queue(client("events", emulator), sqs, BUS, "shipping-team", {
            "source": ["payment-webhooks"], "detail": {"transaction": {"provider": ["stripe"]}}})
        now = int(time.time())
        succeeded = stripe_event("evt_feed_1", "payment_intent.succeeded", now,
                                 payment_intent("pi_feed", "succeeded", created=now))
        refunded = stripe_event("evt_feed_2", "charge.refunded", now + 1, {
            "id": "ch_feed", "object": "charge", "amount": 2000, "amount_refunded": 2000, "currency": "usd",
            "payment_intent": "pi_feed", "created": now, "payment_method_details": {"type": "card"}})
        posted = time.monotonic()
        for body in (succeeded, refunded, succeeded):  # the last is a duplicate: nothing new
            post(f"{stack.api}/webhooks/stripe", body)
        # the full refund within the hour raises the risk level to review: the third change
        events = receive_feed(sqs, queue, wait_seconds=10, expect=3)
        assert time.monotonic() - posted < 10, stack.log()
        assert [(e["detail-type"], e["detail"]["transaction"]["status"]) for e in events] == [
            ("payment.succeeded", "succeeded"), ("payment.refunded", "refunded"),
            ("payment.updated", "refunded")], stack.log()
        first, second, assessed = (e["detail"] for e in events)
        assert first["version"] < second["version"] < assessed["version"]
        assert second["previous"] == {"status": "succeeded", "amount_refunded": 0}
        assert second["cause"] == {"event_id": "evt_feed_2", "type": "charge.refunded"}
        assert assessed["cause"] is None and assessed["transaction"]["risk"]["level"] == "review"
        assert [r["rule"] for r in assessed["transaction"]["risk"]["reasons"]] == ["rapid_refund"]
        assert receive_feed(sqs, queue, wait_seconds=1.5, expect=1) == []  # the duplicate
    assert stack.runner.returncode == 0, stack.log()
