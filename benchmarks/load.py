"""Load with redeliveries (issue 17): the `make run` stack, over HTTP, against a ground truth.

The stack is the one `make run` starts (local/run.py's own pieces, on --port/--emulator-port),
with PayPal's certificates served by the test authority (tests/support/paypal.py), and its
emulator started through benchmarks/support/fast_emulator.py: moto's index queries walk the
whole table and its SQS calls count the whole queue, so without it every request costs more
the more is stored or waiting, which DynamoDB's and SQS's do not (`--plain-emulator` runs
moto's own). Payments
with realistic lifecycles are generated across all five providers; every event is delivered
one to three times, all deliveries shuffled and sent by 16 concurrent workers on kept-alive
connections, each retried on a 503 as providers retry. The ground truth (each payment's final
status and refunded amount, and the daily figures) is computed here from the generated
lifecycles by the contract's rules (docs/api.md sections 2 and 3: the newest event's status,
the largest refunded total, counts and volumes per created_at day), never by the service's code.

Printed: webhooks and deliveries sent, accepted, lost (acknowledged but not stored: must be
0), doubled (an event with a second effect: must be 0), final states equal to the ground truth
(yes/no), analytics equal to the ground truth (yes/no), p50/p99 latency, requests per second,
and each process's CPU per request, which says whether the development server is the
bottleneck (it is not when the emulator spends more CPU per request than the API).

The change feed and the payment alerts are measured as a downstream team sees them: a queue
subscribed to the bus by a rule (docs/change-feed.md) and a queue subscribed to the alerts
topic. Printed: feed events per change (each `detail.id` is one change) and the changes that
came more than once, payments whose newest feed event disagrees with the ground truth (or that
have none: must be 0); alerts per incident (kind and key), by kind, the incidents in the
alerts table, and the `payment_failed` incidents against the ground truth (one per payment
that ended failed).

    python benchmarks/load.py                    # 10,000 webhooks, over HTTP then in-process (docs/reliability.md)
    python benchmarks/load.py --webhooks 1000 --mode http   # a shorter run, over HTTP only

A progress line a minute says how many deliveries are done and, before the feed and the
alerts are read, how many messages the stack's risk and alert consumers still have to take.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(name, None)

from benchmarks.local_stack import children_output_to, cpu_seconds  # noqa: E402
from benchmarks.support.emulator import CHEAP_READS, PLAIN  # noqa: E402
from local import provision  # noqa: E402
from local.run import HOST, STAGE, Supervisor, api_process, build_workers, emulator_process, open_api  # noqa: E402
from tests.support.paypal import paypal_headers, paypal_secrets  # noqa: E402
from tests.support.signing import (  # noqa: E402
    SECRETS, adyen_body, adyen_item, fixture_bytes, generic_headers, payment_intent, square_headers,
    stripe_event, stripe_headers,
)

WORKERS = 16
PROGRESS_SECONDS = 60
CUSTOMER_PAYMENTS = 6
PROVIDER_TRIES = 30
"""Deliveries of one event before the benchmark gives up on it. Providers retry a 503 for days
(Stripe 3, Adyen 30): an overloaded emulator's read timeouts are answered 503, and an event
given up on too soon would count against the ground truth as if the service had dropped it."""
DAY = "2026-11-15"
BASE = 1794736800  # 2026-11-15T10:00:00Z
CAPTURED = {"succeeded", "partially_refunded", "refunded", "disputed"}
SQUARE = json.loads(fixture_bytes("square", "payment.created"))
SQUARE_TRUTH = json.loads(fixture_bytes("square", "payment.created.expected"))  # the fixture's oracle
PAYPAL = [fixture_bytes("paypal", name) for name in
          ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.REFUNDED_partial", "PAYMENT.CAPTURE.REFUNDED_full")]
PAYPAL_CAPTURE = b"42311647XV020574X"


@dataclass(frozen=True)
class Event:
    provider: str
    event_id: str
    body: bytes
    signer: str  # how to sign at send time (the signatures carry the time of sending)


@dataclass
class Payment:
    """One payment's ground truth, by the contract's rules."""

    provider: str
    payment_id: str
    day: str
    currency: str
    amount: int
    status: str
    refunded: int
    events: list[Event] = field(default_factory=list)


def iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def customer(n: int) -> int:
    """Six payments of a provider per customer, created within half a minute of each other:
    the sixth is over the velocity limit (docs/risk.md), the others are not flagged."""
    return n // (CUSTOMER_PAYMENTS * len(MAKERS))


def generic_payment(n: int, rng: random.Random) -> Payment:
    amount, at = rng.randrange(500, 50_000), BASE + n % 20_000
    steps = [("succeeded", 0)]
    if rng.random() < 0.5:
        steps.append(("partially_refunded", amount // 3))
        if rng.random() < 0.5:
            steps.append(("refunded", amount))
    payment = Payment("generic", f"ord-load-{n}", DAY, "EUR", amount, steps[-1][0], steps[-1][1])
    for k, (status, refunded) in enumerate(steps):
        body = json.dumps({"type": f"payment.{status}", "timestamp": iso(at + 60 * (k + 1)), "data": {
            "id": payment.payment_id, "amount": amount, "currency": "EUR", "status": status, "merchant_id": "m-load",
            "created_at": iso(at), "amount_refunded": refunded}}).encode()
        payment.events.append(Event("generic", f"msg_load_{n}_{k}", body, "generic"))
    return payment


def stripe_payment(n: int, rng: random.Random) -> Payment:
    amount, at, intent = rng.randrange(500, 50_000), BASE + n % 20_000, f"pi_load_{n}"
    final = "succeeded" if rng.random() < 0.8 else "failed"
    steps = [("payment_intent.processing", "processing")]
    steps.append(("payment_intent.succeeded", "succeeded") if final == "succeeded"
                 else ("payment_intent.payment_failed", "requires_payment_method"))
    payment = Payment("stripe", intent, DAY, "USD", amount, final, 0)
    for k, (kind, status) in enumerate(steps):
        event_id = f"evt_load_{n}_{k}"
        body = stripe_event(event_id, kind, at + 60 * (k + 1),
                            payment_intent(intent, status, amount, created=at, customer=f"cus_load_{customer(n)}"))
        payment.events.append(Event("stripe", event_id, body, "stripe"))
    return payment


def adyen_payment(n: int, rng: random.Random) -> Payment:
    amount, at, psp = rng.randrange(500, 50_000), BASE + n % 20_000, f"LOADA{n:011d}"
    payment = Payment("adyen", psp, DAY, "EUR", amount, "succeeded", 0)
    items = [adyen_item(psp, "AUTHORISATION", amount, at=iso(at))]
    if rng.random() < 0.5:
        refund = amount if rng.random() < 0.5 else amount // 4
        items.append(adyen_item(f"LOADR{n:011d}", "REFUND", refund, original=psp, at=iso(at + 60)))
        payment.status, payment.refunded = ("refunded" if refund == amount else "partially_refunded"), refund
    for item in items:
        event_id = f"{item['pspReference']}:{item['eventCode']}:{item['success']}"
        payment.events.append(Event("adyen", event_id, adyen_body(item), "adyen"))
    return payment


def square_payment(n: int, rng: random.Random) -> Payment:
    payment_id = f"sqload{n}"
    event = {**SQUARE, "event_id": f"sq-evt-load-{n}",
             "data": {**SQUARE["data"], "id": payment_id, "object": {"payment": {
                 **SQUARE["data"]["object"]["payment"], "id": payment_id, "customer_id": f"SQLOAD{customer(n)}"}}}}
    facts = SQUARE_TRUTH["facts"]
    payment = Payment("square", payment_id, facts["created_at"][:10], facts["currency"], facts["amount"],
                      SQUARE_TRUTH["status"], 0)
    payment.events.append(Event("square", event["event_id"], json.dumps(event).encode(), "square"))
    return payment


def paypal_payment(n: int, rng: random.Random) -> Payment:
    capture = f"LOADCAPTURE{n:08d}"
    steps = rng.choice([1, 2, 3])
    final = [("succeeded", 0), ("partially_refunded", 500), ("refunded", 2000)][steps - 1]
    payment = Payment("paypal", capture, "2026-01-01", "USD", 2000, *final)
    for body in PAYPAL[:steps]:
        body = body.replace(PAYPAL_CAPTURE, capture.encode()).replace(b'"id": "WH-', f'"id": "WH-{capture}-'.encode())
        payment.events.append(Event("paypal", json.loads(body)["id"], body, "paypal"))
    return payment


MAKERS = (generic_payment, stripe_payment, adyen_payment, square_payment, paypal_payment)


def payments(webhooks: int, rng: random.Random, first: int = 0) -> list[Payment]:
    """Payments round-robin across the providers until `webhooks` events exist, numbered
    from `first` (so two runs on one stack never share a payment)."""
    made: list[Payment] = []
    total, n = 0, first
    while total < webhooks:
        payment = MAKERS[n % len(MAKERS)](n, rng)
        made.append(payment)
        total += len(payment.events)
        n += 1
    return made


def truth_analytics(made: list[Payment]) -> dict[tuple[str, str, str], dict]:
    rows: dict[tuple[str, str, str], dict] = {}
    for p in made:
        row = rows.setdefault((p.day, p.provider, p.currency), {
            "count": 0, "by_status": Counter(), "gross_volume": 0, "refunded_volume": 0})
        row["count"] += 1
        row["by_status"][p.status] += 1
        row["gross_volume"] += p.amount if p.status in CAPTURED else 0
        row["refunded_volume"] += p.refunded
    for row in rows.values():
        row["by_status"] = dict(row["by_status"])
        row["net_volume"] = row["gross_volume"] - row["refunded_volume"]
    return rows


def signed(event: Event) -> dict[str, str]:
    if event.signer == "stripe":
        return stripe_headers(event.body)
    if event.signer == "generic":
        return generic_headers(event.body, event.event_id)
    if event.signer == "square":
        return square_headers(event.body)
    if event.signer == "paypal":
        return paypal_headers(event.body)
    return {"Content-Type": "application/json"}


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)
    acknowledged: set = field(default_factory=set)
    effects: Counter = field(default_factory=Counter)  # non-duplicate outcomes per event
    latencies: list = field(default_factory=list)
    requests: int = 0
    delivered: int = 0  # deliveries finished (answered, or given up on)
    errors: Counter = field(default_factory=Counter)  # provider, status, message


Send = Callable[[str, str, bytes | None, dict[str, str]], tuple[int, bytes]]


def http_sender(port: int) -> Callable[[], Send]:
    """A kept-alive connection per worker to the stack's API (chalice local)."""
    def make() -> Send:
        state = {"connection": http.client.HTTPConnection(HOST, port, timeout=60)}

        def send(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
            try:
                state["connection"].request(method, path, body=body, headers=headers)
                response = state["connection"].getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                state["connection"].close()
                state["connection"] = http.client.HTTPConnection(HOST, port, timeout=60)
                return 0, b""
        return send
    return make


def in_process_sender(clients: list[Any]) -> Callable[[], Send]:
    """The same app in this process (chalice.test.Client), its boto3 clients on the stack's
    emulator: what the API costs without the development server. Each worker has a
    container of its own, as each concurrent request has in Lambda: an app object serves one
    request at a time (it holds `current_request`), so each container is the app module
    loaded once more (tests/support/in_process.py's reasoning, WORKERS times)."""
    turns, lock = itertools.cycle(clients), threading.Lock()

    def make() -> Send:  # each of one run's WORKERS threads gets a container of its own
        with lock:
            client = next(turns)

        def send(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
            response = client.http.request(method, path, headers=headers, body=body or b"")
            return response.status_code, response.body
        return send
    return make


def parallel(items: list, work: Callable[[Send, Any], None], sender: Callable[[], Send]) -> None:
    """`work(send, item)` for every item, from WORKERS threads."""
    pending, lock = list(items), threading.Lock()

    def worker() -> None:
        send = sender()
        while True:
            with lock:
                if not pending:
                    return
                item = pending.pop()
            work(send, item)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def deliver(sender: Callable[[], Send], queue: list[Event], tally: Tally, progress: Callable[[str], None]) -> None:
    """Every delivery of `queue`, with a progress line a minute."""
    def one(send: Send, event: Event) -> None:
        try:
            until_answered(send, event)
        finally:
            with tally.lock:
                tally.delivered += 1

    def until_answered(send: Send, event: Event) -> None:
        for attempt in range(PROVIDER_TRIES):  # a provider retries a 503 (and a dropped connection)
            if attempt:
                time.sleep(min(0.2 * 2 ** attempt, 5.0))
            started = time.perf_counter()
            status, body = send("POST", f"/webhooks/{event.provider}", event.body, signed(event))
            elapsed = time.perf_counter() - started
            if status == 0:
                continue
            outcomes = [e["outcome"] for e in json.loads(body).get("events", [])] if body.startswith(b"{") else []
            with tally.lock:
                tally.requests += 1
                tally.latencies.append(elapsed)
                tally.statuses[status] += 1
                if status >= 400:
                    tally.errors[(event.provider, status, body[:120].decode(errors="replace"))] += 1
                if 200 <= status < 300:
                    tally.acknowledged.add((event.provider, event.event_id))
                    tally.effects[(event.provider, event.event_id)] += sum(o != "duplicate" for o in outcomes)
            if status != 503:
                return

    done = threading.Event()

    def tick() -> None:
        started, last = time.perf_counter(), (0, 0)
        while not done.wait(PROGRESS_SECONDS):
            with tally.lock:
                now = (tally.delivered, tally.requests)
            progress(f"{now[0]:,} of {len(queue):,} deliveries done after {time.perf_counter() - started:,.0f} s; "
                     f"last minute {now[0] - last[0]:,} done, {(now[1] - last[1]) / PROGRESS_SECONDS:.1f} req/s")
            last = now

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        parallel(queue, one, sender)
    finally:
        done.set()
        ticker.join()


def get_json(sender: Callable[[], Send], paths: list[str]) -> dict[str, tuple[int, Any]]:
    """GET each path: path -> (status, JSON body)."""
    answers: dict[str, tuple[int, Any]] = {}
    lock = threading.Lock()

    def one(send: Send, path: str) -> None:
        status, body = send("GET", path, None, {})
        with lock:
            answers[path] = (status, json.loads(body or b"null"))

    parallel(paths, one, sender)
    return answers


def served_analytics(sender: Callable[[], Send]) -> dict[tuple[str, str, str], dict]:
    rows = {}
    for start, end in (("2020-01-01", "2020-12-31"), ("2026-01-01", "2026-12-31")):
        (status, body), = get_json(sender, [f"/analytics/daily?from={start}&to={end}"]).values()
        for row in body["days"]:
            rows[(row["date"], row["provider"], row["currency"])] = {
                name: row[name] for name in ("count", "by_status", "gross_volume", "refunded_volume", "net_volume")}
    return rows


def verify(label: str, sender: Callable[[], Send], made: list[Payment], everything: list[Payment],
           events: list[Event], tally: Tally, seconds: float, report: Callable[[str], None],
           downstream: "Downstream") -> bool:
    """Check the stack against the ground truth and print the figures; answers all good.
    `everything`: every payment sent to the stack so far (the daily figures hold them all)."""
    stored = downstream.stored_events()  # a scan: reading 10,000 events one GET at a time costs minutes
    lost = sum(key not in stored for key in tally.acknowledged)
    paths = {f"/transactions/{p.provider}/{quote(p.payment_id, safe='')}": p for p in made}
    views = get_json(sender, list(paths))
    wrong, doubled = [], sum(n > 1 for n in tally.effects.values())
    for path, (status, body) in views.items():
        truth = paths[path]
        if status != 200:
            wrong.append(path)
            continue
        ids = [e["event_id"] for e in body["events"]]
        doubled += len(ids) - len(set(ids))
        if (body["status"], body["amount_refunded"], body["amount"]) != (truth.status, truth.refunded, truth.amount):
            wrong.append(path)
    expected = truth_analytics(everything)
    deadline, analytics = time.monotonic() + 180, {}
    while time.monotonic() < deadline:  # the stream consumer catches up within seconds
        analytics = served_analytics(sender)
        if analytics == expected:
            break
        time.sleep(2)
    latencies = sorted(tally.latencies)
    report(f"[{label}] deliveries {sum(tally.statuses.values()):,} answered, statuses {dict(tally.statuses)}")
    for (provider, status, message), n in tally.errors.most_common(5):
        report(f"[{label}] answered {status} {n} times ({provider}): {message}")
    report(f"[{label}] accepted (distinct events acknowledged) {len(tally.acknowledged):,} of {len(events):,}")
    report(f"[{label}] lost (acknowledged but not stored): {lost}")
    report(f"[{label}] doubled (an event with a second effect): {doubled}")
    report(f"[{label}] final states equal to the ground truth: {'yes' if not wrong else 'no'} "
           f"({len(made) - len(wrong):,}/{len(made):,})")
    report(f"[{label}] analytics equal to the ground truth: {'yes' if analytics == expected else 'no'} "
           f"({len(expected)} day/provider/currency rows)")
    report(f"[{label}] latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
           f"p99 {latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000:.1f} ms; "
           f"{tally.requests / seconds:.1f} requests/s over {seconds:.0f} s")
    downstream.await_consumers(lambda line: report(f"[{label}] {line}"))
    feed_good = downstream.report_feed(label, made, report)
    alerts_good = downstream.report_alerts(label, made, report)
    return not lost and not doubled and not wrong and analytics == expected and feed_good and alerts_good


FEED_QUEUE, ALERTS_QUEUE = "load-feed-subscriber", "load-alerts-subscriber"


class QueueReader:
    """A downstream team's consumer, reading its queue all along as a real one does (a queue
    left to fill costs moto time per message on every send; SQS does not care)."""

    def __init__(self, sqs: Any, url: str) -> None:
        self._sqs, self._url = sqs, url
        self._lock, self._stopped = threading.Lock(), threading.Event()
        self._messages: list[dict[str, Any]] = []
        self._last = time.monotonic()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stopped.is_set():  # short polls: the emulator serves one request at a time
            messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                self._stopped.wait(0.5)
                continue
            with self._lock:
                self._messages += [json.loads(m["Body"]) for m in messages]
                self._last = time.monotonic()
            self._sqs.delete_message_batch(QueueUrl=self._url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)])

    def take(self, quiet_seconds: float = 10.0, limit_seconds: float = 600.0) -> list[dict[str, Any]]:
        """Every message read so far, once none came for `quiet_seconds` (the stack's
        consumers have caught up)."""
        started = time.monotonic()
        while True:
            with self._lock:
                quiet = time.monotonic() - max(self._last, started)
                if quiet >= quiet_seconds or time.monotonic() - started >= limit_seconds:
                    taken, self._messages = self._messages, []
                    return taken
            time.sleep(0.5)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


class Downstream:
    """A downstream team's view of the stack: its queue on the change feed, its queue on the
    payment alerts topic; and the events table read by a scan (the test's own clients)."""

    def __init__(self, endpoint_url: str, outputs: dict[str, str]) -> None:
        import boto3

        from tests.support.feed import subscribe_queue

        session = boto3.session.Session(region_name=provision.DEFAULT_REGION, **provision.DUMMY_CREDENTIALS)
        self._sqs = session.client("sqs", endpoint_url=endpoint_url)
        self._dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
        self._outputs = outputs
        self._feed = subscribe_queue(session.client("events", endpoint_url=endpoint_url), self._sqs,
                                     outputs["ChangeFeedBusName"], FEED_QUEUE)
        self._alerts = self._sqs.create_queue(QueueName=ALERTS_QUEUE)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._alerts, AttributeNames=["QueueArn"])["Attributes"]
        session.client("sns", endpoint_url=endpoint_url).subscribe(
            TopicArn=outputs["PaymentAlertsTopicArn"], Protocol="sqs", Endpoint=arn["QueueArn"],
            Attributes={"RawMessageDelivery": "true"})
        self._feed_reader, self._alerts_reader = QueueReader(self._sqs, self._feed), QueueReader(self._sqs, self._alerts)

    def stop(self) -> None:
        self._feed_reader.stop()
        self._alerts_reader.stop()

    def await_consumers(self, progress: Callable[[str], None], limit_seconds: float = 3600.0) -> None:
        """Until the stack's own queue consumers (risk, payment alerts) have nothing left:
        risk's writes and the alerts they raise come after the webhooks that caused them."""
        urls = [self._sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"]
                for arn in (self._outputs["RiskAssessmentsQueueArn"], self._outputs["PaymentAlertsQueueArn"])]
        started = last_line = time.monotonic()
        while time.monotonic() - started < limit_seconds:
            waiting = sum(int(value) for url in urls for value in self._sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"].values())
            if not waiting:
                return
            if time.monotonic() - last_line >= PROGRESS_SECONDS:
                progress(f"risk and alert consumers: {waiting:,} messages still waiting")
                last_line = time.monotonic()
            time.sleep(2)
        progress(f"risk and alert consumers: still busy after {limit_seconds:,.0f} s")

    def stored_events(self) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        pages = self._dynamodb.get_paginator("scan").paginate(
            TableName=self._outputs["EventsTableName"], ProjectionExpression="pk", ConsistentRead=True)
        for page in pages:
            for item in page["Items"]:
                provider, _, event_id = item["pk"]["S"].partition("#")
                found.add((provider, event_id))
        return found

    def report_feed(self, label: str, made: list[Payment], report: Callable[[str], None]) -> bool:
        events = self._feed_reader.take()
        per_change = Counter(event["detail"]["id"] for event in events)
        newest: dict[tuple[str, str], dict[str, Any]] = {}
        for event in events:
            detail = event["detail"]
            key = (detail["transaction"]["provider"], detail["transaction"]["id"])
            if key not in newest or detail["version"] > newest[key]["version"]:
                newest[key] = detail
        disagree = [p for p in made if (p.provider, p.payment_id) not in newest
                    or (newest[(p.provider, p.payment_id)]["transaction"]["status"],
                        newest[(p.provider, p.payment_id)]["transaction"]["amount_refunded"]) != (p.status, p.refunded)]
        report(f"[{label}] feed: {len(events):,} events for {len(per_change):,} changes "
               f"({len(events) / max(len(per_change), 1):.3f} events per change; "
               f"{sum(n > 1 for n in per_change.values())} changes came more than once); "
               f"payments whose newest feed event is not the ground truth (or that have none): {len(disagree)}")
        return not disagree

    def report_alerts(self, label: str, made: list[Payment], report: Callable[[str], None]) -> bool:
        alerts = self._alerts_reader.take()
        per_incident = Counter((alert["kind"], alert["key"]) for alert in alerts)
        by_kind = Counter(kind for kind, _ in per_incident)
        keys = {f"{p.provider}/{p.payment_id}" for p in made}
        table = [item for page in self._dynamodb.get_paginator("scan").paginate(
            TableName=self._outputs["AlertsTableName"], ConsistentRead=True) for item in page["Items"]]
        recorded = {(item["kind"]["S"], item["key"]["S"]) for item in table if item["key"]["S"] in keys}
        failed_truth = {f"{p.provider}/{p.payment_id}" for p in made if p.status == "failed"}
        failed_alerted = {key for kind, key in per_incident if kind == "payment_failed" and key in keys}
        report(f"[{label}] alerts: {len(alerts):,} messages for {len(per_incident):,} incidents "
               f"({len(alerts) / max(len(per_incident), 1):.3f} per incident; by kind {dict(sorted(by_kind.items()))}); "
               f"incidents in the alerts table {len(recorded):,}; payment_failed incidents {len(failed_alerted):,} "
               f"for {len(failed_truth):,} payments that ended failed")
        return failed_alerted == failed_truth and set(per_incident) == recorded and len(alerts) == len(per_incident)


def workload(webhooks: int, seed: int, first: int) -> tuple[list[Payment], list[Event], list[Event]]:
    """The payments, their distinct events, and the shuffled deliveries (1-3 per event)."""
    rng = random.Random(seed)
    made = payments(webhooks, rng, first)
    events = [event for payment in made for event in payment.events]
    queue = [event for event in events for _ in range(rng.choice([1, 2, 3]))]
    rng.shuffle(queue)
    return made, events, queue


def run(webhooks: int, port: int, emulator_port: int, seed: int, mode: str, plain_emulator: bool,
        report: Callable[[str], None]) -> bool:
    endpoint_url = f"http://{HOST}:{emulator_port}"
    secrets = Path(tempfile.mkstemp(suffix=".json")[1])
    secrets.write_text(json.dumps({**SECRETS, "paypal": paypal_secrets()}))
    log = Path(tempfile.gettempdir()) / f"load-benchmark-{os.getpid()}.log"
    report(f"stack output: {log}; load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    supervisor = Supervisor()
    good, downstream = True, None
    try:
        with children_output_to(log):
            supervisor.start(emulator_process(emulator_port, PLAIN if plain_emulator else CHEAP_READS))
            api = supervisor.launch(api_process(endpoint_url, port))
            outputs = provision.provision(endpoint_url, STAGE, secrets)
            api.wait_ready()
            open_api(api)
            for worker in build_workers(endpoint_url, outputs):
                supervisor.start(worker)
        downstream = Downstream(endpoint_url, outputs)
        pids = {child.name: child.popen.pid for child in supervisor.children if child.popen is not None}
        pids["this process (in-process app)"] = os.getpid()
        senders = [("chalice local over HTTP", http_sender(port))] if mode != "in-process" else []
        if mode != "http":
            senders.append(("in-process app", in_process_sender(in_process_clients(endpoint_url, outputs))))
        everything: list[Payment] = []
        for number, (label, sender) in enumerate(senders):
            made, events, queue = workload(webhooks, seed + number, first=number * 10_000_000)
            everything += made
            report(f"[{label}] payments {len(made):,}; webhooks (distinct events) {len(events):,}; deliveries "
                   f"{len(queue):,} (each event 1-3 times, shuffled, {WORKERS} workers)")
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            tally, started = Tally(), time.perf_counter()
            deliver(sender, queue, tally, lambda line, label=label: report(f"[{label}] {line}"))
            seconds = time.perf_counter() - started
            cpu_ms = {name: (cpu_seconds(pid) - cpu_before[name]) * 1000 / max(tally.requests, 1)
                      for name, pid in pids.items()}
            good = verify(label, sender, made, everything, events, tally, seconds, report, downstream) and good
            report(f"[{label}] CPU ms per request: " + ", ".join(f"{name} {ms:.1f}" for name, ms in cpu_ms.items()))
        report(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if downstream is not None:
            downstream.stop()
        supervisor.stop_all()
        secrets.unlink(missing_ok=True)
    return good


def in_process_clients(endpoint_url: str, outputs: dict[str, str]) -> list[Any]:
    """A chalice.test.Client per worker, each over its own load of app.py (its own app
    object, as each Lambda container has), with the environment `make run` gives its API.
    The composition root (chalicelib.wiring) is shared, as boto3 clients are thread-safe."""
    import importlib.util

    from chalice.test import Client

    from local.run import app_env

    os.environ.update(app_env(endpoint_url, outputs, base={}))
    clients = []
    for n in range(WORKERS):
        spec = importlib.util.spec_from_file_location(f"load_app_container_{n}", REPO / "app.py")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        clients.append(Client(module.app, stage_name="local", project_dir=str(REPO)))
    return clients


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8170)))
    parser.add_argument("--emulator-port", type=int, default=int(os.environ.get("EMULATOR_PORT", 4670)))
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--mode", choices=("both", "http", "in-process"), default="both",
                        help="over HTTP (chalice local), the same app in this process (chalice.test.Client), "
                             "or both one after the other on one stack (default)")
    parser.add_argument("--plain-emulator", action="store_true",
                        help="moto's own index queries and SQS calls, whose cost grows with what is stored or waiting "
                             "(benchmarks/support/fast_emulator.py)")
    args = parser.parse_args()
    console = sys.stdout
    with open(Path(tempfile.gettempdir()) / f"load-benchmark-app-{os.getpid()}.log", "w") as app_log, \
            contextlib.redirect_stdout(app_log):  # the in-process app's log lines
        good = run(args.webhooks, args.port, args.emulator_port, args.seed, args.mode, args.plain_emulator,
                   lambda line: print(line, file=console, flush=True))
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
