"""The service's real flows, driven end to end through the app for the fault table: every
provider's webhooks (retried as providers retry: on anything but a 2xx), provider sync and
backfill through ingest, a replay, the queries, every stream and queue consumer the app
registers (analytics, the change feed's publisher, risk, payment alerts: fed by the pollers
`make run` uses, retried as Lambda retries), the archival job and the nightly
reconciliation (rerun as their schedules rerun them), the dead-letter watch and a redrive
of every dead-letter queue, and a bulk replay. What the run ends with is a `snapshot`
(transactions, analytics, archive, reconciliation reports, the change feed as a downstream
subscriber sees it, payment alerts), compared with the snapshot of a run without faults."""
from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from tests.support.feed import subscribe_queue
from tests.support.paypal import paypal_headers
from tests.support.reconciliation import as_csv, record
from tests.support.signing import (fixture_bytes, generic_headers, payment_intent, square_headers,
                                   stripe_event, stripe_headers)


@dataclass(frozen=True)
class Delivery:
    provider: str
    body: bytes
    event_ids: tuple[str, ...]
    sign: Callable[[bytes], dict[str, str]]


GENERIC = json.dumps({"type": "payment.succeeded", "timestamp": "2026-01-02T10:00:00Z", "data": {
    "id": "ord-faults-1", "amount": 12550, "currency": "EUR", "status": "succeeded", "merchant_id": "m-42",
    "created_at": "2026-01-02T09:59:58Z"}}).encode()


def _adyen(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json"}  # HMAC inside each notification item


JAN_2 = 1767348000  # 2026-01-02T10:00:00Z
BIG = stripe_event("evt_faults_big", "payment_intent.succeeded", JAN_2,
                   payment_intent("pi_faults_big", "succeeded", amount=1_000_000, created=JAN_2, customer="cus_big"))
SYNCED = stripe_event("evt_faults_synced", "payment_intent.succeeded", JAN_2,
                      payment_intent("pi_faults_synced", "succeeded", amount=4_200, created=JAN_2))


def deliveries() -> list[Delivery]:
    """Each provider's payment and a refund of it (dated long enough ago to be archived),
    and the incidents payment alerts are for: a dispute, a chargeback, a denied capture and
    a payment risk flags for its amount."""
    return [
        Delivery("stripe", fixture_bytes("stripe", "payment_intent.succeeded"), ("evt_3QkAcmeKitf1KuTe0EWotnG3",),
                 stripe_headers),
        Delivery("stripe", fixture_bytes("stripe", "charge.refunded"), ("evt_3QkAcmeKit4N35lkTN2OQHCc",),
                 stripe_headers),
        Delivery("stripe", BIG, ("evt_faults_big",), stripe_headers),
        Delivery("adyen", fixture_bytes("adyen", "AUTHORISATION_success_true"),
                 ("QFQTPCQ8HXSKGK82:AUTHORISATION:true",), _adyen),
        Delivery("adyen", fixture_bytes("adyen", "REFUND"), ("R6XVLJ8FGG5HZL82:REFUND:true",), _adyen),
        Delivery("adyen", fixture_bytes("adyen", "CHARGEBACK"), ("D3T9NHXP7FJ2GS82:CHARGEBACK:true",), _adyen),
        Delivery("square", fixture_bytes("square", "payment.updated"), ("6a8f5f28-54a1-4eb0-a98a-3111513fd4fc",),
                 square_headers),
        Delivery("square", fixture_bytes("square", "refund.created"), ("bc316346-6691-4243-88ed-6d651a0d0c47",),
                 square_headers),
        Delivery("generic", GENERIC, ("msg_faults_1",), lambda body: generic_headers(body, "msg_faults_1")),
        Delivery("generic", fixture_bytes("generic", "payment.disputed"), ("msg_faults_dispute",),
                 lambda body: generic_headers(body, "msg_faults_dispute")),
        Delivery("paypal", fixture_bytes("paypal", "PAYMENT.CAPTURE.COMPLETED"),
                 ("WH-2WR32451HC0233532-67976317FL4543714",), paypal_headers),
        Delivery("paypal", fixture_bytes("paypal", "PAYMENT.CAPTURE.REFUNDED_partial"),
                 ("WH-1GE84257G0350133W-6RW800890C634293G",), paypal_headers),
        Delivery("paypal", fixture_bytes("paypal", "PAYMENT.CAPTURE.DENIED"),
                 ("WH-0E8213254F7213544-1YE55224HH1583621",), paypal_headers),
    ]


STORED_ELSEWHERE = ("stripe/pi_faults_synced", "generic/g-faults-backfill")
"""Transactions that provider sync and backfill stored, rather than a webhook."""
EXPORT = "2026-01-03.csv"
BACKFILLED = [record("g-faults-backfill", amount=3_000, created_at=datetime(2026, 1, 2, 8, tzinfo=timezone.utc))]
RECONCILED = [record("ord-faults-1", amount=12550, merchant_id="m-42",
                     created_at=datetime(2026, 1, 2, 9, 59, 58, tzinfo=timezone.utc)),
              record("ord-faults-missing", created_at=datetime(2026, 1, 2, 7, tzinfo=timezone.utc))]
ANALYTICS_RANGES = (("2020-01-01", "2020-12-31"), ("2026-01-01", "2026-12-31"))
RETRIES = 12
"""Tries of a request or runs of a job before a promise counts as broken (providers retry for
days, schedules rerun for ever): a fault at each of a flow's call sites at once can fail as
many tries in a row as the flow has sites."""
FEED_QUEUE, ALERTS_QUEUE = "faults-feed-subscriber", "faults-alerts-subscriber"


class FlowFailure(AssertionError):
    """A promise broken under a fault (the test's failure, with what was seen)."""


def answer_or_unavailable(call: Callable[[], Any], what: str) -> Any:
    """The call's 2xx answer, retried (as a provider or a client does) while it is the
    contract's 503; anything else, or no 2xx after the retries, is a broken promise."""
    for _ in range(RETRIES):
        response = call()
        if response.status_code < 300:
            return response
        body = json.loads(response.body)
        if (response.status_code, set(body), body.get("error")) != (503, {"error", "message"}, "unavailable"):
            raise FlowFailure(f"{what}: answered {response.status_code} {response.body[:200]!r}")
    raise FlowFailure(f"{what}: still 503 after {RETRIES} tries")


def rerun(job: Callable[[], Any], what: str) -> Any:
    """An operator's job (a sync, a backfill) rerun after a failure, as its runbook says."""
    for _ in range(RETRIES):
        try:
            return job()
        except Exception:  # noqa: BLE001 - the tool exits non-zero; the operator reruns it
            continue
    raise FlowFailure(f"{what}: still failing after {RETRIES} runs")


def subscribe(aws: Any) -> None:
    """A downstream team's queue on the change feed and another on the payment alerts topic
    (the test's own clients: not call sites of the app)."""
    sqs = aws.client("sqs")
    subscribe_queue(aws.client("events"), sqs, aws.outputs["ChangeFeedBusName"], FEED_QUEUE)
    url = sqs.create_queue(QueueName=ALERTS_QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=aws.outputs["PaymentAlertsTopicArn"], Protocol="sqs", Endpoint=arn,
                                Attributes={"RawMessageDelivery": "true"})


def ingest(client: Any) -> None:
    """Every delivery until acknowledged; an acknowledged event must be readable at once."""
    for delivery in deliveries():
        answer_or_unavailable(lambda: client.http.post(
            f"/webhooks/{delivery.provider}", body=delivery.body, headers=delivery.sign(delivery.body)),
            f"webhook {delivery.event_ids[0]}")
        for event_id in delivery.event_ids:
            response = answer_or_unavailable(
                lambda: client.http.get(f"/events/{delivery.provider}/{event_id}"), f"event {event_id}")
            if response.status_code != 200:
                raise FlowFailure(f"acknowledged but not stored: {delivery.provider}/{event_id}")


def provider_sync_and_backfill() -> None:
    """`make sync` (a page with one event that never arrived as a webhook and one that did)
    and a backfill from another system's export, each rerun until it goes through."""
    from chalicelib import wiring
    from chalicelib.services.provider_sync import ProviderEvent

    page = [ProviderEvent("evt_faults_synced", SYNCED),
            ProviderEvent("evt_3QkAcmeKitf1KuTe0EWotnG3", fixture_bytes("stripe", "payment_intent.succeeded"))]
    rerun(lambda: wiring.provider_sync_service().sync("stripe", [page]), "provider sync")
    rerun(lambda: wiring.reconciliation_service().backfill(
        as_csv(BACKFILLED).splitlines(keepends=True), wiring.ingest_service()), "backfill")


def queries(client: Any) -> None:
    """A replay, and a listing paged with its cursor (the cursor key is a secret)."""
    answer_or_unavailable(lambda: client.http.post("/events/stripe/evt_3QkAcmeKitf1KuTe0EWotnG3/replay"),
                          "replay")
    first = answer_or_unavailable(lambda: client.http.get("/transactions?merchant_id=m-42&limit=1"), "listing")
    cursor = first.json_body["next_cursor"]
    if cursor is not None:
        answer_or_unavailable(lambda: client.http.get(
            f"/transactions?merchant_id=m-42&limit=1&cursor={quote(cursor)}"), "listing page 2")


class Consumers:
    """Every stream and queue consumer the app registers, fed by the pollers `make run`
    uses (each keeping its place, as a mapping does) and retried as Lambda retries: the
    stream pollers' clock runs fast so their back-off does not wait; a queue's failed
    message is offered again after its one-second delay."""

    def __init__(self, aws: Any) -> None:
        from app import app
        from local.event_sources import Clients, pollers

        ticks = itertools.count(step=3600)
        self._aws = aws
        self._pollers = pollers(app, Clients(aws.client("dynamodbstreams"), aws.client("sqs")),
                                report=lambda line: None, clock=lambda: float(next(ticks)))

    def drain(self) -> None:
        """Until every consumer is idle and no message of theirs is in flight."""
        for _ in range(200):
            if sum(poller.poll_once() for poller in self._pollers) == 0:
                if not in_flight(self._aws):
                    return
                time.sleep(0.3)
        raise FlowFailure("the consumers never went idle")


def in_flight(aws: Any) -> int:
    from chalicelib.settings import get_settings

    settings, sqs = get_settings(), aws.client("sqs")
    waiting = 0
    for queue in (settings.risk_assessments_queue, settings.payment_alerts_queue):
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        waiting += sum(int(value) for value in attributes.values())
    return waiting


def scheduled(client: Any, function: str, what: str) -> None:
    """A scheduled job, rerun after any failure until its report says complete, then once
    more (a rerun must change nothing)."""
    event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    for rerun in (False, True):  # then a rerun of the complete job (itself retried on a failure)
        for _ in range(RETRIES):
            try:
                report = client.lambda_.invoke(function, event).payload
            except Exception:  # noqa: BLE001 - the function failed: the next schedule runs it again
                continue
            # A rerun skipped for a lease the complete run could not release changes nothing either.
            if isinstance(report, dict) and (report.get("complete", True) or (rerun and report.get("skipped"))):
                break
        else:
            raise FlowFailure(f"{what}: never complete after {RETRIES} runs")


def reconciliation(client: Any, aws: Any) -> None:
    """Another system's export of the day waiting in the bucket, validated by the nightly job."""
    aws.client("s3").put_object(Bucket=aws.outputs["ArchiveBucketName"], Key=f"reconciliation/incoming/{EXPORT}",
                                Body=as_csv(RECONCILED))
    scheduled(client, "validate_reconciliations", "reconciliation")


def dead_letters(client: Any, aws: Any) -> None:
    """A letter in every dead-letter queue (each as its source leaves it: Lambda's on-failure
    record of a stream batch, a failed job's event, a consumer's message), the watch that
    alerts on them, a redrive of each queue until it is empty, and the watch again."""
    from chalicelib.services.dead_letters import HOLD_SECONDS
    from chalicelib.settings import get_settings
    from local.scheduler import scheduled_event

    settings, sqs = get_settings(), aws.client("sqs")
    queues = {queue.redrive if queue.redrive != "queue" else queue.name: queue.queue for queue in settings.dead_letters}
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=queues["stream"])["QueueUrl"],
                     MessageBody=json.dumps(given_up_batch(aws, settings.function_prefix + "update_daily_analytics")))
    job = scheduled_event("watch_dead_letters", datetime.now(timezone.utc), settings.function_prefix,
                          "us-east-1", "123456789012")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=queues["schedule"])["QueueUrl"], MessageBody=json.dumps(job))
    feed_url = sqs.get_queue_url(QueueName=FEED_QUEUE)["QueueUrl"]
    peeked = sqs.receive_message(QueueUrl=feed_url, MaxNumberOfMessages=1, VisibilityTimeout=0)["Messages"]
    for name in ("payment-alerts", "risk-assessments"):
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=queues[name])["QueueUrl"],
                         MessageBody=peeked[0]["Body"])
    scheduled(client, "watch_dead_letters", "dead-letter watch")
    waiting = [queue.name for queue in settings.dead_letters]
    deadline = time.monotonic() + HOLD_SECONDS + 30
    while waiting:  # the runbook: redrive again while letters are left
        moved = sum(answer_or_unavailable(lambda: client.http.post(f"/admin/dead-letters/{name}/redrive"),
                                          f"redrive {name}").json_body["redriven"] for name in waiting)
        depths = answer_or_unavailable(lambda: client.http.get("/admin/dead-letters"), "dead letters").json_body
        waiting = [q["name"] for q in depths["queues"] if q["depth"]]
        if waiting and time.monotonic() > deadline:
            raise FlowFailure(f"dead letters left after their redrive: {depths}")
        if waiting and not moved:  # held by a receive whose answer was lost: visible again after the hold
            time.sleep(1)
    scheduled(client, "watch_dead_letters", "dead-letter watch")


def given_up_batch(aws: Any, function: str) -> dict[str, Any]:
    """Lambda's on-failure record of the analytics consumer giving up on a batch: every
    record of the stream's first shard so far (which the consumer had in fact applied)."""
    from chalicelib.domain.dead_letters import StreamFailure, stream_failure_record

    streams, arn = aws.client("dynamodbstreams"), aws.outputs["TransactionsStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    sequences = [r["dynamodb"]["SequenceNumber"] for r in streams.get_records(ShardIterator=iterator)["Records"]]
    region, account = arn.split(":")[3:5]
    failure = StreamFailure("update_daily_analytics", arn, shard, sequences[0], sequences[-1])
    return stream_failure_record(failure, f"arn:aws:lambda:{region}:{account}:function:{function}", len(sequences),
                                 "RetryAttemptsExhausted", "2026-01-03T03:00:00Z")


def bulk_replay(client: Any) -> None:
    """Every stripe event received in the last hour replayed through the merge rule (all
    stale: changes nothing)."""
    from chalicelib.domain.timestamps import format_iso

    now = datetime.now(timezone.utc)
    body = json.dumps({"provider": "stripe", "from": format_iso(now - timedelta(hours=1)),
                       "to": format_iso(now + timedelta(minutes=1))}).encode()
    answer_or_unavailable(lambda: client.http.post("/admin/replay", body=body,
                                                   headers={"Content-Type": "application/json"}), "bulk replay")


def run_all(client: Any, aws: Any) -> None:
    subscribe(aws)
    consumers = Consumers(aws)
    ingest(client)
    provider_sync_and_backfill()
    queries(client)
    consumers.drain()
    scheduled(client, "archive_transactions", "archival")
    reconciliation(client, aws)
    dead_letters(client, aws)
    bulk_replay(client)
    consumers.drain()


def snapshot(client: Any, aws: Any) -> dict[str, Any]:
    """What must not depend on faults: each transaction (times of receipt aside), the daily
    figures, the archive's manifests (parts and their line counts), the reconciliation
    reports' counts, the change feed (each change, by provider, id, version and type) and
    the payment alerts (each incident by kind and key, in the alerts table and as messages
    on the topic). Which feed events and alerts arrived more than once is kept beside it, in
    `deliveries`: delivery is at least once, so a repeat is reported, not a difference."""
    transactions = {}
    keys = list(STORED_ELSEWHERE)
    for provider, event_id in ((d.provider, event_id) for d in deliveries() for event_id in d.event_ids):
        event = answer_or_unavailable(lambda: client.http.get(f"/events/{provider}/{event_id}"), "event").json_body
        if event["transaction"] is None:  # stored and acknowledged, about no payment
            transactions[f"{provider}:{event_id}"] = event["outcome"]
        elif event["transaction"] not in keys:
            keys.append(event["transaction"])
    for key in keys:
        body = answer_or_unavailable(lambda: client.http.get(f"/transactions/{key}"), key).json_body
        body.pop("updated_at", None)
        if "archived" in body:
            body["archived"] = body["archived"]["object"]
        if body.get("risk"):
            body["risk"].pop("assessed_at", None)
        body["events"] = sorted((e["event_id"], e["type"], e["outcome"]) for e in body.get("events", []))
        transactions[key] = body
    analytics = [answer_or_unavailable(lambda: client.http.get(f"/analytics/daily?from={start}&to={end}"),
                                       "analytics").json_body for start, end in ANALYTICS_RANGES]
    reports = answer_or_unavailable(lambda: client.http.get("/admin/reconciliations"), "reports").json_body["items"]
    feed, alerts = feed_events(aws), topic_alerts(aws)
    return {"transactions": transactions, "analytics": analytics, "archive": archive_manifests(aws),
            "reconciliation": [{k: v for k, v in report.items() if k != "at"} for report in reports],
            "feed": sorted(feed), "alerts": sorted(alerts), "alerts_table": alerts_table(aws),
            "deliveries": {"feed": doubled(feed), "alerts": doubled(alerts)}}


def doubled(counts: Counter[tuple[str, str]]) -> list[list[object]]:
    return sorted([*key, count] for key, count in counts.items() if count > 1)


def archive_manifests(aws: Any) -> dict[str, list[tuple[str, int]]]:
    s3 = aws.client("s3")
    bucket = aws.outputs["ArchiveBucketName"]
    manifests = {}
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        if item["Key"].endswith("_manifest.json"):
            manifest = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            manifests[item["Key"]] = sorted((part["key"], part["lines"]) for part in manifest["parts"])
    return manifests


def drain(aws: Any, queue: str) -> list[dict[str, Any]]:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        found += [json.loads(message["Body"]) for message in messages]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)])
    return found


def feed_events(aws: Any) -> Counter[tuple[str, str]]:
    """The change feed a subscriber received: how many times each (type, `<provider>/<id>/<version>`)."""
    return Counter((event["detail-type"], event["detail"]["id"]) for event in drain(aws, FEED_QUEUE))


def incident(kind: str, key: str) -> tuple[str, str]:
    """A dead-letter incident's key names when it opened (a time of this run): its queue stays."""
    return (kind, key.split("/", 1)[0] if kind == "dead_letter" else key)


def topic_alerts(aws: Any) -> Counter[tuple[str, str]]:
    """The payment alerts a topic subscriber received: how many times each incident."""
    return Counter(incident(alert["kind"], alert["key"]) for alert in drain(aws, ALERTS_QUEUE))


def alerts_table(aws: Any) -> list[tuple[str, str]]:
    items = aws.client("dynamodb").scan(TableName=aws.outputs["AlertsTableName"], ConsistentRead=True)["Items"]
    return sorted(incident(item["kind"]["S"], item["key"]["S"]) for item in items)
