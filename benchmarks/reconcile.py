"""Reconciliation benchmark: records reconciled per second, DynamoDB requests per record
and peak traced memory, for exports of 10,000 and 100,000 records side by side; then peak
memory of a 200,000-line export with DynamoDB stubbed.

DynamoDB is moto in this process (`mock_aws`, as benchmarks/ingest.py uses it), with
infra/resources.json deployed into it by local/provision.py and reached through boto3 with
the app's client settings: loading 100,000 items into the emulator's server over HTTP takes
hours on the shared 2-core machine (about 60 ms an item under load), so each size gets a
fresh `mock_aws` stage loaded through moto's own backend (its `put_item`, indexes and
stream included), in the shape the app stores (`to_item` of transactions merged from two
events each), over two providers and two creation days, plus 1,000 transactions of another
day that the export does not cover (never read). The loaded items were allocated before
tracing starts, so the peak counts what the reconciliation allocates, moto's answers to it
included. The export
is a CSV file on disk: every stored transaction of those days, with one record in a
thousand carrying another amount (mismatched), one in a thousand that is not stored
(missing), and one stored transaction in a thousand left out of it (extra).

Each size is reconciled twice: once untraced (records/s and requests, counted by a botocore
`before-call` hook on the service's client and checked against the repository's own
count) and once under tracemalloc (peak memory). moto's request handling is in the figures: records/s is a floor, bound by
moto's cost per BatchGetItem key, not by the service.

The 200,000-line export is reconciled through the same service and repository against a
botocore stub that answers every key as stored and matching (tests/support/reconciliation.py),
at 20,000 and 200,000 lines, to show memory flat at that length without an emulator run
of that size.

    python benchmarks/reconcile.py [--sizes N,M]       # or: make bench
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(Path(__file__).resolve().parent)]
os.environ.pop("AWS_ENDPOINT_URL", None)  # every client here names the emulator's endpoint
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
})

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.dynamodb.models import dynamodb_backends  # noqa: E402

from benchmarks.support.fast_emulator import fast_query_responses  # noqa: E402

from chalicelib.domain.events import CanonicalEvent, PaymentFacts  # noqa: E402
from chalicelib.domain.status import Status  # noqa: E402
from chalicelib.domain.timestamps import format_iso  # noqa: E402
from chalicelib.domain.transaction import Transaction, merge_event  # noqa: E402
from chalicelib.services.reconcile.run import ReconciliationService  # noqa: E402
from chalicelib.storage.codec import to_attributes  # noqa: E402
from chalicelib.storage.reconciliation.payments import ReconciledPayments  # noqa: E402
from chalicelib.storage.transaction_items import to_item  # noqa: E402
from local import provision  # noqa: E402
from tests.support.reconciliation import matching_export, stubbed_dynamodb  # noqa: E402

STAGE = "local"
SECRETS_FILE = REPO_ROOT / "local" / "secrets.json"
DAY = datetime(2026, 11, 20, tzinfo=timezone.utc)
PROVIDERS = ("stripe", "adyen")
DAYS = 2
UNCOVERED = 1_000
SIZES = (10_000, 100_000)
STUBBED_SIZES = (10_000, 100_000, 200_000)
WARM_UP = 300
BATCH = 25
EVERY = 1_000  # one planted difference of each kind per this many records
SESSION = boto3.session.Session()
CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2,
                       read_timeout=5, tcp_keepalive=True, parameter_validation=False)
"""As chalicelib/wiring.aws_client builds the app's clients."""


def transaction(n: int, day_offset: int | None = None) -> Transaction:
    provider = PROVIDERS[n % len(PROVIDERS)]
    offset = (n // len(PROVIDERS)) % DAYS if day_offset is None else day_offset
    created = DAY + timedelta(days=offset, seconds=n % 86_000)
    payment_id = f"pi_{(n * 2654435761) % 10**12:012d}{n:07d}"
    txn = None
    for k, status in enumerate((Status.PENDING, Status.SUCCEEDED)):
        occurred = created + timedelta(seconds=5 * k)
        event = CanonicalEvent(
            provider=provider, event_id=f"evt_{n:07d}{k}", type=f"payment.{status.value}",
            occurred_at=occurred, payment_id=payment_id, status=status,
            facts=PaymentFacts(amount=1000 + (n * 37) % 90000, currency="EUR", merchant_id="acct_1",
                               customer_id=f"cus_{n % 5000}", payment_method="card", created_at=created),
        )
        txn = merge_event(txn, event, occurred + timedelta(seconds=1)).transaction
    assert txn is not None
    return txn


def load(table: str, count: int) -> None:
    """Straight into moto's backend: setup, not what is measured."""
    backend = dynamodb_backends[provision.LOCAL_ACCOUNT_ID if hasattr(provision, "LOCAL_ACCOUNT_ID")
                                else "123456789012"]["us-east-1"]
    stored = (transaction(n) for n in range(count) if n % EVERY != 1)  # one in a thousand: missing
    uncovered = (transaction(count + n, day_offset=DAYS + 3) for n in range(UNCOVERED))
    for txn in (*stored, *uncovered):
        backend.put_item(table, to_attributes(to_item(txn)))


def write_export(path: Path, count: int) -> None:
    """Every record of the dataset, but one in a thousand left out (extra) and one in a
    thousand with another amount (mismatched)."""
    with path.open("w", encoding="utf-8") as out:
        out.write("provider,id,amount,currency,status,created_at,merchant_id\n")
        for n in range(count):
            if n % EVERY == 2:
                continue
            txn = transaction(n)
            amount = txn.amount + 1 if n % EVERY == 3 else txn.amount
            out.write(f"{txn.provider},{txn.id},{amount},{txn.currency},{txn.status.value},"
                      f"{format_iso(txn.created_at)},{txn.merchant_id}\n")


def reconcile(ddb, table: str, path: Path, traced: bool) -> dict:
    calls: dict[str, int] = {}
    counting = lambda model, **_: calls.__setitem__(model.name, calls.get(model.name, 0) + 1)  # noqa: E731
    ddb.meta.events.register("before-call.dynamodb.*", counting, unique_id="reconcile-count")
    payments = ReconciledPayments(ddb, table)
    service = ReconciliationService(payments, PROVIDERS)
    try:
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        with path.open("rb") as handle:
            report = service.reconcile(str(path), handle)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
    finally:
        if traced:
            tracemalloc.stop()
        ddb.meta.events.unregister("before-call.dynamodb.*", unique_id="reconcile-count")
    assert sum(calls.values()) == payments.requests, (calls, payments.requests)
    return {"report": report, "seconds": elapsed, "calls": calls, "peak_mib": peak / 2**20}


def measure(count: int, workdir: Path) -> dict:
    with mock_aws():
        table = provision.provision(None, STAGE, SECRETS_FILE)["TransactionsTableName"]  # type: ignore[arg-type]
        ddb = SESSION.client("dynamodb", config=CLIENT_CONFIG)
        started = time.perf_counter()
        load(table, count)
        load_seconds = time.perf_counter() - started
        path = workdir / f"export-{count}.csv"
        write_export(path, count)
        fast = reconcile(ddb, table, path, traced=False)
    report = fast["report"]
    requests = sum(fast["calls"].values())
    return {"records": report.checked, "counts": report.counts(), "seconds": fast["seconds"],
            "per_second": report.checked / fast["seconds"], "requests": requests,
            "per_record": requests / report.checked, "calls": fast["calls"], "load_seconds": load_seconds, "bytes": path.stat().st_size}


def stubbed(count: int) -> dict:
    """The service alone: records/s untraced, then peak memory traced, DynamoDB stubbed."""
    service = ReconciliationService(ReconciledPayments(stubbed_dynamodb(), "transactions"), ("generic",))
    started = time.perf_counter()
    assert service.reconcile("stubbed", matching_export(count)).matched == count
    per_second = count / (time.perf_counter() - started)
    tracemalloc.start()
    try:
        report = service.reconcile("stubbed", matching_export(count))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.matched == count
    return {"records": count, "per_second": per_second, "peak_mib": peak / 2**20}


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="record counts reconciled against moto")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size]
    fast_query_responses()
    total = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        measure(WARM_UP, Path(tmp))  # imports and botocore's lazily loaded data
        results = []
        for count in sizes:
            results.append(measure(count, Path(tmp)))
            print(f"measured {count}: {results[-1]}", file=sys.stderr, flush=True)
    stubbed(WARM_UP)
    service_alone = []
    for count in STUBBED_SIZES:
        service_alone.append(stubbed(count))
        print(f"measured stubbed {count}: {service_alone[-1]}", file=sys.stderr, flush=True)
    total = time.perf_counter() - total
    print(f"reconciliation against moto (in-process, mock_aws): CSV export over {len(PROVIDERS)} providers x {DAYS} "
          f"creation days, one record in {EVERY} of each planted difference, +{UNCOVERED} stored transactions "
          f"of a day it does not cover")
    print(f"{'records':>8} {'export':>8} {'records/s':>10} {'requests':>9} {'req/record':>11} {'seconds':>8}  report counts")
    for r in results:
        print(f"{r['records']:>8} {r['bytes'] / 1e6:>7.2f}M {r['per_second']:>10.0f} {r['requests']:>9} "
              f"{r['per_record']:>11.4f} {r['seconds']:>8.1f}  {r['counts']}")
    print(f"DynamoDB calls at {results[-1]['records']}: {dict(sorted(results[-1]['calls'].items()))}; "
          f"requests per record: {max(r['per_record'] for r in results):.4f} (target <= 0.011)")
    print("the same service, repository and botocore client, DynamoDB answered by a stub (every key stored and matching):")
    print(f"{'records':>8} {'records/s':>10} {'peak MiB':>9}")
    for r in service_alone:
        print(f"{r['records']:>8} {r['per_second']:>10.0f} {r['peak_mib']:>9.2f}")
    first = service_alone[0]
    print("peak memory ratio to " + f"{first['records']:,}: " + ", ".join(
        f"{r['records']:,} {r['peak_mib'] / first['peak_mib']:.2f}x" for r in service_alone[1:]) + " (target within 1.2x)")
    print(f"total {total:.0f} s (loading moto {sum(r['load_seconds'] for r in results):.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
