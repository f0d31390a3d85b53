"""The service's real flows, driven end to end through the app for the fault table: every
provider's webhooks (retried as providers retry: on anything but a 2xx), a replay, the
queries, the analytics stream consumer (fed by the poller `make run` uses, retried as
Lambda retries) and the archival job (rerun as its schedule reruns it). What the run ends
with is a `snapshot`, compared with the snapshot of a run without faults."""
from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tests.support.paypal import paypal_headers
from tests.support.signing import fixture_bytes, generic_headers, square_headers, stripe_headers
from tests.support.streams import consumer_poller


@dataclass(frozen=True)
class Delivery:
    provider: str
    body: bytes
    event_ids: tuple[str, ...]
    sign: Callable[[bytes], dict[str, str]]


GENERIC = json.dumps({"type": "payment.succeeded", "timestamp": "2026-01-02T10:00:00Z", "data": {
    "id": "ord-faults-1", "amount": 12550, "currency": "EUR", "status": "succeeded", "merchant_id": "m-42",
    "created_at": "2026-01-02T09:59:58Z"}}).encode()


def deliveries() -> list[Delivery]:
    """Each provider's payment and a refund of it (dated long enough ago to be archived)."""
    return [
        Delivery("stripe", fixture_bytes("stripe", "payment_intent.succeeded"), ("evt_3QkAcmeKitf1KuTe0EWotnG3",),
                 stripe_headers),
        Delivery("stripe", fixture_bytes("stripe", "charge.refunded"), ("evt_3QkAcmeKit4N35lkTN2OQHCc",),
                 stripe_headers),
        Delivery("adyen", fixture_bytes("adyen", "AUTHORISATION_success_true"),
                 ("QFQTPCQ8HXSKGK82:AUTHORISATION:true",), lambda body: {"Content-Type": "application/json"}),
        Delivery("adyen", fixture_bytes("adyen", "REFUND"), ("R6XVLJ8FGG5HZL82:REFUND:true",),
                 lambda body: {"Content-Type": "application/json"}),
        Delivery("square", fixture_bytes("square", "payment.updated"), ("6a8f5f28-54a1-4eb0-a98a-3111513fd4fc",),
                 square_headers),
        Delivery("square", fixture_bytes("square", "refund.created"), ("bc316346-6691-4243-88ed-6d651a0d0c47",),
                 square_headers),
        Delivery("generic", GENERIC, ("msg_faults_1",), lambda body: generic_headers(body, "msg_faults_1")),
        Delivery("paypal", fixture_bytes("paypal", "PAYMENT.CAPTURE.COMPLETED"),
                 ("WH-2WR32451HC0233532-67976317FL4543714",), paypal_headers),
        Delivery("paypal", fixture_bytes("paypal", "PAYMENT.CAPTURE.REFUNDED_partial"),
                 ("WH-1GE84257G0350133W-6RW800890C634293G",), paypal_headers),
    ]


ANALYTICS_RANGES = (("2020-01-01", "2020-12-31"), ("2026-01-01", "2026-12-31"))
RETRIES = 4


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


def queries(client: Any) -> None:
    """A replay, and a listing paged with its cursor (the cursor key is a secret)."""
    answer_or_unavailable(lambda: client.http.post("/events/stripe/evt_3QkAcmeKitf1KuTe0EWotnG3/replay"),
                          "replay")
    first = answer_or_unavailable(lambda: client.http.get("/transactions?merchant_id=m-42&limit=1"), "listing")
    cursor = first.json_body["next_cursor"]
    if cursor is not None:
        answer_or_unavailable(lambda: client.http.get(
            f"/transactions?merchant_id=m-42&limit=1&cursor={quote(cursor)}"), "listing page 2")


def stream_consumers(aws: Any) -> None:
    """Every stream record to the analytics consumer, retried as Lambda retries (the
    poller's clock runs fast so its back-off does not wait)."""
    ticks = itertools.count(step=3600)
    poller = consumer_poller(aws, clock=lambda: float(next(ticks)))
    idle = 0
    for _ in range(50):
        idle = idle + 1 if poller.poll_once() == 0 else 0
        if idle == 3:
            return


def archival(client: Any) -> None:
    """The scheduled job, rerun after any failure, then once more (a rerun must change nothing)."""
    event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    for _ in range(RETRIES):
        try:
            report = client.lambda_.invoke("archive_transactions", event).payload
        except Exception:  # noqa: BLE001 - the function failed: the next schedule runs it again
            continue
        if isinstance(report, dict) and report.get("complete"):
            break
    client.lambda_.invoke("archive_transactions", event)


def run_all(client: Any, aws: Any) -> None:
    ingest(client)
    queries(client)
    stream_consumers(aws)
    archival(client)
    stream_consumers(aws)


def snapshot(client: Any, aws: Any) -> dict[str, Any]:
    """What must not depend on faults: each transaction (times of receipt aside), the daily
    figures, and the archive's manifests (parts and their line counts)."""
    transactions = {}
    for delivery in deliveries():
        for event_id in delivery.event_ids:
            event = answer_or_unavailable(lambda: client.http.get(f"/events/{delivery.provider}/{event_id}"),
                                          "event").json_body
            key = event["transaction"]
            if key is None:  # stored and acknowledged, about no payment
                transactions[f"{delivery.provider}:{event_id}"] = event["outcome"]
                continue
            body = answer_or_unavailable(lambda: client.http.get(f"/transactions/{key}"), key).json_body
            body.pop("updated_at", None)
            if "archived" in body:
                body["archived"] = body["archived"]["object"]
            body["events"] = sorted((e["event_id"], e["type"], e["outcome"]) for e in body.get("events", []))
            transactions[key] = body
    analytics = [answer_or_unavailable(lambda: client.http.get(f"/analytics/daily?from={start}&to={end}"),
                                       "analytics").json_body for start, end in ANALYTICS_RANGES]
    s3 = aws.client("s3")
    bucket = aws.outputs["ArchiveBucketName"]
    manifests = {}
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        if item["Key"].endswith("_manifest.json"):
            manifest = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            manifests[item["Key"]] = sorted((part["key"], part["lines"]) for part in manifest["parts"])
    return {"transactions": transactions, "analytics": analytics, "archive": manifests}
