"""Risk assessment: AWS calls per assessment, and time per assessment against the number
of the customer's transactions in the rules' window (docs/risk.md).

Runs the app's own SQS handler (`app.assess_payment_risk`) on feed-event messages against
in-process moto (`mock_aws`), the transactions table created from infra/resources.json.
DynamoDB calls are counted with a botocore `before-call` hook on the app's client. moto
costs a few ms per call, so times are a floor of the handler with its storage, not of AWS.

Run: `python benchmarks/risk.py` (or `make bench`).
"""
from __future__ import annotations

import json
import logging
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.support.offline_aws import use_in_process_moto  # noqa: E402

T0 = datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc)
CROWDS = (0, 5, 50, 200)
ROUNDS = 5


def create_transactions_table(client: Any, name: str) -> None:
    template = json.loads((REPO_ROOT / "infra" / "resources.json").read_text())
    props = template["Resources"]["TransactionsTable"]["Properties"]
    client.create_table(TableName=name, KeySchema=props["KeySchema"], BillingMode=props["BillingMode"],
                        AttributeDefinitions=props["AttributeDefinitions"],
                        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"])


def store(wiring: Any, payment_id: str, customer: str | None, created: datetime, amount: int = 2000) -> None:
    from chalicelib.domain.status import Status
    from chalicelib.domain.transaction import MergeState, Transaction

    txn = Transaction(provider="stripe", id=payment_id, status=Status.SUCCEEDED, amount=amount, currency="USD",
                      customer_id=customer, created_at=created, updated_at=created, last_event_at=created,
                      merge=MergeState(frontier="k", frontier_status=Status.SUCCEEDED, first_event_at=created),
                      version=1)
    wiring.ledger().record_merged(None, txn, None)


def message(payment_id: str, caused: bool = True) -> dict[str, Any]:
    cause = {"event_id": f"evt_{payment_id}", "type": "payment_intent.succeeded"} if caused else None
    event = {"detail-type": "payment.succeeded" if caused else "payment.risk_flagged", "source": "payment-webhooks",
             "detail": {"id": f"stripe/{payment_id}/1", "version": 1, "previous": None, "cause": cause,
                        "transaction": {"provider": "stripe", "id": payment_id}}}
    return {"messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": json.dumps(event)}


def main() -> None:
    use_in_process_moto()
    from moto import mock_aws

    with mock_aws():
        from app import assess_payment_risk
        from chalicelib import wiring
        from local.invocation import FakeLambdaContext

        logging.getLogger("payment_webhooks").setLevel(logging.WARNING)  # one line per assessment otherwise

        wiring.reset()
        client = wiring.aws_client("dynamodb")
        create_transactions_table(client, wiring.get_settings().transactions_table)
        calls: Counter = Counter()
        client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))

        def handle(*records: dict[str, Any]) -> tuple[Counter, float]:
            calls.clear()
            started = time.perf_counter()
            answer = assess_payment_risk({"Records": list(records)}, FakeLambdaContext("assess_payment_risk"))
            elapsed = time.perf_counter() - started
            assert answer == {"batchItemFailures": []}, answer
            return Counter(calls), elapsed

        store(wiring, "pi_first", "cus_first", T0, amount=1_000_000)
        store(wiring, "pi_nocustomer", None, T0)
        rows = [
            ("first assessment (level rises)", handle(message("pi_first"))[0]),
            ("redelivered (finding unchanged)", handle(message("pi_first"))[0]),
            ("no customer_id, first assessment", handle(message("pi_nocustomer"))[0]),
            ("the consumer's own change (cause null)", handle(message("pi_first", caused=False))[0]),
        ]
        print("AWS calls per assessment (one feed event)")
        print(f"{'case':42} {'GetItem':>7} {'Query':>6} {'UpdateItem':>10} {'total':>6}")
        for label, counted in rows:
            print(f"{label:42} {counted['GetItem']:>7} {counted['Query']:>6} {counted['UpdateItem']:>10} "
                  f"{sum(counted.values()):>6}")

        print("\nTime per first assessment against the customer's transactions in the window")
        print(f"{'others in window':>16} {'Query pages':>11} {'ms p50':>8} {'ms max':>8}")
        for crowd in CROWDS:
            customer = f"cus_{crowd}"
            for n in range(crowd):  # within the hour before, outside the velocity window for most
                store(wiring, f"pi_{crowd}_{n}", customer, T0 - timedelta(seconds=3 * (n + 1)))
            times, pages = [], 0
            for round_ in range(ROUNDS):
                payment_id = f"pi_{crowd}_new{round_}"
                store(wiring, payment_id, customer, T0)
                counted, elapsed = handle(message(payment_id))
                times.append(elapsed * 1000)
                pages = counted["Query"]
            print(f"{crowd:>16} {pages:>11} {statistics.median(times):>8.1f} {max(times):>8.1f}")


if __name__ == "__main__":
    main()
