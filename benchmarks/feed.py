"""Change feed benchmark (docs/api.md section 7): how many feed events each business change
costs, how the publisher batches its PutEvents calls, and how long a change takes to reach
a downstream team's queue under `make run`.

Printed, side by side:
- feed events per business change (target 1.0: one event per webhook answered `applied`,
  nothing for duplicates, stale events or archival; more only under retry), measured on
  payment lifecycles delivered in shuffled order with redeliveries and replays mixed in,
  the events read back from a rule -> SQS queue on the bus;
- PutEvents calls per stream batch (and per 10 feed events: the request limit), and the
  publisher's AWS calls per business change (it makes no others: the mapping reads the stream);
- time from a webhook's 200 to its event in a consumer's queue under the `make run` stack
  (its stream poller, its bus, a rule and queue of our own), p50 and p99.

The first part runs the app's own handler (`app.publish_payment_changes`) in-process,
fed by the local stream poller from a private emulator, counting calls with a botocore
hook on the app's EventBridge client. The second starts `python -m local.run` on free
ports. Both share a machine with whatever else runs on it: the load average is printed.

    python benchmarks/feed.py            # 60 lifecycles, 60 latency samples
    python benchmarks/feed.py --quick    # 15 and 20
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(name, None)

from local import provision  # noqa: E402
from local.emulator_process import EmulatorProcess  # noqa: E402
from local.run import app_env  # noqa: E402
from local.stream_poller import MemoryCheckpoints, StreamPoller  # noqa: E402
from tests.support.feed import receive_feed, subscribe_queue  # noqa: E402
from tests.support.local_stack import running_local_stack  # noqa: E402
from tests.support.signing import payment_intent, stripe_event, stripe_headers  # noqa: E402

T0 = 1767261600  # 2026-01-01T10:00:00Z


def lifecycle(intent: str) -> list[tuple[str, bytes]]:
    """Created, succeeded, refunded in part, refunded in full (event id, body)."""
    def refund(event_id: str, at: int, total: int) -> bytes:
        return stripe_event(event_id, "charge.refunded", at, {
            "id": f"ch_{intent}", "object": "charge", "amount": 2000, "amount_refunded": total,
            "currency": "usd", "payment_intent": intent, "created": T0, "payment_method_details": {"type": "card"}})

    return [
        (f"{intent}_c", stripe_event(f"{intent}_c", "payment_intent.created", T0, payment_intent(intent, "requires_payment_method"))),
        (f"{intent}_s", stripe_event(f"{intent}_s", "payment_intent.succeeded", T0 + 10, payment_intent(intent, "succeeded"))),
        (f"{intent}_r1", refund(f"{intent}_r1", T0 + 600, 500)),
        (f"{intent}_r2", refund(f"{intent}_r2", T0 + 1200, 2000)),
    ]


def events_per_change(lifecycles: int, seed: int = 7) -> dict[str, float]:
    from chalicelib import wiring

    process = EmulatorProcess()
    try:
        outputs = provision.provision(process.endpoint_url, "local")
        os.environ.update(app_env(process.endpoint_url, outputs, base={}))
        wiring.reset()
        aws = lambda service: provision.client(service, process.endpoint_url)  # noqa: E731
        queue = subscribe_queue(aws("events"), aws("sqs"), outputs["ChangeFeedBusName"], "bench-feed")
        rng = random.Random(seed)
        ingest, replay = wiring.ingest_service(), wiring.replay_service()
        outcomes: Counter = Counter()
        for n in range(lifecycles):
            hooks = lifecycle(f"pi_bench_{n}")
            order = rng.sample(hooks, len(hooks)) + rng.sample(hooks, 2)  # every event, two redelivered
            for _, body in order:
                outcomes[ingest.receive("stripe", body, stripe_headers(body)).events[0].outcome.value] += 1
            outcomes["replay " + replay.replay("stripe", rng.choice(hooks)[0]).outcome.value] += 1

        from app import app

        calls: Counter = Counter()
        wiring.aws_client("events").meta.events.register(
            "before-call.eventbridge", lambda model, **_: calls.update([model.name]))
        batches = [0]
        handler = app.handler_map["publish_payment_changes"]

        def counted(event: dict, context: Any) -> dict:
            batches[0] += 1
            return handler(event, context)

        poller = StreamPoller(aws("dynamodbstreams"), outputs["TransactionsStreamArn"], counted,
                              MemoryCheckpoints(), function="publish_payment_changes", report=print)
        records = poller.poll_once()
        events = receive_feed(aws("sqs"), queue, wait_seconds=5, expect=outcomes["applied"] + outcomes["replay applied"])
        changes = outcomes["applied"] + outcomes["replay applied"]
        return {
            "webhooks": sum(v for k, v in outcomes.items() if not k.startswith("replay")),
            "business changes (applied)": changes,
            "duplicate / stale answers": outcomes["duplicate"] + outcomes["stale"] + outcomes["replay stale"],
            "stream records": records, "stream batches": batches[0], "feed events": len(events),
            "distinct detail.id": len({e["detail"]["id"] for e in events}),
            "feed events per business change": len(events) / changes,
            "PutEvents calls": calls["PutEvents"],
            "PutEvents calls per stream batch": calls["PutEvents"] / batches[0],
            "PutEvents calls per 10 feed events": 10 * calls["PutEvents"] / max(len(events), 1),
            "publisher AWS calls per business change": sum(calls.values()) / changes,
        }
    finally:
        wiring.reset()
        process.stop()


def latency(samples: int) -> dict[str, float]:
    """Each sample: a new payment's webhook, then its event awaited in our queue."""
    with running_local_stack() as stack:
        emulator = f"http://127.0.0.1:{stack.emulator_port}"
        sqs = provision.client("sqs", emulator)
        queue = subscribe_queue(provision.client("events", emulator), sqs, "payment-webhooks-local", "bench-latency")
        arrived: dict[str, float] = {}
        done = threading.Event()

        def consume() -> None:
            while not done.is_set():
                for event in receive_feed(sqs, queue):
                    arrived.setdefault(event["detail"]["transaction"]["id"], time.monotonic())
                time.sleep(0.01)

        reader = threading.Thread(target=consume, daemon=True)
        reader.start()
        answered: dict[str, float] = {}
        for n in range(samples):
            now = int(time.time())
            intent = f"pi_latency_{n}"
            body = stripe_event(f"evt_latency_{n}", "payment_intent.succeeded", now, payment_intent(intent, "succeeded", created=now))
            request = urllib.request.Request(f"{stack.api}/webhooks/stripe", data=body, headers=stripe_headers(body), method="POST")
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
            answered[intent] = time.monotonic()
            time.sleep(random.uniform(0.05, 0.4))  # arrivals spread over the poller's cycle
        deadline = time.monotonic() + 15
        while len(arrived) < samples and time.monotonic() < deadline:
            time.sleep(0.05)
        done.set()
        reader.join(timeout=5)
    waits = sorted(arrived[i] - answered[i] for i in answered if i in arrived)
    return {
        "samples": samples, "arrived": len(waits),
        "p50 seconds": statistics.median(waits) if waits else float("nan"),
        "p99 seconds": waits[min(len(waits) - 1, int(0.99 * len(waits)))] if waits else float("nan"),
        "max seconds": waits[-1] if waits else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    lifecycles, samples = (15, 20) if args.quick else (60, 60)
    print(f"load average: {os.getloadavg()[0]:.2f} (1 min), cpus: {os.cpu_count()}")
    print(f"\n-- feed events per business change ({lifecycles} lifecycles of 4 events, shuffled, "
          "2 redeliveries and 1 replay each; in-process handler, private emulator)")
    for name, value in events_per_change(lifecycles).items():
        print(f"{name:>42}: {value:.2f}" if isinstance(value, float) else f"{name:>42}: {value}")
    print(f"\n-- webhook 200 -> event in a consumer's queue, under make run ({samples} new payments)")
    for name, value in latency(samples).items():
        print(f"{name:>42}: {value:.3f}" if isinstance(value, float) else f"{name:>42}: {value}")
    print(f"\nload average: {os.getloadavg()[0]:.2f} (1 min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
