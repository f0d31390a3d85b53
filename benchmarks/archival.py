"""Archival benchmark: items read per item archived, S3 PUTs per 10,000 items, and peak
traced memory of a run over 10,000 and over 50,000 archivable transactions, side by side.

The job runs with its production settings (part cap, page size, replacement workers)
against S3 under moto's in-process `mock_aws` (AWS_ENDPOINT_URL unset; moto told to spool
objects to disk, so the archive's bytes are not counted as the job's memory) and a
DynamoDB stand-in answering the job's calls through botocore (benchmarks/support; why: it
explains). `--moto` runs DynamoDB on moto too, as a cross-check: same figures for reads and
PUTs, but several times slower, and the traced memory then includes moto's own copies of
rewritten items. `--sizes 2000,4000` measures other sizes.
Memory is traced from just before the run, after seeding and a warm-up run. Each dataset
also holds 1,000 recent transactions that must not be read. It takes about 6 minutes on
2 cores, nearly all of it botocore building, signing and parsing requests under tracemalloc
(about 2 ms an item without tracing).

    python benchmarks/archival.py [--moto] [--sizes N,M]       # or: make bench
"""
from __future__ import annotations

import json
import os
import sys
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(Path(__file__).resolve().parent)]
os.environ.pop("AWS_ENDPOINT_URL", None)  # mock_aws is bypassed when it is set
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": "1",
})

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib.domain.events import CanonicalEvent, PaymentFacts  # noqa: E402
from chalicelib.domain.status import Status  # noqa: E402
from chalicelib.domain.timestamps import format_iso, sortable  # noqa: E402
from chalicelib.domain.transaction import merge_event  # noqa: E402
from chalicelib.services.archival import ArchivalService  # noqa: E402
from chalicelib.storage.archivable import ARCHIVABLE_INDEX, ArchivableTransactions  # noqa: E402
from chalicelib.storage.archive_bucket import ArchiveBucket  # noqa: E402
from chalicelib.storage.archive_lease import ArchiveLease  # noqa: E402
from chalicelib.storage.codec import to_attributes  # noqa: E402
from chalicelib.storage.transaction_items import (  # noqa: E402
    ARCHIVE_SHARD, archive_shard, created_key, to_item, transaction_pk,
)
from support.dynamodb_standin import TransactionsStandIn  # noqa: E402

TABLE, BUCKET = "bench-transactions", "bench-archive"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
PROVIDERS = ("stripe", "adyen")
DAYS = 2  # archivable creation days: a nightly backlog of a busy day or two
RECENT = 1_000
SIZES = (10_000, 50_000)
WARM_UP = 500
SESSION = boto3.session.Session()  # one botocore loader: its data files are read once
CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2,
                       read_timeout=5, tcp_keepalive=True, parameter_validation=False)
"""As chalicelib/wiring.aws_client builds the app's clients."""


def template_item(provider: str) -> dict:
    """A realistic transaction: pending, succeeded, partially refunded (three events)."""
    t0 = NOW - timedelta(days=40)
    steps = [("payment.pending", Status.PENDING, {}), ("payment.succeeded", Status.SUCCEEDED, {}),
             ("payment.partially_refunded", Status.PARTIALLY_REFUNDED, {"amount_refunded": 500})]
    txn = None
    for n, (kind, status, extra) in enumerate(steps):
        event = CanonicalEvent(
            provider=provider, event_id=f"evt_{n}_0123456789abcdef", type=kind,
            occurred_at=t0 + timedelta(minutes=n), payment_id="x", status=status,
            facts=PaymentFacts(amount=12550, currency="EUR", merchant_id="acct_1NqXJf2eZvKYlo2C",
                               customer_id="cus_Pq9aX1yZ2b3c4d", payment_method="card",
                               created_at=t0, **extra),
        )
        txn = merge_event(txn, event, t0 + timedelta(minutes=n, seconds=1)).transaction
    return to_item(txn)


def items(count: int):
    """`count` archivable transactions over DAYS days and both providers, then RECENT recent
    ones; ids and amounts vary so that parts compress like real data, not like copies."""
    templates = {p: template_item(p) for p in PROVIDERS}
    for n in range(count + RECENT):
        provider = PROVIDERS[n % len(PROVIDERS)]
        age = timedelta(days=35 + (n // len(PROVIDERS)) % DAYS) if n < count else timedelta(days=1)
        created = NOW - age - timedelta(seconds=n)
        payment_id = f"pi_{(n * 2654435761) % 10**12:012d}{n:06d}"
        pk = transaction_pk(provider, payment_id)
        events = [dict(e, event_id=f"evt_{(n * 40503 + k) % 10**10:010d}{n:06d}{k}",
                       occurred_at=format_iso(created + timedelta(seconds=7 * k + n % 5)))
                  for k, e in enumerate(templates[provider]["events"])]
        yield to_attributes(dict(
            templates[provider], pk=pk, id=payment_id, amount=1000 + (n * 37) % 90000,
            customer_id=f"cus_{(n * 7919) % 10**8:08d}", created_at=format_iso(created),
            created_key=created_key(sortable(created), pk), events=events,
            **{ARCHIVE_SHARD: archive_shard(pk)}))


def moto_table(ddb, count: int) -> None:
    template = json.loads((REPO_ROOT / "infra" / "resources.json").read_text())
    props = template["Resources"]["TransactionsTable"]["Properties"]
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST", KeySchema=props["KeySchema"],
                     AttributeDefinitions=props["AttributeDefinitions"],
                     GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"])  # no stream: no images kept
    batch: list[dict] = []
    for item in items(count):
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25:
            ddb.batch_write_item(RequestItems={TABLE: batch})
            batch = []
    if batch:
        ddb.batch_write_item(RequestItems={TABLE: batch})


def measure(count: int, use_moto: bool) -> dict:
    with mock_aws():
        s3 = SESSION.client("s3", config=CLIENT_CONFIG)
        s3.create_bucket(Bucket=BUCKET)
        standin = None
        if use_moto:
            ddb = SESSION.client("dynamodb", config=CLIENT_CONFIG)
            moto_table(ddb, count)
        else:
            # An endpoint moto does not claim, so that only the stand-in answers.
            ddb = SESSION.client("dynamodb", endpoint_url="https://dynamodb.standin.invalid",
                                 config=CLIENT_CONFIG)
            standin = TransactionsStandIn(TABLE, ARCHIVABLE_INDEX, ARCHIVE_SHARD, "created_key")
            for item in items(count):
                standin.put(item)
            standin.ready()
            standin.install(ddb)
        s3_calls: dict[str, int] = {}
        s3.meta.events.register("before-call.s3.*", lambda model, **_: s3_calls.__setitem__(
            model.name, s3_calls.get(model.name, 0) + 1))
        service = ArchivalService(ArchivableTransactions(ddb, TABLE), ArchiveBucket(s3, BUCKET),
                                  ArchiveLease(s3, BUCKET), clock=lambda: NOW, after_days=30)
        tracemalloc.start()
        started = time.perf_counter()
        report = service.run(lambda: 900_000)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert report.complete and report.archived == count, report
    if standin is not None:
        assert standin.items_returned == report.items_read, "the job's count is DynamoDB's count"
    puts = s3_calls.get("PutObject", 0)
    return {"items": count, "read_per_archived": report.items_read / report.archived,
            "parts": report.parts, "puts": puts, "puts_per_10k": puts * 10_000 / count,
            "s3_calls": dict(sorted(s3_calls.items())), "bytes": report.bytes,
            "peak_mib": peak / 2**20, "seconds": elapsed}


def fast_moto_query_responses() -> None:
    """moto 5.2.5 encodes responses with a generic serializer costing ~9 ms per item of a
    Query page; a Query result is already wire JSON, so encode it directly (--moto only)."""
    from moto.dynamodb.responses import DynamoHandler

    generic = DynamoHandler.serialized

    def serialized(self, action_result):  # type: ignore[no-untyped-def]
        if isinstance(action_result.result, dict) and self._get_action() == "Query":
            return 200, {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}, \
                json.dumps(action_result.result)
        return generic(self, action_result)

    DynamoHandler.serialized = serialized


def main(argv: list[str]) -> None:
    import argparse
    import logging

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moto", action="store_true", help="DynamoDB on moto too (slow)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="two item counts")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    use_moto = args.moto
    logging.getLogger("payment_webhooks").setLevel(logging.WARNING)  # no per-part log lines
    if use_moto:
        fast_moto_query_responses()
    measure(WARM_UP, use_moto)  # imports and botocore's lazily loaded data, not the job's memory
    results = [measure(count, use_moto) for count in sizes]
    print(f"archival: {DAYS} creation days x {len(PROVIDERS)} providers, +{RECENT} recent transactions "
          f"(never read); production part cap; DynamoDB: {'moto' if use_moto else 'stand-in'}, S3: moto")
    print(f"{'items':>8} {'read/archived':>14} {'parts':>6} {'S3 PUTs':>8} {'PUTs/10k':>9} "
          f"{'archive':>9} {'peak MiB':>9} {'seconds':>8}")
    for r in results:
        print(f"{r['items']:>8} {r['read_per_archived']:>14.3f} {r['parts']:>6} {r['puts']:>8} "
              f"{r['puts_per_10k']:>9.1f} {r['bytes'] / 2**20:>8.2f}M {r['peak_mib']:>9.2f} {r['seconds']:>8.1f}")
    small, large = results
    print(f"S3 calls at {large['items']}: {large['s3_calls']}")
    print(f"items read per item archived: {max(r['read_per_archived'] for r in results):.3f} (target 1.0); "
          f"peak memory {large['items']} / {small['items']}: {large['peak_mib'] / small['peak_mib']:.2f}x "
          f"(target within 1.2x)")


if __name__ == "__main__":
    main(sys.argv[1:])
