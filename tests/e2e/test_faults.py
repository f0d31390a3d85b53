"""Faults at every AWS call site the app has (docs/reliability.md).

Call sites are discovered, not listed by hand: botocore is instrumented
(tests/support/faults.py) while the real flows run (tests/support/payment_flows.py). Every
site discovered must have a row in CALL_SITES, and every row must still be discovered, so
new code that calls AWS fails here until its row (and with it its faults) is declared.

For each site, three faults are injected once each (throttling, a 500, a timeout whose
request was applied but whose answer was lost), and the flows must still keep every
promise: no webhook acknowledged without being stored, and the final transactions, daily
analytics and archive exactly those of a run without faults, after the retries providers,
Lambda and the schedule make. CI runs a representative subset (FAST); `make reliability`
(RELIABILITY=full) runs the whole table and prints it."""
from __future__ import annotations

import os
from functools import partial

import chalice.test
import pytest
from chalice.local import LambdaContext

from chalicelib import wiring
from tests.support import payment_flows
from tests.support.faults import FAULTS, CallSite, instrumented
from tests.support.in_process import trust_test_paypal
from tests.support.report import publish

INGEST, QUERIES, STREAM, ARCHIVAL = "ingest", "queries/replay", "analytics stream", "archival"
STORAGE = "chalicelib/storage/"
CALL_SITES: dict[CallSite, str] = {
    CallSite("secretsmanager", "GetSecretValue", STORAGE + "secrets.py::_fetch"): INGEST,
    CallSite("dynamodb", "TransactWriteItems", STORAGE + "ledger.py::_transact"): INGEST,
    CallSite("dynamodb", "GetItem", STORAGE + "events.py::get"): QUERIES,
    CallSite("dynamodb", "GetItem", STORAGE + "transactions.py::get"): QUERIES,
    CallSite("dynamodb", "Query", STORAGE + "transactions.py::list_by"): QUERIES,
    CallSite("secretsmanager", "GetSecretValue", STORAGE + "cursor_keys.py::_value"): QUERIES,
    CallSite("dynamodb", "GetItem", STORAGE + "analytics.py::mark"): STREAM,
    CallSite("dynamodb", "UpdateItem", STORAGE + "analytics.py::_add"): STREAM,
    CallSite("dynamodb", "Query", STORAGE + "archive/archivable.py::_shard"): ARCHIVAL,
    CallSite("dynamodb", "UpdateItem", STORAGE + "archive/archivable.py::replace_with_archived"): ARCHIVAL,
    CallSite("s3", "GetObject", STORAGE + "archive/lease.py::_current"): ARCHIVAL,
    CallSite("s3", "PutObject", STORAGE + "archive/lease.py::_put"): ARCHIVAL,
    CallSite("s3", "DeleteObject", STORAGE + "archive/lease.py::release"): ARCHIVAL,
    CallSite("s3", "ListObjectsV2", STORAGE + "archive/bucket.py::<listcomp>"): ARCHIVAL,
    CallSite("s3", "PutObject", STORAGE + "archive/bucket.py::_put"): ARCHIVAL,
    CallSite("s3", "GetObject", STORAGE + "archive/bucket.py::read_part"): ARCHIVAL,
    CallSite("s3", "GetObject", STORAGE + "archive/bucket.py::manifest"): ARCHIVAL,
}
"""Every AWS call site of the app -> the flow that reaches it."""

FAST: set[tuple[CallSite, str]] = {
    (CallSite("dynamodb", "TransactWriteItems", STORAGE + "ledger.py::_transact"), "timeout"),
    (CallSite("dynamodb", "UpdateItem", STORAGE + "analytics.py::_add"), "timeout"),
}
"""The subset CI runs: the webhook's write and the analytics write, each with the ambiguous
timeout (applied, answer lost); the archive's writes and every other cell run in the full
table."""

KNOWN: dict[tuple[CallSite, str], str] = {
    (CallSite("s3", "PutObject", STORAGE + "archive/lease.py::_put"), "timeout"):
        "the lease is written but its answer lost: the run gives up and its reruns find the lease "
        "held until it expires, so the archive is delayed (nothing lost or doubled; docs/reliability.md)",
}
"""Cells that differ today, each a finding documented in docs/reliability.md: strict xfail,
so a fix makes the cell pass and the entry must go."""

FULL = os.environ.get("RELIABILITY") == "full"
OUTCOMES: dict[tuple[CallSite, str], str] = {}
REFERENCE: dict[str, object] = {}


@pytest.fixture(autouse=True)
def lambda_timeout(monkeypatch) -> None:
    """The test client's Lambda context allows 3 s; the deployed functions have far more."""
    monkeypatch.setattr(chalice.test, "LambdaContext", partial(LambdaContext, max_runtime_ms=900_000))


@pytest.fixture
def stage(client, aws, emulator):
    trust_test_paypal(aws.client("secretsmanager"), aws.env["WEBHOOK_SECRETS_ID"])

    def fresh() -> None:
        emulator.fresh_state()
        trust_test_paypal(aws.client("secretsmanager"), aws.env["WEBHOOK_SECRETS_ID"])

    return client, fresh


def reference(client, aws, fresh) -> dict:
    """The snapshot of a run without faults (once per test process)."""
    if "snapshot" not in REFERENCE:
        payment_flows.run_all(client, aws)
        REFERENCE["snapshot"] = payment_flows.snapshot(client, aws)
        fresh()
    return REFERENCE["snapshot"]  # type: ignore[return-value]


def test_every_aws_call_site_the_flows_reach_is_declared_and_every_declared_one_is_reached(stage, aws) -> None:
    client, _ = stage
    with instrumented() as instrument:
        payment_flows.run_all(client, aws)
    found = set(instrument.calls)
    REFERENCE.setdefault("snapshot", payment_flows.snapshot(client, aws))
    undeclared = sorted(map(str, found - set(CALL_SITES)))
    unreached = sorted(map(str, set(CALL_SITES) - found))
    publish("AWS call sites reached by the flows", "\n".join(
        f"{instrument.calls[site]:>5}  {site}" for site in sorted(found)))
    assert undeclared == [], "call sites without a row in CALL_SITES:\n" + "\n".join(undeclared)
    assert unreached == [], "rows of CALL_SITES no flow reaches:\n" + "\n".join(unreached)
    snapshot = REFERENCE["snapshot"]
    assert len(snapshot["transactions"]) >= 5 and snapshot["archive"] and any(r["days"] for r in snapshot["analytics"])


CASES = [pytest.param(site, fault, id=f"{site}-{fault}", marks=[pytest.mark.xfail(
              reason=KNOWN[(site, fault)], strict=True)] if (site, fault) in KNOWN else [])
         for site in CALL_SITES for fault in FAULTS if FULL or (site, fault) in FAST]


@pytest.mark.parametrize("site, fault", CASES)
def test_a_fault_at_a_call_site_loses_doubles_and_misstates_nothing_after_retries(stage, aws, site, fault) -> None:
    client, fresh = stage
    expected = reference(client, aws, fresh)
    wiring.reset()
    with instrumented() as instrument:
        instrument.arm(site, fault)
        try:
            payment_flows.run_all(client, aws)
        except payment_flows.FlowFailure as broken:
            OUTCOMES[(site, fault)] = f"FAIL: {broken}"[:60]
            raise
        injected = instrument.injected
    instrument.disarm()
    after = payment_flows.snapshot(client, aws)
    exact = after == expected
    OUTCOMES[(site, fault)] = ("exact" if exact else "DIFFERS") + ("" if injected else " (not reached)")
    assert injected == 1, f"{site} was not reached with the fault armed"
    assert after == expected


def test_zz_print_the_fault_table() -> None:
    """Last in the module: the table of what ran in this process (the whole of it under
    `make reliability`, which runs this module on one worker)."""
    if not OUTCOMES:
        pytest.skip("no fault case ran in this process")
    lines = [f"{'call site':<90}" + "".join(f"{fault:<12}" for fault in FAULTS)]
    for site in sorted({site for site, _ in OUTCOMES}):
        lines.append(f"{str(site):<90}" + "".join(f"{OUTCOMES.get((site, f), '-'):<12}" for f in FAULTS))
    publish("faults: call sites x faults (exact = final state equal to a run without faults)", "\n".join(lines))
