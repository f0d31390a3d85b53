"""Payment alerts against the emulator's alerts table and topic, read from an SQS queue
subscribed to the topic as a subscriber would: each incident is sent once, and a crash
between recording it and publishing it is recovered by the retry."""
from __future__ import annotations

import json
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
