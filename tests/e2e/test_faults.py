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

import json
import os
from functools import partial
from pathlib import Path

import chalice.test
import pytest
from chalice.local import LambdaContext

from chalicelib import wiring
from tests.support import payment_flows
from tests.support.faults import FAULTS, CallSite, instrumented
from tests.support.in_process import trust_test_paypal
from tests.support.report import publish

INGEST, QUERIES, STREAM, ARCHIVAL = "ingest", "queries/replay", "analytics stream", "archival"
FEED, RISK, ALERTS, RECONCILIATION = "change feed", "risk", "payment alerts", "reconciliation"
BACKFILL, DEAD_LETTERS = "provider sync/backfill", "dead letters (watch, redrive)"
STORAGE = "chalicelib/storage/"
EXPORTS, DLQ = STORAGE + "reconciliation/exports.py::", STORAGE + "dead_letters.py::"
CALL_SITES: dict[CallSite, str] = {
    CallSite("secretsmanager", "GetSecretValue", STORAGE + "secrets.py::_fetch"): INGEST,
    CallSite("dynamodb", "TransactWriteItems", STORAGE + "ledger.py::_transact"): INGEST,
    CallSite("dynamodb", "GetItem", STORAGE + "events.py::get"): QUERIES,
    CallSite("dynamodb", "GetItem", STORAGE + "transactions.py::get"): QUERIES,
    CallSite("dynamodb", "Query", STORAGE + "transactions.py::list_by"): QUERIES,
    CallSite("secretsmanager", "GetSecretValue", STORAGE + "cursor_keys.py::_value"): QUERIES,
    CallSite("dynamodb", "Query", STORAGE + "events.py::received_between"): QUERIES,
    CallSite("dynamodb", "GetItem", STORAGE + "analytics.py::mark"): STREAM,
    CallSite("dynamodb", "UpdateItem", STORAGE + "analytics.py::_add"): STREAM,
    CallSite("events", "PutEvents", STORAGE + "event_bus.py::_put_chunk"): FEED,
    CallSite("dynamodb", "Query", STORAGE + "risk.py::customer_activity"): RISK,
    CallSite("dynamodb", "UpdateItem", STORAGE + "risk.py::record"): RISK,
    CallSite("dynamodb", "GetItem", STORAGE + "alerts.py::get"): ALERTS,
    CallSite("dynamodb", "PutItem", STORAGE + "alerts.py::put_pending"): ALERTS,
    CallSite("dynamodb", "UpdateItem", STORAGE + "alerts.py::mark_sent"): ALERTS,
    CallSite("sns", "Publish", STORAGE + "alert_topic.py::publish"): ALERTS,
    CallSite("dynamodb", "Query", STORAGE + "archive/archivable.py::_shard"): ARCHIVAL,
    CallSite("dynamodb", "UpdateItem", STORAGE + "archive/archivable.py::replace_with_archived"): ARCHIVAL,
    CallSite("s3", "GetObject", STORAGE + "archive/lease.py::_current"): ARCHIVAL,
    CallSite("s3", "PutObject", STORAGE + "archive/lease.py::_put"): ARCHIVAL,
    CallSite("s3", "DeleteObject", STORAGE + "archive/lease.py::release"): ARCHIVAL,
    CallSite("s3", "ListObjectsV2", STORAGE + "archive/bucket.py::<listcomp>"): ARCHIVAL,
    CallSite("s3", "PutObject", STORAGE + "archive/bucket.py::_put"): ARCHIVAL,
    CallSite("s3", "GetObject", STORAGE + "archive/bucket.py::read_part"): ARCHIVAL,
    CallSite("s3", "GetObject", STORAGE + "archive/bucket.py::manifest"): ARCHIVAL,
    CallSite("dynamodb", "BatchGetItem", STORAGE + "reconciliation/payments.py::summaries"): RECONCILIATION,
    CallSite("dynamodb", "Query", STORAGE + "reconciliation/payments.py::created_on"): RECONCILIATION,
    CallSite("s3", "ListObjectsV2", EXPORTS + "_list"): RECONCILIATION,
    CallSite("s3", "HeadObject", EXPORTS + "report"): RECONCILIATION,
    CallSite("s3", "GetObject", EXPORTS + "lines"): RECONCILIATION,
    CallSite("s3", "PutObject", EXPORTS + "put_report"): RECONCILIATION,
    CallSite("s3", "CopyObject", EXPORTS + "move"): RECONCILIATION,
    CallSite("s3", "DeleteObject", EXPORTS + "move"): RECONCILIATION,
    CallSite("sqs", "GetQueueUrl", DLQ + "_url"): DEAD_LETTERS,
    CallSite("sqs", "GetQueueAttributes", DLQ + "depth"): DEAD_LETTERS,
    CallSite("sqs", "ListQueueTags", DLQ + "incident"): DEAD_LETTERS,
    CallSite("sqs", "TagQueue", DLQ + "open_incident"): DEAD_LETTERS,
    CallSite("sqs", "UntagQueue", DLQ + "close_incident"): DEAD_LETTERS,
    CallSite("sqs", "ReceiveMessage", DLQ + "receive"): DEAD_LETTERS,
    CallSite("sqs", "SendMessage", DLQ + "send"): DEAD_LETTERS,
    CallSite("sqs", "DeleteMessage", DLQ + "delete"): DEAD_LETTERS,
    CallSite("dynamodbstreams", "GetShardIterator", STORAGE + "stream_records.py::read_range"): DEAD_LETTERS,
    CallSite("dynamodbstreams", "GetRecords", STORAGE + "stream_records.py::read_range"): DEAD_LETTERS,
}
"""Every AWS call site of the app -> the flow that reaches it. Provider sync and backfill
reach no site of their own: they go through ingest's. Lambda `Invoke`
(storage/functions.py) is reached only deployed: locally the redrive calls the app's
handlers in-process (there is no Lambda), and the handlers' own sites are rows here."""

FAST: set[tuple[CallSite, str]] = {
    (CallSite("dynamodb", "TransactWriteItems", STORAGE + "ledger.py::_transact"), "timeout"),
    (CallSite("dynamodb", "UpdateItem", STORAGE + "analytics.py::_add"), "timeout"),
    (CallSite("events", "PutEvents", STORAGE + "event_bus.py::_put_chunk"), "timeout"),
    (CallSite("sns", "Publish", STORAGE + "alert_topic.py::publish"), "500"),
    (CallSite("s3", "PutObject", STORAGE + "archive/lease.py::_put"), "timeout"),
}
"""The cells CI runs, all injected in one run: the webhook's write, the analytics write, the
feed's publish and the archive lease's write each with the ambiguous timeout (applied,
answer lost), and the alert's publish failing. Every cell runs alone in the full table."""

KNOWN: dict[tuple[CallSite, str], str] = {}
"""Cells that differ today, each a finding documented in docs/reliability.md: strict xfail,
so a fix makes the cell pass and the entry must go."""

FULL = os.environ.get("RELIABILITY") == "full"
BY_FLOW = os.environ.get("RELIABILITY") == "flows"
OUTCOMES: dict[tuple[CallSite, str], str] = {}
REFERENCE: dict[str, object] = {}
INCIDENT_KINDS = {"dispute", "payment_failed", "risk_high", "reconciliation_mismatch", "dead_letter"}


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


@pytest.fixture
def shared_reference(tmp_path_factory) -> Path:
    """Where the snapshot of a run without faults is kept for every worker of this session
    (the run is deterministic, so whichever worker ran it first, the others reuse it)."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "faults-reference.json"


def comparable(snapshot: dict) -> dict:
    """The snapshot without how many times each feed event and alert arrived (delivery is
    at least once), in JSON's terms so a stored one compares equal."""
    return json.loads(json.dumps({key: value for key, value in snapshot.items() if key != "deliveries"}))


def keep(path: Path, snapshot: dict) -> None:
    partial_file = path.with_suffix(f".{os.getpid()}")
    partial_file.write_text(json.dumps(comparable(snapshot)))
    partial_file.replace(path)


def reference(client, aws, fresh, path: Path) -> dict:
    """The snapshot of a run without faults: this process's, another worker's, or a new
    run's (which wipes the stage: take the faulted run's snapshot first)."""
    if "snapshot" not in REFERENCE:
        if path.exists():
            REFERENCE["snapshot"] = json.loads(path.read_text())
        else:
            fresh()
            wiring.reset()
            payment_flows.run_all(client, aws)
            REFERENCE["snapshot"] = comparable(payment_flows.snapshot(client, aws))
            keep(path, REFERENCE["snapshot"])
    return REFERENCE["snapshot"]  # type: ignore[return-value]


def test_every_aws_call_site_the_flows_reach_is_declared_and_every_declared_one_is_reached(
        stage, aws, shared_reference) -> None:
    client, _ = stage
    with instrumented() as instrument:
        payment_flows.run_all(client, aws)
    found = set(instrument.calls)
    snapshot = payment_flows.snapshot(client, aws)
    REFERENCE.setdefault("snapshot", comparable(snapshot))
    keep(shared_reference, snapshot)
    undeclared = sorted(map(str, found - set(CALL_SITES)))
    unreached = sorted(map(str, set(CALL_SITES) - found))
    publish("AWS call sites reached by the flows", "\n".join(
        f"{instrument.calls[site]:>5}  {site}  [{CALL_SITES.get(site, 'NO ROW')}]" for site in sorted(found)))
    assert undeclared == [], "call sites without a row in CALL_SITES (add each, with the flow that reaches " \
        "it):\n" + "\n".join(f'    CallSite("{s.service}", "{s.operation}", "{s.code}"),' for s in sorted(found - set(CALL_SITES)))
    assert unreached == [], "rows of CALL_SITES no flow reaches:\n" + "\n".join(unreached)
    assert len(snapshot["transactions"]) >= 10 and snapshot["archive"] and any(r["days"] for r in snapshot["analytics"])
    assert snapshot["reconciliation"] and snapshot["feed"]
    assert {kind for kind, _ in snapshot["alerts"]} == INCIDENT_KINDS
    assert snapshot["alerts"] == snapshot["alerts_table"]  # every incident recorded is on the topic
    assert snapshot["deliveries"] == {"feed": [], "alerts": []}  # without faults: each exactly once


def faulted_run(stage, aws, shared_reference, cells: list[tuple[CallSite, str]]) -> None:
    """The flows with a fault armed at each cell's site; the state they end with must be
    that of a run without faults."""
    client, fresh = stage
    wiring.reset()
    with instrumented() as instrument:
        for site, fault in cells:
            instrument.arm(site, fault)
        try:
            payment_flows.run_all(client, aws)
        except payment_flows.FlowFailure as broken:
            OUTCOMES.update({cell: f"FAIL: {broken}"[:60] for cell in cells})
            raise
        injected = instrument.injected
    after = payment_flows.snapshot(client, aws)
    expected = reference(client, aws, fresh, shared_reference)
    exact = comparable(after) == expected
    again = "".join(f", {len(doubled)} {what} twice" for what, doubled in after["deliveries"].items() if doubled)
    for site, fault in cells:
        OUTCOMES[(site, fault)] = ("exact" if exact else "DIFFERS") + ("" if injected[site] else " (not reached)") + again
    assert {site: injected[site] for site, _ in cells} == {site: 1 for site, _ in cells}, "a site was not reached"
    assert comparable(after) == expected


CASES = [pytest.param(site, fault, id=f"{site}-{fault}", marks=[pytest.mark.xfail(
              reason=KNOWN[(site, fault)], strict=True)] if (site, fault) in KNOWN else [])
         for site in CALL_SITES for fault in FAULTS if FULL]
"""The whole table, one run per cell: only under `make reliability` (RELIABILITY=full)."""


@pytest.mark.parametrize("site, fault", CASES)
def test_a_fault_at_a_call_site_loses_doubles_and_misstates_nothing_after_retries(
        stage, aws, shared_reference, site, fault) -> None:
    faulted_run(stage, aws, shared_reference, [(site, fault)])


FLOW_CASES = [pytest.param(flow, fault, id=f"{flow}-{fault}")
              for flow in sorted(set(CALL_SITES.values())) for fault in FAULTS if BY_FLOW]
"""Every cell in a tenth of the runs (RELIABILITY=flows): one run per flow and fault, the
fault armed at every call site of the flow at once; a difference is then narrowed down cell
by cell with RELIABILITY=full."""


@pytest.mark.parametrize("flow, fault", FLOW_CASES)
def test_a_fault_at_every_call_site_of_a_flow_at_once_loses_doubles_and_misstates_nothing(
        stage, aws, shared_reference, flow, fault) -> None:
    faulted_run(stage, aws, shared_reference, [(site, fault) for site, of in CALL_SITES.items() if of == flow])


def test_the_webhook_analytics_feed_alert_and_lease_writes_failing_once_each_lose_and_double_nothing(
        stage, aws, shared_reference) -> None:
    """CI's tier: every FAST cell armed in one run."""
    faulted_run(stage, aws, shared_reference, sorted(FAST))


def test_zz_print_the_fault_table() -> None:
    """Last in the module: the table of what ran in this process (the whole of it under
    `make reliability`, which runs this module on one worker)."""
    if not OUTCOMES:
        pytest.skip("no fault case ran in this process")
    width = max(len(str(site)) for site, _ in OUTCOMES) + 2
    lines = [f"{'call site':<{width}}{'flow':<32}" + "".join(f"{fault:<26}" for fault in FAULTS)]
    for site in sorted({site for site, _ in OUTCOMES}):
        lines.append(f"{str(site):<{width}}{CALL_SITES.get(site, '?'):<32}"
                     + "".join(f"{OUTCOMES.get((site, f), '-'):<26}" for f in FAULTS))
    publish("faults: call sites x faults (exact = final state equal to a run without faults)", "\n".join(lines))
