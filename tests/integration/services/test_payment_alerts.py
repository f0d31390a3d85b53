"""Payment alerts against the emulator's alerts table and topic, read from an SQS queue
subscribed to the topic as a subscriber would: each incident is sent once, and a crash
between recording it and publishing it is recovered by the retry."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from chalicelib.domain.alerts import PaymentAlert
from chalicelib.errors import StorageUnavailable
from chalicelib.storage.alerts import AlertsRepository

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def subscribed_queue(aws) -> str:
    sqs, sns = aws.client("sqs"), aws.client("sns")
    url = sqs.create_queue(QueueName="alerts-subscriber")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=aws.outputs["PaymentAlertsTopicArn"], Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "false"})
    return url


def received(aws, url: str) -> list[dict[str, Any]]:
    """Every notification on the queue (SNS envelopes), drained."""
    sqs, found = aws.client("sqs"), []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def failing_publish(services, times: int) -> list[int]:
    """SNS Publish fails (as a connection error) the first `times` calls."""
    calls = [0]

    def fail(**_: Any) -> None:
        calls[0] += 1
        if calls[0] <= times:
            raise EndpointConnectionError(endpoint_url="http://sns")

    services.aws_client("sns").meta.events.register("before-call.sns.Publish", fail)
    return calls


def dispute(key: str = "stripe/pi_1", at: datetime = NOW) -> PaymentAlert:
    provider, payment_id = key.split("/")
    view = {"provider": provider, "id": payment_id, "status": "disputed", "amount": 2000, "currency": "USD",
            "merchant_id": "acct_1"}
    return PaymentAlert("dispute", key, f"Payment {key} became disputed", at, view, provider, "acct_1")


def test_an_alert_is_published_once_with_its_body_and_attributes(aws, services) -> None:
    url = subscribed_queue(aws)
    raiser = services.alert_raiser()
    assert raiser.raise_alert(dispute()) is True
    assert raiser.raise_alert(dispute(at=NOW + timedelta(minutes=5))) is False
    [notification] = received(aws, url)
    assert json.loads(notification["Message"]) == {
        "kind": "dispute", "key": "stripe/pi_1", "summary": "Payment stripe/pi_1 became disputed",
        "transaction": dispute().transaction, "at": "2026-12-01T12:00:00Z"}
    assert {name: a["Value"] for name, a in notification["MessageAttributes"].items()} == {
        "kind": "dispute", "provider": "stripe", "merchant_id": "acct_1"}


def test_the_same_key_under_another_kind_is_another_incident(aws, services) -> None:
    url = subscribed_queue(aws)
    raiser = services.alert_raiser()
    assert raiser.raise_alert(dispute()) is True
    failed = PaymentAlert("payment_failed", "stripe/pi_1", "failed", NOW, None, "stripe", None)
    assert raiser.raise_alert(failed) is True
    assert sorted(json.loads(n["Message"])["kind"] for n in received(aws, url)) == ["dispute", "payment_failed"]


def test_a_publish_that_failed_after_the_record_was_written_is_sent_by_the_retry(aws, services) -> None:
    url = subscribed_queue(aws)
    calls = failing_publish(services, times=1)
    with pytest.raises(StorageUnavailable):
        services.alert_raiser().raise_alert(dispute())
    assert received(aws, url) == [] and services.payment_alert_service().recent(10) == []
    assert services.alert_raiser().raise_alert(dispute(at=NOW + timedelta(minutes=1))) is True
    [notification] = received(aws, url)
    assert json.loads(notification["Message"])["at"] == "2026-12-01T12:00:00Z"  # the recorded message
    assert services.alert_raiser().raise_alert(dispute()) is False
    assert received(aws, url) == [] and calls[0] == 2


def test_recent_alerts_come_newest_first_across_index_pages(aws, services) -> None:
    raiser = services.alert_raiser()
    for n in range(7):
        raiser.raise_alert(dispute(f"stripe/pi_{n}", NOW + timedelta(minutes=n)))
    table = AlertsRepository(services.aws_client("dynamodb"), aws.outputs["AlertsTableName"], page_size=2)
    recent = table.recent(5)
    assert [a.key for a in recent] == [f"stripe/pi_{n}" for n in (6, 5, 4, 3, 2)]
    assert recent[0].transaction == "stripe/pi_6" and recent[0].at == NOW + timedelta(minutes=6)
    assert [a.key for a in table.recent(200)] == [f"stripe/pi_{n}" for n in range(6, -1, -1)]


# The consumer: feed events on the bus -> the rule -> the alerts queue -> send_payment_alerts.

def feed_detail(status: str, version: int, payment_id: str = "pi_9", previous: str | None = "pending",
                risk: dict | None = None) -> dict[str, Any]:
    view = {"provider": "stripe", "id": payment_id, "status": status, "amount": 2000, "currency": "USD",
            "amount_refunded": 0, "merchant_id": "acct_1", "customer_id": "cus_9", "payment_method": "card",
            "live": False, "created_at": "2026-12-01T11:00:00Z", "updated_at": "2026-12-01T11:00:00Z",
            "last_event_at": "2026-12-01T11:00:00Z", "risk": risk}
    return {"id": f"stripe/{payment_id}/{version}", "version": version, "transaction": view,
            "previous": {"status": previous, "amount_refunded": 0} if previous else None, "cause": None}


def publish_feed(aws, detail_type: str, detail: dict[str, Any]) -> None:
    response = aws.client("events").put_events(Entries=[{
        "Source": "payment-webhooks", "DetailType": detail_type, "Detail": json.dumps(detail),
        "EventBusName": aws.outputs["ChangeFeedBusName"]}])
    assert response["FailedEntryCount"] == 0


def alerts_poller(aws):
    from app import app
    from local.queue_poller import QueuePoller

    queue = aws.outputs["PaymentAlertsQueueArn"].rsplit(":", 1)[1]
    return QueuePoller(aws.client("sqs"), queue, app.handler_map["send_payment_alerts"],
                       function="send_payment_alerts", report=lambda line: None)


def kinds_sent(aws, url: str) -> list[tuple[str, str]]:
    return sorted((json.loads(n["Message"])["kind"], json.loads(n["Message"])["key"]) for n in received(aws, url))


HIGH = {"score": 95, "level": "high", "reasons": [{"rule": "amount_over_threshold", "detail": "2000 USD"}],
        "assessed_at": "2026-12-01T11:00:01Z"}


def test_each_transaction_alert_kind_is_sent_once_under_redelivery_and_replay(aws, services) -> None:
    url = subscribed_queue(aws)
    poller = alerts_poller(aws)
    events = [("payment.failed", feed_detail("failed", 2, "pi_f")),
              ("payment.disputed", feed_detail("disputed", 4, "pi_d", previous="succeeded")),
              ("payment.risk_flagged", feed_detail("succeeded", 3, "pi_r", previous="succeeded", risk=HIGH))]
    for detail_type, detail in events:
        publish_feed(aws, detail_type, detail)
    assert poller.poll_once() == 3
    assert kinds_sent(aws, url) == [("dispute", "stripe/pi_d"), ("payment_failed", "stripe/pi_f"),
                                    ("risk_high", "stripe/pi_r")]
    for detail_type, detail in events:  # at-least-once delivery: the very same events again
        publish_feed(aws, detail_type, detail)
    publish_feed(aws, "payment.failed", feed_detail("failed", 7, "pi_f", previous="pending"))  # a replayed lifecycle
    assert poller.poll_once() == 4
    assert kinds_sent(aws, url) == []
    assert {a.key for a in services.payment_alert_service().recent(50)} == {"stripe/pi_f", "stripe/pi_d", "stripe/pi_r"}


def test_events_that_raise_no_alert_never_reach_the_alerts_queue(aws, services) -> None:
    url = subscribed_queue(aws)
    publish_feed(aws, "payment.succeeded", feed_detail("succeeded", 2))
    publish_feed(aws, "payment.updated", feed_detail("failed", 3, previous="failed"))
    assert alerts_poller(aws).poll_once() == 0 and received(aws, url) == []


def test_a_message_whose_publish_failed_is_retried_alone_and_then_sent(aws, services) -> None:
    url = subscribed_queue(aws)
    poller = alerts_poller(aws)
    failing_publish(services, times=1)
    publish_feed(aws, "payment.failed", feed_detail("failed", 2, "pi_a"))
    assert poller.poll_once() == 0  # the batch's one message is reported failed and comes back
    sqs = aws.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=aws.outputs["PaymentAlertsQueueArn"].rsplit(":", 1)[1])["QueueUrl"]
    deadline = time.monotonic() + 10  # the poller delays a failed message's redelivery, as SQS would
    while poller.poll_once() == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kinds_sent(aws, url) == [("payment_failed", "stripe/pi_a")]
    assert sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_a_message_that_is_not_a_feed_event_is_dropped_not_retried(aws, services) -> None:
    from app import send_payment_alerts
    from local.invocation import FakeLambdaContext

    event = {"Records": [{"messageId": "m-1", "body": "not json"},
                         {"messageId": "m-2", "body": json.dumps({"detail-type": "payment.failed"})}]}
    assert send_payment_alerts(event, FakeLambdaContext("send_payment_alerts")) == {"batchItemFailures": []}
