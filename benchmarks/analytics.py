"""Analytics stream handler: records per second, and DynamoDB writes per 100-record batch
against the number of distinct buckets the batch touches (target: writes <= buckets).

Runs the app's own handler (`app.update_daily_analytics`) on Lambda-shaped events against
in-process moto (`mock_aws`); DynamoDB calls are counted with a botocore `before-call` hook
on the app's client. moto costs a few ms per call, so the end-to-end rate is a floor; the
handler's own work (parsing, deltas, aggregation) is timed apart with storage stubbed out.

Run: `python benchmarks/analytics.py` (or `make bench`).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

BATCH = 100
BUCKET_COUNTS = (1, 2, 5, 10, 25, 50, 100)
ROUNDS = 5
TABLE = "payment-webhooks-bench-analytics"
SHARD = "shardId-00000001541626099285-f35f62ef"
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/payment-webhooks-bench-transactions/stream/bench"


def isolate_environment() -> None:
    """mock_aws is bypassed while AWS_ENDPOINT_URL points boto3 at a server: drop it."""
    from benchmarks.support.offline_aws import use_in_process_moto

    use_in_process_moto()
    os.environ.update(ANALYTICS_TABLE=TABLE, TRANSACTIONS_STREAM_ARN=STREAM_ARN)


def create_table(client: Any) -> None:
    template = json.loads((REPO_ROOT / "infra" / "resources.json").read_text())
    props = template["Resources"]["AnalyticsTable"]["Properties"]
    client.create_table(TableName=TABLE, KeySchema=props["KeySchema"],
                        AttributeDefinitions=props["AttributeDefinitions"], BillingMode=props["BillingMode"])


def batch_event(first_sequence: int, buckets: int) -> dict[str, Any]:
    """100 new transactions spread round-robin over `buckets` (day, provider, currency)
    buckets: new payments, the commonest change, each a whole contribution."""
    from datetime import datetime, timezone

    from chalicelib.domain.status import Status
    from chalicelib.domain.transaction import MergeState, Transaction
    from chalicelib.storage.codec import to_attributes
    from chalicelib.storage.transaction_items import to_item

    updated = datetime(2026, 1, 1, 10, tzinfo=timezone.utc)
    records = []
    for n in range(BATCH):
        seq = first_sequence + n
        day = 1 + n % buckets
        created = datetime(2025, 1 + (day - 1) // 28, 1 + (day - 1) % 28, 10, tzinfo=timezone.utc)
        item = to_item(Transaction(
            provider="stripe", id=f"pi_{seq}", status=Status.SUCCEEDED, amount=1000 + n, currency="USD",
            created_at=created, updated_at=updated, last_event_at=updated, version=1,
            merge=MergeState(frontier=f"f{seq}", frontier_status=Status.SUCCEEDED, first_event_at=created),
        ))
        records.append({
            "eventID": f"{seq:032x}", "eventName": "INSERT", "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "eventSourceARN": STREAM_ARN,
            "dynamodb": {"ApproximateCreationDateTime": 1767261600, "Keys": {"pk": {"S": item["pk"]}},
                         "NewImage": to_attributes(item), "SequenceNumber": str(seq), "SizeBytes": 400,
                         "StreamViewType": "NEW_AND_OLD_IMAGES"},
        })
    return {"Records": records, "shardId": SHARD, "eventSourceARN": STREAM_ARN, "state": {},
            "window": {"start": "2026-01-01T10:00:00Z", "end": "2026-01-01T10:15:00Z"},
            "isFinalInvokeForWindow": False, "isWindowTerminatedEarly": False}


def handler_cpu_rate() -> float:
    """Records per second of parsing + deltas + aggregation alone (no storage)."""
    from chalicelib.services.analytics import AnalyticsService
    from chalicelib.storage.transaction_stream import read_batch

    class NoStorage:
        def add_unseen(self, *args: Any) -> None:
            pass

    service = AnalyticsService(NoStorage())  # type: ignore[arg-type]
    events = [batch_event(10**21 + 1000 * n, 25) for n in range(20)]
    started = time.perf_counter()
    for event in events:
        service.apply(read_batch(event))
    return len(events) * BATCH / (time.perf_counter() - started)


def main() -> None:
    isolate_environment()
    from moto import mock_aws

    with mock_aws():
        from chalicelib import wiring

        wiring.reset()
        client = wiring.aws_client("dynamodb")
        create_table(client)
        calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
        import app

        handler = app.update_daily_analytics
        sequence = 1100000000017454423009
        print(f"analytics stream handler, {BATCH}-record batches of new payments, in-process moto")
        print(f"{'buckets':>8} {'writes/batch':>13} {'other calls':>12} {'records/s':>10} "
              f"{'replay Δcount':>14} {'UpdateItem (no-op)':>19} {'GetItem':>8}")
        for buckets in BUCKET_COUNTS:
            rates, writes, others = [], [], []
            for _ in range(ROUNDS):
                event = batch_event(sequence, buckets)
                sequence += BATCH
                calls.clear()
                started = time.perf_counter()
                assert handler(event, None) == {"batchItemFailures": [], "state": {}}
                rates.append(BATCH / (time.perf_counter() - started))
                writes.append(calls["UpdateItem"])
                others.append(sum(calls.values()) - calls["UpdateItem"])
            before = _stored_count(client)
            calls.clear()
            assert handler(event, None)["batchItemFailures"] == []  # the last batch, delivered again
            replay_calls = dict(calls)
            replay_change = _stored_count(client) - before
            print(f"{buckets:>8} {max(writes):>13} {max(others):>12} {statistics.median(rates):>10.0f} "
                  f"{replay_change:>14} {replay_calls.get('UpdateItem', 0):>19} {replay_calls.get('GetItem', 0):>8}")
            assert max(writes) <= buckets
    print(f"handler work alone (no storage): {handler_cpu_rate():,.0f} records/s")
    print("writes/batch: conditional UpdateItems, one per bucket. Replay: the last batch delivered again; "
          "each bucket's update fails its condition (count unchanged) and one GetItem reads the mark.")


def _stored_count(client: Any) -> int:
    total = 0
    for item in client.scan(TableName=TABLE)["Items"]:
        total += int(item["count"]["N"])
    return total


if __name__ == "__main__":
    main()
