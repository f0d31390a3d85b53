"""Reconciliation benchmark: records reconciled per second, DynamoDB requests per record
and peak traced memory, for exports of 10,000 and 100,000 records side by side, against
the project's emulator; then the reading of a 200,000-line export beside a 20,000-line one.

DynamoDB is the project's emulator (local/emulator.py, moto's server) in a child process,
started through benchmarks/support/fast_emulator.py, which makes moto's reads cheap where
they cost far more than DynamoDB's (projection of whole items, generic JSON encoding) and
cuts index pages where DynamoDB cuts them (1 MB of index entries, not of whole items); it
changes no item of any answer. The emulator's own cost per request is printed beside ours
(time inside DynamoDB calls against time outside them), and `--plain-emulator` runs the
unmodified emulator (index pages then end at 1 MB of whole items: more Query requests).

The store is loaded once, 25 items to a BatchWriteItem, in the shape the app stores
(`to_item` of transactions merged from two events each), over two providers, and reused
by every size: the first 10,000 records are created over two days, the next 90,000 over
two later days, so the 10,000-record export covers only its own days and never reads the
others' index entries (nor the 1,000 transactions of a day no export covers). Each export
is a CSV file on disk of every record up to its size, with one record in a thousand
carrying another amount (mismatched), one in a thousand that is not stored (missing), and
one stored transaction in a thousand left out of it (extra).

Each size is reconciled twice with the same service, repository and app-configured client:
untraced (records/s, requests counted by a botocore `before-call` hook and checked against
the repository's own count, seconds inside DynamoDB calls by `before-call`/`after-call`),
then under tracemalloc (peak of Python allocations in this process, the same method at
every size). SQLite's page cache (the export's keys on disk) is allocated by SQLite, not
Python, so tracemalloc does not see it: it is bounded by SQLite's `cache_size`, not by the
export.

The long tier is the part of a run whose work grows with the export's length and needs
no store: the streamed parse and normalisation of every line (the domain rules of
webhooks) and the on-disk key store, fed 100 records at a time as the service feeds them,
traced the same way (the suite checks the whole path at 1,000 and 10,000 lines:
tests/unit/services/reconcile/test_flat_memory.py).

    python benchmarks/reconcile.py [--sizes N,M] [--export-lines N,M] [--plain-emulator]   # or: make bench
"""
from __future__ import annotations

import sys
import tempfile
from itertools import islice
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]

from benchmarks.support.emulator import use_emulator_credentials  # noqa: E402

use_emulator_credentials()

from benchmarks.support import emulator  # noqa: E402
from chalicelib.domain.events import CanonicalEvent, PaymentFacts  # noqa: E402
from chalicelib.domain.ledger_export import read_export  # noqa: E402
from chalicelib.domain.status import Status  # noqa: E402
from chalicelib.domain.timestamps import format_iso  # noqa: E402
from chalicelib.domain.transaction import Transaction, merge_event  # noqa: E402
from chalicelib.services.reconcile.export_keys import ExportKeys  # noqa: E402
from chalicelib.services.reconcile.run import ReconciliationService  # noqa: E402
from chalicelib.storage.codec import to_attributes  # noqa: E402
from chalicelib.storage.reconciliation.payments import ReconciledPayments  # noqa: E402
from chalicelib.storage.transaction_items import to_item  # noqa: E402
from tests.support.reconciliation import matching_export  # noqa: E402

DAY = datetime(2026, 11, 20, tzinfo=timezone.utc)
PROVIDERS = ("stripe", "adyen")
DAYS_PER_TIER = 2
UNCOVERED = 1_000
SIZES = (10_000, 100_000)
EXPORT_LINES = (20_000, 200_000)
WARM_UP = 300
EVERY = 1_000  # one planted difference of each kind per this many records
MISSING, EXTRA, MISMATCHED = 1, 2, 3  # n % EVERY


class Dataset:
    """Record n of the data: its provider alternates; its creation day is one of the two
    days of its size tier (records below the first size, then below the second, ...)."""

    def __init__(self, sizes: list[int]) -> None:
        self.sizes = sorted(sizes)

    def day_offset(self, n: int) -> int:
        tier = next(i for i, size in enumerate(self.sizes) if n < size)
        return tier * DAYS_PER_TIER + (n // len(PROVIDERS)) % DAYS_PER_TIER

    def uncovered_offset(self) -> int:
        return len(self.sizes) * DAYS_PER_TIER + 3

    def transaction(self, n: int, day_offset: int | None = None) -> Transaction:
        provider = PROVIDERS[n % len(PROVIDERS)]
        offset = self.day_offset(n) if day_offset is None else day_offset
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

    def stored_items(self):  # type: ignore[no-untyped-def]
        largest = self.sizes[-1]
        for n in range(largest):
            if n % EVERY != MISSING:
                yield to_attributes(to_item(self.transaction(n)))
        for n in range(UNCOVERED):
            yield to_attributes(to_item(self.transaction(largest + n, self.uncovered_offset())))

    def write_export(self, path: Path, count: int) -> None:
        with path.open("w", encoding="utf-8") as out:
            out.write("provider,id,amount,currency,status,created_at,merchant_id\n")
            for n in range(count):
                if n % EVERY == EXTRA:
                    continue
                txn = self.transaction(n)
                amount = txn.amount + 1 if n % EVERY == MISMATCHED else txn.amount
                out.write(f"{txn.provider},{txn.id},{amount},{txn.currency},{txn.status.value},"
                          f"{format_iso(txn.created_at)},{txn.merchant_id}\n")


def reconcile(ddb, table: str, path: Path, traced: bool) -> dict:  # type: ignore[no-untyped-def]
    calls: dict[str, int] = {}
    inside = [0.0, 0.0]  # seconds inside DynamoDB calls, start of the current one

    def before(model, **_) -> None:  # type: ignore[no-untyped-def]
        calls[model.name] = calls.get(model.name, 0) + 1
        inside[1] = time.perf_counter()

    def after(**_) -> None:  # type: ignore[no-untyped-def]
        inside[0] += time.perf_counter() - inside[1]

    ddb.meta.events.register("before-call.dynamodb.*", before, unique_id="reconcile-before")
    ddb.meta.events.register("after-call.dynamodb.*", after, unique_id="reconcile-after")
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
        ddb.meta.events.unregister("before-call.dynamodb.*", unique_id="reconcile-before")
        ddb.meta.events.unregister("after-call.dynamodb.*", unique_id="reconcile-after")
    assert sum(calls.values()) == payments.requests, (calls, payments.requests)
    return {"report": report, "seconds": elapsed, "dynamodb_seconds": inside[0], "calls": calls,
            "peak_mib": peak / 2**20}


def measure(ddb, table: str, data: Dataset, count: int, workdir: Path) -> dict:  # type: ignore[no-untyped-def]
    path = workdir / f"export-{count}.csv"
    data.write_export(path, count)
    fast = reconcile(ddb, table, path, traced=False)
    traced = reconcile(ddb, table, path, traced=True)
    report = fast["report"]
    assert report.counts() == traced["report"].counts()
    requests = sum(fast["calls"].values())
    ours = fast["seconds"] - fast["dynamodb_seconds"]
    return {"records": report.checked, "counts": report.counts(), "seconds": fast["seconds"],
            "per_second": report.checked / fast["seconds"], "dynamodb_seconds": fast["dynamodb_seconds"],
            "ours_per_second": report.checked / ours, "requests": requests, "per_record": requests / report.checked,
            "ms_per_request": 1000 * fast["dynamodb_seconds"] / requests, "calls": fast["calls"],
            "peak_mib": traced["peak_mib"], "bytes": path.stat().st_size}


def export_reading(count: int) -> dict:
    """Peak traced memory of reading `count` lines and keeping their keys."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with ExportKeys() as keys:
            records = (record for _line, record in read_export(matching_export(count), ("generic",)))
            while batch := list(islice(records, 100)):
                keys.add((r.provider, r.id, r.created_at.date()) for r in batch)
            assert ("generic", f"g-{count - 1:09d}") in keys and ("generic", f"g-{count:09d}") not in keys
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {"records": count, "seconds": time.perf_counter() - started, "peak_mib": peak / 2**20}


def ratios(rows: list[dict]) -> str:
    first = rows[0]
    return ", ".join(f"{r['records']:,} {r['peak_mib'] / first['peak_mib']:.2f}x" for r in rows[1:])


def against_emulator(data: Dataset, plain: bool) -> None:
    with emulator.start_emulator(plain=plain) as process, tempfile.TemporaryDirectory() as tmp:
        table = emulator.fresh_stage(process.endpoint_url)["TransactionsTableName"]
        ddb = emulator.client("dynamodb", process.endpoint_url)
        started = time.perf_counter()
        loaded = emulator.load_items(ddb, table, data.stored_items())
        load_seconds = time.perf_counter() - started
        print(f"loaded {loaded} transactions in {load_seconds:.0f} s", file=sys.stderr, flush=True)
        measure(ddb, table, data, WARM_UP, Path(tmp))  # imports and botocore's lazily loaded data
        results = []
        for count in data.sizes:
            results.append(measure(ddb, table, data, count, Path(tmp)))
            print(f"measured {count}: {results[-1]}", file=sys.stderr, flush=True)
    print(f"reconciliation against the local emulator ({'plain' if plain else 'cheap reads'}, child process): "
          f"CSV export over {len(PROVIDERS)} providers x {DAYS_PER_TIER} creation days a size, one record in "
          f"{EVERY} of each planted difference; {loaded} stored transactions ({UNCOVERED} of a day no export "
          f"covers), loaded once, 25 to a BatchWriteItem, in {load_seconds:.0f} s")
    print(f"{'records':>8} {'export':>8} {'records/s':>10} {'requests':>9} {'req/record':>11} {'seconds':>8} "
          f"{'in DynamoDB':>12} {'ms/request':>11} {'ours rec/s':>11} {'peak MiB':>9}  report counts")
    for r in results:
        print(f"{r['records']:>8} {r['bytes'] / 1e6:>7.2f}M {r['per_second']:>10.0f} {r['requests']:>9} "
              f"{r['per_record']:>11.4f} {r['seconds']:>8.1f} {r['dynamodb_seconds']:>11.1f}s "
              f"{r['ms_per_request']:>11.1f} {r['ours_per_second']:>11.0f} {r['peak_mib']:>9.2f}  {r['counts']}")
    for r in results:
        print(f"DynamoDB calls at {r['records']}: {dict(sorted(r['calls'].items()))}")
    print(f"requests per record: {max(r['per_record'] for r in results):.4f} (target <= 0.011); "
          f"peak memory ratio to {results[0]['records']:,}: {ratios(results)} (target within 1.2x)")


def long_exports(lines: list[int]) -> None:
    export_reading(WARM_UP)
    reading = [export_reading(count) for count in lines]
    print("reading an export alone (streamed parse and normalisation, keys to the on-disk store, 100 at a time):")
    print(f"{'lines':>8} {'seconds':>8} {'peak MiB':>9}")
    for r in reading:
        print(f"{r['records']:>8} {r['seconds']:>8.1f} {r['peak_mib']:>9.2f}")
    print(f"peak memory ratio to {reading[0]['records']:,}: {ratios(reading)} (target within 1.2x)")


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="record counts reconciled (empty: skip)")
    parser.add_argument("--export-lines", default=",".join(map(str, EXPORT_LINES)),
                        help="line counts of the reading tier (empty: skip)")
    parser.add_argument("--plain-emulator", action="store_true", help="python -m local.emulator as is")
    args = parser.parse_args(argv)
    total = time.perf_counter()
    sizes = [int(size) for size in args.sizes.split(",") if size]
    if sizes:
        against_emulator(Dataset(sizes), args.plain_emulator)
    lines = [int(count) for count in args.export_lines.split(",") if count]
    if lines:
        long_exports(lines)
    print(f"total {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
