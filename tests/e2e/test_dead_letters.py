"""Dead letters end to end (docs/api.md section 11): records reach a dead-letter queue
through a real failure of their consumer, and the redrive route puts them through again,
once. The stream consumer runs under the same local mapping `make run` uses, which sends
Lambda's on-failure record to the stream-failures queue when it gives up on a record."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import wiring
from local.event_sources import on_failure_destination
from tests.support.feed import receive_feed, subscribe_queue
from tests.support.signing import payment_intent, stripe_event, stripe_headers
from tests.support.streams import consumer_poller

JAN_1 = 1767261600  # 2026-01-01T10:00:00Z
ANALYTICS = "update_daily_analytics"


@contextmanager
def failing(operation: str, service: str = "dynamodb") -> Iterator[list[int]]:
    """Every `operation` of the app's shared client is refused while inside (as a
    revoked grant would be: not retried by botocore, so the test does not wait out its
    backoff)."""
    from botocore.awsrequest import AWSResponse

    client = wiring.aws_client(service)
    calls: list[int] = []

    def fail(**_kwargs):
        calls.append(1)
        return (AWSResponse("https://injected.invalid", 400, {}, None),
                {"Error": {"Code": "AccessDeniedException", "Message": "injected failure"},
                 "ResponseMetadata": {"HTTPStatusCode": 400}})

    event = f"before-call.{client.meta.service_model.endpoint_prefix}.{operation}"
    client.meta.events.register(event, fail, unique_id="injected-outage")
    try:
        yield calls
    finally:
        client.meta.events.unregister(event, unique_id="injected-outage")


def post_payment(client, event_id: str, intent: str, at: int = JAN_1) -> None:
    body = stripe_event(event_id, "payment_intent.succeeded", at, payment_intent(intent, "succeeded"))
    response = client.http.post("/webhooks/stripe", headers=stripe_headers(body), body=body)
    assert response.status_code == 200, response.body


def depths(client) -> dict[str, int]:
    response = client.http.get("/admin/dead-letters")
    assert response.status_code == 200, response.body
    return {q["name"]: q["depth"] for q in response.json_body["queues"]}


def redrive(client, name: str) -> dict:
    response = client.http.post(f"/admin/dead-letters/{name}/redrive")
    assert response.status_code == 200, response.body
    return response.json_body


def day_count(client) -> int:
    days = client.http.get("/analytics/daily?from=2026-01-01&to=2026-01-01&provider=stripe").json_body["days"]
    return sum(day["count"] for day in days)


def analytics_poller(aws):
    """Gives up after two attempts; its clock jumps a minute a call, so a retry is never
    held back by the redelivery delay."""
    ticks = iter(range(0, 10**9, 60))
    return consumer_poller(aws, ANALYTICS, max_attempts=2, on_failure=on_failure_destination(
        aws.client("sqs"), ANALYTICS, aws.outputs["TransactionsStreamArn"]), clock=lambda: float(next(ticks)))


def test_every_dead_letter_queue_is_listed_with_its_depth(client) -> None:
    assert depths(client) == {"stream-failures": 0, "schedule": 0, "payment-alerts": 0, "risk-assessments": 0}


def test_an_unknown_dead_letter_queue_is_404(client) -> None:
    response = client.http.post("/admin/dead-letters/nothing-here/redrive")
    assert response.status_code == 404
    assert response.json_body["error"] == "not_found"


def test_a_stream_batch_the_consumer_gave_up_on_is_redriven_once(aws, client) -> None:
    post_payment(client, "evt_dl_1", "pi_dl_1")
    poller = analytics_poller(aws)
    with failing("UpdateItem") as calls:  # the analytics table is down: every attempt fails
        for _ in range(20):
            if depths(client)["stream-failures"]:
                break
            poller.poll_once()
    assert calls and day_count(client) == 0
    assert depths(client)["stream-failures"] >= 1

    first = redrive(client, "stream-failures")
    assert first == {"redriven": first["redriven"], "failed": 0, "complete": True} and first["redriven"] >= 1
    assert day_count(client) == 1
    assert depths(client)["stream-failures"] == 0
    assert redrive(client, "stream-failures") == {"redriven": 0, "failed": 0, "complete": True}
    assert day_count(client) == 1


def test_a_stream_failure_that_fails_again_stays_in_its_queue_counted_failed(aws, client) -> None:
    post_payment(client, "evt_dl_2", "pi_dl_2")
    poller = analytics_poller(aws)
    with failing("UpdateItem"):
        for _ in range(20):
            if depths(client)["stream-failures"]:
                break
            poller.poll_once()
        waiting = depths(client)["stream-failures"]
        assert redrive(client, "stream-failures") == {"redriven": 0, "failed": waiting, "complete": True}
    assert depths(client)["stream-failures"] == waiting
    assert redrive(client, "stream-failures")["redriven"] == waiting
    assert day_count(client) == 1


def run_watch(client) -> dict[str, dict]:
    """The scheduled handler, as Lambda (and local/scheduler.py) invokes it."""
    event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    report = client.lambda_.invoke("watch_dead_letters", event).payload
    return {q["name"]: q for q in report["queues"]}


def dead_letter_alerts(aws) -> list[str]:
    items = aws.client("dynamodb").scan(TableName=aws.env["ALERTS_TABLE"])["Items"]
    return sorted(item["key"]["S"] for item in items if item["kind"]["S"] == "dead_letter")


def fill_stream_failures(aws, client, event_id: str) -> None:
    post_payment(client, event_id, f"pi_{event_id}")
    poller = analytics_poller(aws)
    with failing("UpdateItem"):
        for _ in range(20):
            if depths(client)["stream-failures"]:
                return
            poller.poll_once()
    raise AssertionError("the failing consumer never gave up")


def test_a_dead_letter_incident_is_alerted_once_and_a_new_one_after_the_queue_drained(aws, client) -> None:
    assert run_watch(client)["stream-failures"] == {"name": "stream-failures", "depth": 0, "alerted": False}
    fill_stream_failures(aws, client, "evt_watch_1")
    assert run_watch(client)["stream-failures"]["alerted"] is True
    assert run_watch(client)["stream-failures"]["alerted"] is False  # the same incident
    (first,) = dead_letter_alerts(aws)
    assert first.startswith("stream-failures/")

    assert redrive(client, "stream-failures")["failed"] == 0
    assert run_watch(client)["stream-failures"] == {"name": "stream-failures", "depth": 0, "alerted": False}
    fill_stream_failures(aws, client, "evt_watch_2")
    assert run_watch(client)["stream-failures"]["alerted"] is True  # a new incident
    assert len(dead_letter_alerts(aws)) == 2 and first in dead_letter_alerts(aws)


def test_a_scheduled_job_that_failed_is_dead_lettered_and_redriven_once(aws, client) -> None:
    from app import app
    from local.scheduler import run_job, schedule_dead_letters, scheduled_event

    event = scheduled_event("watch_dead_letters", datetime.now(timezone.utc), "payment-webhooks-local-",
                            "us-east-1", "123456789012")
    with failing("GetQueueAttributes", "sqs"), pytest.raises(Exception):  # SQS down: every try fails
        run_job(app.handler_map["watch_dead_letters"], "watch_dead_letters", event,
                schedule_dead_letters(aws.client("sqs")))
    assert depths(client)["schedule"] == 1
    with failing("GetQueueAttributes", "sqs"):
        assert redrive(client, "schedule") == {"redriven": 0, "failed": 1, "complete": True}
    assert redrive(client, "schedule") == {"redriven": 1, "failed": 0, "complete": True}
    assert depths(client)["schedule"] == 0
    assert redrive(client, "schedule") == {"redriven": 0, "failed": 0, "complete": True}


# SQS consumers: the webhook -> the stream -> the feed publisher -> the bus -> the rule ->
# the consumer's queue, polled by the same QueuePoller `make run` uses.

CONSUMERS = {  # dead-letter queue name: (source queue suffix, handler, the call it makes, its service)
    "payment-alerts": ("payment-alerts-queue", "send_payment_alerts", "Publish", "sns"),
    "risk-assessments": ("risk-assessments", "assess_payment_risk", "UpdateItem", "dynamodb"),
}


def queue_poller(aws, queue: str, function: str):
    from app import app
    from local.queue_poller import QueuePoller

    return QueuePoller(aws.client("sqs"), queue, app.handler_map[function], function=function,
                       report=lambda line: None)


def waiting(aws, queue: str) -> int:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def alerts_topic_subscriber(aws) -> str:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="dead-letters-alerts-subscriber")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=aws.outputs["PaymentAlertsTopicArn"], Protocol="sqs", Endpoint=arn,
                                Attributes={"RawMessageDelivery": "true"})
    return url


def alerts_published(aws, url: str) -> list[tuple[str, str]]:
    sqs, found = aws.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            body = json.loads(message["Body"])
            found.append((body["kind"], body["key"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def consumer_done(aws, client, name: str, url: str, intent: str) -> bool:
    if name == "payment-alerts":
        return alerts_published(aws, url) == [("payment_failed", f"stripe/{intent}")]
    return client.http.get(f"/transactions/stripe/{intent}").json_body["risk"] is not None


@pytest.mark.parametrize("name", list(CONSUMERS))
def test_a_consumer_message_that_kept_failing_is_redriven_to_its_queue_once(aws, client, monkeypatch,
                                                                             name: str) -> None:
    # Redelivered at once (not after the poller's growing delay), so maxReceiveCount is reached quickly.
    monkeypatch.setattr("local.queue_poller.redelivery_delay", lambda attempts: 0.0)
    suffix, function, operation, service = CONSUMERS[name]
    queue = f"payment-webhooks-local-{suffix}"
    subscriber = alerts_topic_subscriber(aws)
    intent = f"pi_dl_{function}"
    body = stripe_event(f"evt_dl_{function}", "payment_intent.payment_failed", JAN_1,
                        payment_intent(intent, "requires_payment_method"))
    assert client.http.post("/webhooks/stripe", headers=stripe_headers(body), body=body).status_code == 200
    assert consumer_poller(aws, "publish_payment_changes").poll_once() > 0  # the feed event reaches the queue
    assert waiting(aws, queue) == 1

    poller = queue_poller(aws, queue, function)
    with failing(operation, service) as calls:  # the consumer's own call is refused: every receive fails
        for _ in range(20):
            if depths(client)[name]:
                break
            assert poller.poll_once() == 0
    assert len(calls) == 5  # the queue's maxReceiveCount, then SQS moved it
    assert depths(client)[name] == 1 and waiting(aws, queue) == 0
    assert not consumer_done(aws, client, name, subscriber, intent)

    assert redrive(client, name) == {"redriven": 1, "failed": 0, "complete": True}
    assert depths(client)[name] == 0 and waiting(aws, queue) == 1  # back in its source queue
    assert poller.poll_once() == 1
    assert consumer_done(aws, client, name, subscriber, intent)
    assert waiting(aws, queue) == 0

    assert redrive(client, name) == {"redriven": 0, "failed": 0, "complete": True}
    assert poller.poll_once() == 0 and waiting(aws, queue) == 0 and depths(client)[name] == 0
    assert alerts_published(aws, subscriber) == []  # nothing sent again


# A stream-failure letter whose records the stream no longer holds (docs/incident-runbook.md):
# a real failure leaves the letter, which is then made to name a range before the shard's
# trim horizon, as every letter does once the stream trimmed its records (24 hours on).

STREAM_FAILURES = "payment-webhooks-local-stream-failures"
BEFORE_THE_TRIM_HORIZON = ("1000000000000000000001", "1000000000000000000002")
FEED = "publish_payment_changes"


def take_letters(aws, queue: str = STREAM_FAILURES) -> list[str]:
    sqs, bodies = aws.client("sqs"), []
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def put_letters(aws, bodies: list[str], queue: str = STREAM_FAILURES) -> None:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)


def trimmed(body: str) -> str:
    record = json.loads(body)
    batch = record["DDBStreamBatchInfo"]
    batch["startSequenceNumber"], batch["endSequenceNumber"] = BEFORE_THE_TRIM_HORIZON
    return json.dumps(record)


def trimmed_letters_after_a_real_failure(aws, client, poller, operation: str, service: str) -> list[str]:
    with failing(operation, service):
        for _ in range(20):
            poller.poll_once()
    letters = [trimmed(body) for body in take_letters(aws)]
    assert letters, "the failing consumer never gave up"
    put_letters(aws, letters)
    return letters


def a_day_later(monkeypatch) -> None:
    """The redrive's clock 26 hours on: what it reads has settled past the stream's 24 hours."""
    later = datetime.now(timezone.utc) + timedelta(hours=26)
    monkeypatch.setattr(wiring, "utc_now", lambda: later)
    wiring.dead_letter_service.cache_clear()


def day_row(client) -> dict:
    (row,) = client.http.get("/analytics/daily?from=2026-01-01&to=2026-01-01&provider=stripe").json_body["days"]
    return {k: row[k] for k in ("count", "by_status", "gross_volume")}


def test_an_analytics_failure_the_stream_no_longer_holds_is_recounted_from_the_table_once(
        aws, client, monkeypatch) -> None:
    for n in (1, 2):
        post_payment(client, f"evt_trim_{n}", f"pi_trim_{n}")
    poller = analytics_poller(aws)
    letters = trimmed_letters_after_a_real_failure(aws, client, poller, "UpdateItem", "dynamodb")
    assert day_count(client) == 0
    nothing = {"transactions": 0, "buckets": 0}

    # Changed within the stream's 24 hours: a recount could meet the changes again as deltas.
    assert redrive(client, "stream-failures") == {
        "redriven": 0, "failed": len(letters), "complete": True, "reapplied": nothing}
    assert depths(client)["stream-failures"] == len(letters) and day_count(client) == 0

    a_day_later(monkeypatch)
    assert redrive(client, "stream-failures") == {
        "redriven": len(letters), "failed": 0, "complete": True, "reapplied": {"transactions": 0, "buckets": 1}}
    assert day_row(client) == {"count": 2, "by_status": {"succeeded": 2}, "gross_volume": 4000}

    put_letters(aws, letters[:1])  # the same letter again: the figures are exact, nothing moves
    assert redrive(client, "stream-failures") == {
        "redriven": 1, "failed": 0, "complete": True, "reapplied": nothing}
    assert day_row(client) == {"count": 2, "by_status": {"succeeded": 2}, "gross_volume": 4000}

    post_payment(client, "evt_trim_3", "pi_trim_3")  # the live consumer adds to the recount
    assert poller.poll_once() > 0
    assert day_row(client) == {"count": 3, "by_status": {"succeeded": 3}, "gross_volume": 6000}


def test_a_feed_failure_the_stream_no_longer_holds_reannounces_each_transaction_once(aws, client) -> None:
    sqs = aws.client("sqs")
    subscriber = subscribe_queue(aws.client("events"), sqs, aws.outputs["ChangeFeedBusName"], "trimmed-feed")
    post_payment(client, "evt_trim_feed", "pi_trim_feed")
    ticks = iter(range(0, 10**9, 60))
    feed = consumer_poller(aws, FEED, max_attempts=2, clock=lambda: float(next(ticks)), on_failure=(
        on_failure_destination(sqs, FEED, aws.outputs["TransactionsStreamArn"])))
    letters = trimmed_letters_after_a_real_failure(aws, client, feed, "PutEvents", "events")
    assert receive_feed(sqs, subscriber) == []

    assert redrive(client, "stream-failures") == {  # no settling needed: a new version, in stream order
        "redriven": len(letters), "failed": 0, "complete": True, "reapplied": {"transactions": 1, "buckets": 0}}
    assert feed.poll_once() > 0
    (event,) = receive_feed(sqs, subscriber, wait_seconds=5, expect=1)
    assert event["detail-type"] == "payment.updated"
    assert event["detail"]["id"] == f"stripe/pi_trim_feed/{event['detail']['version']}"
    assert event["detail"]["transaction"]["status"] == "succeeded" and event["detail"]["cause"] is None

    put_letters(aws, letters[:1])  # the same letter again: no version moves, nothing is published
    assert redrive(client, "stream-failures") == {
        "redriven": 1, "failed": 0, "complete": True, "reapplied": {"transactions": 0, "buckets": 0}}
    feed.poll_once()
    assert receive_feed(sqs, subscriber, wait_seconds=1) == []


def test_a_redrive_refused_midway_leaves_its_letters_visible_at_once_for_the_next_one(aws, client) -> None:
    """Storage failing under a redrive answers 503, and the letters it had received are
    released then, not after their hold: the operator's retry moves them at once."""
    dead_letters = aws.client("sqs").get_queue_url(QueueName="payment-webhooks-local-payment-alerts-dlq")["QueueUrl"]
    for n in range(3):
        aws.client("sqs").send_message(QueueUrl=dead_letters, MessageBody=json.dumps({"letter": n}))
    with failing("SendMessage", "sqs"):  # moving a letter back to its source queue is refused
        refused = client.http.post("/admin/dead-letters/payment-alerts/redrive")
    assert refused.status_code == 503, refused.body
    assert redrive(client, "payment-alerts") == {"redriven": 3, "failed": 0, "complete": True}
