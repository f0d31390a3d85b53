"""Archival benchmark: items read per item archived, S3 PUTs per 10,000 items, and peak
traced memory of a run over 10,000 and over 50,000 archivable transactions, side by side.

DynamoDB and S3 are the project's emulator (local/emulator.py, moto's server) in a child
process, with infra/resources.json deployed into it by local/provision.py, and reached
through boto3 exactly as the app reaches AWS. The data lives in that other process, so
tracemalloc here measures only the job's own memory. The job runs with its production
settings (part cap, page size, replacement workers) and the app's client config.

Each size gets a freshly reset and provisioned emulator, loaded with `batch_write_item`
(25 items a call, as AWS allows) in the shape the app stores (`to_item` on transactions
merged from three events each), all created long enough ago to be archived, plus 1,000
recent transactions that must not be read. Memory is traced from just before the run,
after loading and a warm-up run. Items read are counted by DynamoDB's answers to the job's
client (botocore `after-call` hooks on Query and BatchGetItem) and checked against the
job's own count; S3 calls by `before-call` hooks on its S3 client.

Speed: moto 5.2.5 encodes Query responses at ~9 ms per item, which would add about 9
minutes for 10k + 50k. By default the emulator is therefore started through
benchmarks/support/fast_emulator.py, a benchmark-only launcher that makes moto's reads
cheap (it changes how moto encodes, sizes and projects items, not which items it answers;
the `archivable` index projects ALL, so its pages are moto's own);
`--plain-emulator` runs `python -m local.emulator` unchanged. `--sizes 2000,4000` measures
other sizes.

    python benchmarks/archival.py [--plain-emulator] [--sizes N,M]       # or: make bench
"""
from __future__ import annotations

import sys
import threading
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]

from benchmarks.support.emulator import use_emulator_credentials  # noqa: E402

use_emulator_credentials()

from benchmarks.support import emulator  # noqa: E402
from chalicelib.domain.events import CanonicalEvent, PaymentFacts  # noqa: E402
from chalicelib.domain.status import Status  # noqa: E402
from chalicelib.domain.transaction import Transaction, merge_event  # noqa: E402
from chalicelib.services.archive.run import ArchivalService  # noqa: E402
from chalicelib.storage.archive.archivable import ArchivableTransactions  # noqa: E402
from chalicelib.storage.archive.bucket import ArchiveBucket  # noqa: E402
from chalicelib.storage.archive.lease import ArchiveLease  # noqa: E402
from chalicelib.storage.codec import to_attributes  # noqa: E402
from chalicelib.storage.transaction_items import to_item  # noqa: E402
from local.emulator_process import EmulatorProcess  # noqa: E402

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
PROVIDERS = ("stripe", "adyen")
DAYS = 2  # archivable creation days: a nightly backlog of a busy day or two
RECENT = 1_000
SIZES = (10_000, 50_000)
WARM_UP = 500
STEPS = (("payment.pending", Status.PENDING, {}), ("payment.succeeded", Status.SUCCEEDED, {}),
         ("payment.partially_refunded", Status.PARTIALLY_REFUNDED, {"amount_refunded": 500}))
"""A realistic transaction: pending, succeeded, partially refunded (three events)."""


def transaction(n: int, count: int) -> Transaction:
    """The n-th transaction of a dataset: `count` archivable ones over DAYS days and both
    providers, then RECENT recent ones; ids and amounts vary so that parts compress like
    real data, not like copies."""
    provider = PROVIDERS[n % len(PROVIDERS)]
    age = timedelta(days=35 + (n // len(PROVIDERS)) % DAYS) if n < count else timedelta(days=1)
    created = NOW - age - timedelta(seconds=n)
    payment_id = f"pi_{(n * 2654435761) % 10**12:012d}{n:06d}"
    facts = dict(amount=1000 + (n * 37) % 90000, currency="EUR", merchant_id="acct_1NqXJf2eZvKYlo2C",
                 customer_id=f"cus_{(n * 7919) % 10**8:08d}", payment_method="card", created_at=created)
    txn = None
    for k, (kind, status, extra) in enumerate(STEPS):
        occurred = created + timedelta(seconds=7 * k + n % 5)
        event = CanonicalEvent(
            provider=provider, event_id=f"evt_{(n * 40503 + k) % 10**10:010d}{n:06d}{k}", type=kind,
            occurred_at=occurred, payment_id=payment_id, status=status,
            facts=PaymentFacts(**facts, **extra),
        )
        txn = merge_event(txn, event, occurred + timedelta(seconds=1)).transaction
    assert txn is not None
    return txn


def stored_items(count: int):  # type: ignore[no-untyped-def]
    """Every transaction as the app stores it."""
    for n in range(count + RECENT):
        yield to_attributes(to_item(transaction(n, count)))


def counter(calls: dict[str, int]):
    """Counts calls by operation; the job's replacements call from several threads."""
    lock = threading.Lock()

    def count(model, **_) -> None:  # type: ignore[no-untyped-def]
        with lock:
            calls[model.name] = calls.get(model.name, 0) + 1
    return count


def measure(process: EmulatorProcess, count: int) -> dict:
    url = process.endpoint_url
    outputs = emulator.fresh_stage(url)
    table, bucket = outputs["TransactionsTableName"], outputs["ArchiveBucketName"]
    ddb, s3 = emulator.client("dynamodb", url), emulator.client("s3", url)
    started = time.perf_counter()
    emulator.load_items(ddb, table, stored_items(count))
    load_seconds = time.perf_counter() - started

    s3_calls: dict[str, int] = {}
    ddb_calls: dict[str, int] = {}
    returned = [0]

    def items_returned(model, parsed, **_) -> None:  # type: ignore[no-untyped-def]
        if model.name == "Query":
            returned[0] += len(parsed.get("Items", ()))
        elif model.name == "BatchGetItem":
            returned[0] += sum(len(items) for items in parsed.get("Responses", {}).values())

    s3.meta.events.register("before-call.s3.*", counter(s3_calls))
    ddb.meta.events.register("before-call.dynamodb.*", counter(ddb_calls))
    ddb.meta.events.register("after-call.dynamodb.*", items_returned)
    service = ArchivalService(ArchivableTransactions(ddb, table), ArchiveBucket(s3, bucket),
                              ArchiveLease(s3, bucket), clock=lambda: NOW, after_days=30)
    tracemalloc.start()
    started = time.perf_counter()
    report = service.run(lambda: 900_000)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if not (report.complete and report.archived == count):
        print(f"WARNING at {count}: not every transaction was archived: {report}", flush=True)
    assert returned[0] == report.items_read, ("DynamoDB's count is the job's count", returned[0], report)
    puts = s3_calls.get("PutObject", 0)
    return {"items": count, "read_per_archived": returned[0] / report.archived,
            "parts": report.parts, "puts": puts, "puts_per_10k": puts * 10_000 / count,
            "s3_calls": dict(sorted(s3_calls.items())), "ddb_calls": dict(sorted(ddb_calls.items())),
            "bytes": report.bytes, "peak_mib": peak / 2**20, "seconds": elapsed,
            "load_seconds": load_seconds}


def main(argv: list[str]) -> None:
    import argparse
    import logging

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain-emulator", action="store_true",
                        help="python -m local.emulator as is (Query responses ~9 ms an item slower)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="two item counts")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    logging.getLogger("payment_webhooks").setLevel(logging.WARNING)  # no per-part log lines
    total = time.perf_counter()
    with emulator.start_emulator(plain=args.plain_emulator) as process:
        measure(process, WARM_UP)  # imports and botocore's lazily loaded data, not the job's memory
        results = []
        for count in sizes:  # each row as soon as it is measured
            results.append(measure(process, count))
            print(f"measured {count}: {results[-1]}", file=sys.stderr, flush=True)
    total = time.perf_counter() - total
    print(f"archival: {DAYS} creation days x {len(PROVIDERS)} providers, +{RECENT} recent transactions "
          f"(never read); production part cap; DynamoDB and S3: local emulator (moto server, "
          f"{'plain' if args.plain_emulator else 'cheap reads'}) in a child process")
    print(f"{'items':>8} {'read/archived':>14} {'parts':>6} {'S3 PUTs':>8} {'PUTs/10k':>9} "
          f"{'archive':>9} {'peak MiB':>9} {'seconds':>8}")
    for r in results:
        print(f"{r['items']:>8} {r['read_per_archived']:>14.3f} {r['parts']:>6} {r['puts']:>8} "
              f"{r['puts_per_10k']:>9.1f} {r['bytes'] / 2**20:>8.2f}M {r['peak_mib']:>9.2f} {r['seconds']:>8.1f}")
    small, large = results
    print(f"S3 calls at {large['items']}: {large['s3_calls']}")
    print(f"DynamoDB calls at {large['items']}: {large['ddb_calls']}")
    print(f"items read per item archived: {max(r['read_per_archived'] for r in results):.3f} (target 1.0); "
          f"S3 PUTs per 10k: {large['puts_per_10k']:.1f} at {large['items']}, {small['puts_per_10k']:.1f} "
          f"at {small['items']}; peak memory {small['items']}: {small['peak_mib']:.2f} MiB, "
          f"{large['items']}: {large['peak_mib']:.2f} MiB, ratio {large['peak_mib'] / small['peak_mib']:.2f}x "
          f"(target within 1.2x)")
    print(f"total {total:.0f} s (loading {sum(r['load_seconds'] for r in results):.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
