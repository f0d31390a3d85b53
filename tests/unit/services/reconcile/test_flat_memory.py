"""Memory stays flat however long the export: the whole reconciliation path (streamed
reading, batched lookups through the real repository, the on-disk key store, the search
for extras) traced at two sizes ten times apart. DynamoDB is a botocore stub that answers
every key as stored and matching, so nothing but the service's own memory is measured;
benchmarks/reconcile.py measures the same against the emulator at 10k and 100k records,
and a 200,000-line export."""
from __future__ import annotations

import tracemalloc

from chalicelib.services.reconcile.run import ReconciliationService
from chalicelib.storage.reconciliation.payments import ReconciledPayments
from tests.support.reconciliation import matching_export, stubbed_dynamodb

def peak_bytes(count: int) -> int:
    service = ReconciliationService(ReconciledPayments(stubbed_dynamodb(), "transactions"), ("generic",))
    tracemalloc.start()
    try:
        report = service.reconcile("flat", matching_export(count))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (report.checked, report.matched, report.differs) == (count, count, False)
    return peak


# What 9,000 more records may add to the peak: a few hundredths of a MiB of noise at these
# sizes (botocore's in-flight requests, the allocator), while keeping anything per record
# in memory (its key alone is over 100 bytes) would add several times this.
BYTES_PER_EXTRA_RECORD = 20


def test_peak_memory_of_a_reconciliation_does_not_grow_with_the_export() -> None:
    peak_bytes(300)  # warm: imports, botocore's loaders and caches
    small, large = peak_bytes(1_000), peak_bytes(10_000)
    assert large - small <= BYTES_PER_EXTRA_RECORD * 9_000, \
        f"peak {small / 2**20:.2f} MiB at 1k, {large / 2**20:.2f} MiB at 10k"
