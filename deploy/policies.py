"""Each function's IAM policy: only the actions it calls, on the exact ARNs it touches.

The statements are written here once and rendered into `.chalice/policy-<stage>-<function>.json`
for every deployed stage (`python -m deploy.policies`; `--check` fails when a file is stale).
Those files are checked in and are what Chalice reads (`autogen_policy: false`,
per-function `iam_policy_file`), what the least-privilege test loads into the emulator,
and what reviewers read.

Account and region: the files keep `${AWS::Region}` and `${AWS::AccountId}`, which
only the deploy paths fill in, because one checked-in file serves every account:
- `make package` wraps each such string in `Fn::Sub`, so CloudFormation substitutes them;
- `make deploy` writes concrete ARNs (the caller's account, the target region) into a
  build copy of the project before running `chalice deploy` there (`deploy.project`).
Never run plain `chalice deploy --stage prod` from the repository root.

No `Condition` anywhere: the emulator cannot evaluate conditions, so the least-privilege
test could not prove them, and `lint` refuses them."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from chalicelib.settings import dead_letter_queues
from deploy.stage import (
    API_HANDLER, CHALICE_DIR, DEPLOYED_STAGES, QUEUE_HANDLERS, SCHEDULED_JOBS, STREAM_HANDLERS, StageResources,
    load_chalice_config, stack_name, stage_functions,
)

Statement = dict[str, Any]
Document = dict[str, Any]

# Actions that have no resource-level permissions in IAM: `Resource: "*"` is the only form.
RESOURCELESS_ACTIONS = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams"})


def allow(sid: str, actions: list[str], resources: list[str] | str) -> Statement:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions),
            "Resource": resources if isinstance(resources, str) else list(resources)}


def api_handler(r: StageResources) -> list[Statement]:
    """Webhook ingest (verify, dedupe, merge), the query API and replay."""
    return [
        allow("EventsReadWrite", ["dynamodb:GetItem", "dynamodb:PutItem"], [r.table("EventsTable")]),
        allow("TransactionsReadWrite", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
              [r.table("TransactionsTable")]),
        allow("TransactionsListing", ["dynamodb:Query"],
              [r.index("TransactionsTable", "by-merchant"), r.index("TransactionsTable", "by-customer")]),
        allow("SigningSecrets", ["secretsmanager:GetSecretValue"], [r.secret("WebhookSecrets")]),
        allow("CursorKey", ["secretsmanager:GetSecretValue"], [r.secret("CursorKeySecret")]),
        allow("DailyAnalyticsReads", ["dynamodb:Query"], [r.table("AnalyticsTable")]),
        allow("RecentPaymentAlerts", ["dynamodb:Query"], [r.index("AlertsTable", "recent")]),
    ] + operations_api(r)


def update_daily_analytics(r: StageResources) -> list[Statement]:
    """Transaction changes applied to the daily figures (reading the stream: `stream_consumer`)."""
    return [
        allow("DailyAnalyticsWrites", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [r.table("AnalyticsTable")]),
    ]


def stream_consumer(r: StageResources) -> list[Statement]:
    """What every consumer of the transactions stream needs, whatever it does with the
    changes: Lambda's event source mapping reads the stream and delivers the records it
    gave up on to the on-failure queue with the function's own role."""
    return [
        allow("TransactionsStream", ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
              [r.stream("TransactionsTable")]),
        allow("StreamFailures", ["sqs:SendMessage"], [r.queue("StreamFailuresQueue")]),
    ]


def archive_transactions(r: StageResources) -> list[Statement]:
    """The daily archival job: archivable transactions through their sparse index, parts
    and manifests under `transactions/`, its lease object, and (as the function's
    dead-letter queue) failed invocations."""
    return [
        allow("ArchivableIndex", ["dynamodb:Query"], [r.index("TransactionsTable", "archivable")]),
        allow("ArchivedRecords", ["dynamodb:BatchGetItem", "dynamodb:UpdateItem"], [r.table("TransactionsTable")]),
        allow("ArchiveListing", ["s3:ListBucket"], [r.bucket("ArchiveBucket")]),
        allow("ArchiveParts", ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
              [r.objects("ArchiveBucket", "transactions/*")]),
        allow("ArchiveLease", ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
              [r.objects("ArchiveBucket", "locks/archival.json")]),
        allow("DeadLetters", ["sqs:SendMessage"], [r.queue("ScheduleDeadLetterQueue")]),
    ]


# --- payment alerts (docs/api.md section 9) ---

def alert_raising(r: StageResources) -> list[Statement]:
    """What raising a payment alert takes (`wiring.alert_raiser()`): the incident's record
    (conditional put, consistent read, mark sent) and the publish. Every function that
    raises alerts adds these to its own grants."""
    return [
        allow("PaymentAlertRecords", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
              [r.table("AlertsTable")]),
        allow("PaymentAlertsTopic", ["sns:Publish"], [r.topic("PaymentAlertsTopic")]),
    ]


def send_payment_alerts(r: StageResources) -> list[Statement]:
    """Feed events from the alerts queue to payment alerts (reading its queue: `queue_consumer`)."""
    return alert_raising(r)


def publish_payment_changes(r: StageResources) -> list[Statement]:
    """The change feed: business changes put on its bus (reading the stream: `stream_consumer`)."""
    return [
        allow("ChangeFeedEvents", ["events:PutEvents"], [r.event_bus("ChangeFeedBus")]),
    ]


# --- operations (docs/api.md section 11) ---

def dead_letter_queue_arns(r: StageResources) -> list[str]:
    """Every dead-letter queue of the stage: the app's own list (chalicelib/settings.py) is
    the one inventory, and each of its queues must be in the template."""
    return [r.queue_named(queue.queue) for queue in dead_letter_queues(stack_name(r.stage))]


def redrive_return_arns(r: StageResources) -> list[str]:
    """The queues a redrive moves an SQS consumer's dead letters back to."""
    return [r.queue_named(queue.source) for queue in dead_letter_queues(stack_name(r.stage)) if queue.source]


def operations_api(r: StageResources) -> list[Statement]:
    """The admin routes: dead-letter depths and redrive (letters read, deleted or released;
    stream ranges re-read, or when trimmed re-applied from the table; the consumer or job
    invoked with its own role), and bulk replay through the events index."""
    return [
        allow("DeadLetterQueues", ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                   "sqs:GetQueueUrl", "sqs:ReceiveMessage"], dead_letter_queue_arns(r)),
        allow("RedriveReturns", ["sqs:GetQueueUrl", "sqs:SendMessage"],
              redrive_return_arns(r)),
        allow("StreamRedrive", ["dynamodb:GetRecords", "dynamodb:GetShardIterator"], [r.stream("TransactionsTable")]),
        allow("RedriveInvocations", ["lambda:InvokeFunction"],
              [r.function(f) for f in (*STREAM_HANDLERS, *SCHEDULED_JOBS)]),
        allow("ReplayIndex", ["dynamodb:Query"], [r.index("EventsTable", "by-provider-received")]),
        # a stream failure the stream no longer holds, re-applied from the table
        # (services/table_redrive.py): events and transactions are read, and versions moved
        # on, with TransactionsReadWrite; analytics days are recounted by provider and set
        allow("RecountedDays", ["dynamodb:Query"], [r.index("TransactionsTable", "by-provider")]),
        allow("RecountedFigures", ["dynamodb:UpdateItem"], [r.table("AnalyticsTable")]),
    ]


def watch_dead_letters(r: StageResources) -> list[Statement]:
    """The dead-letter watch: each queue's depth and incident tag, the alert raised once
    (the alerts table's conditional record, the payment alerts topic), and (as the
    function's dead-letter queue) failed invocations."""
    return [
        allow("DeadLetterDepths", ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags",
                                   "sqs:TagQueue", "sqs:UntagQueue"], dead_letter_queue_arns(r)),
        allow("AlertRecords", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [r.table("AlertsTable")]),
        allow("PaymentAlerts", ["sns:Publish"], [r.topic("PaymentAlertsTopic")]),
        allow("DeadLetters", ["sqs:SendMessage"], [r.queue("ScheduleDeadLetterQueue")]),
    ]


# --- reconciliation (docs/api.md sections 10 and 11) ---

def reconciliation_reports(r: StageResources) -> list[Statement]:
    """`GET /admin/reconciliations` (the API function): listing the reports and reading
    their metadata. ListBucket has no prefix form without a Condition, so it is the bucket."""
    return [
        allow("ReconciliationReportListing", ["s3:ListBucket"], [r.bucket("ArchiveBucket")]),
        allow("ReconciliationReports", ["s3:GetObject"], [r.objects("ArchiveBucket", "reconciliation/reports/*")]),
    ]


def validate_reconciliations(r: StageResources) -> list[Statement]:
    """The nightly validation: summaries by key and keys by provider and day from the
    transactions table, exports read and moved under `reconciliation/`, reports written
    (and read back by a rerun), and (as the function's dead-letter queue) failed runs."""
    return [
        allow("ReconciledTransactions", ["dynamodb:BatchGetItem"], [r.table("TransactionsTable")]),
        allow("ProviderIndex", ["dynamodb:Query"], [r.index("TransactionsTable", "by-provider")]),
        allow("ExportListing", ["s3:ListBucket"], [r.bucket("ArchiveBucket")]),
        allow("IncomingExports", ["s3:DeleteObject", "s3:GetObject"],
              [r.objects("ArchiveBucket", "reconciliation/incoming/*")]),
        allow("Reports", ["s3:GetObject", "s3:PutObject"], [r.objects("ArchiveBucket", "reconciliation/reports/*")]),
        allow("DoneExports", ["s3:PutObject"], [r.objects("ArchiveBucket", "reconciliation/processed/*"),
                                                r.objects("ArchiveBucket", "reconciliation/rejected/*")]),
        allow("DeadLetters", ["sqs:SendMessage"], [r.queue("ScheduleDeadLetterQueue")]),
        # raising `reconciliation_mismatch` through wiring.alert_raiser(): the incident's
        # record (conditional put, consistent read, mark sent), then the publish
        allow("PaymentAlertRecords", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
              [r.table("AlertsTable")]),
        allow("PaymentAlertsTopic", ["sns:Publish"], [r.topic("PaymentAlertsTopic")]),
    ]


def assess_payment_risk(r: StageResources) -> list[Statement]:
    """Risk assessment (docs/risk.md): the transaction read consistently, the customer's
    recent transactions through `by-customer`, the conditional UpdateItem of `risk`
    (reading its queue: `queue_consumer`)."""
    return [
        allow("TransactionRisk", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [r.table("TransactionsTable")]),
        allow("CustomerActivity", ["dynamodb:Query"], [r.index("TransactionsTable", "by-customer")]),
    ]


def queue_consumer(r: StageResources, function: str) -> list[Statement]:
    """What Lambda's SQS mapping does with the function's role: receive its queue's
    messages, delete those handled, and read the queue's attributes when it is created."""
    return [
        allow("OwnQueue", ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
              [r.queue(QUEUE_HANDLERS[function])]),
    ]


# One entry per function in `.chalice/config.json` (`stages.<stage>.lambda_functions`).
GRANTS: dict[str, Callable[[StageResources], list[Statement]]] = {
    API_HANDLER: lambda r: api_handler(r) + reconciliation_reports(r),
    "update_daily_analytics": update_daily_analytics,
    "archive_transactions": archive_transactions,
    "send_payment_alerts": send_payment_alerts,
    "publish_payment_changes": publish_payment_changes,
    "watch_dead_letters": watch_dead_letters,
    "validate_reconciliations": validate_reconciliations,
    "assess_payment_risk": assess_payment_risk,
}


def runtime(r: StageResources, function: str) -> list[Statement]:
    """What the Lambda service itself needs with the role: the function's log group's
    streams, X-Ray segments, and for a stream mapping ListStreams (no resource form)."""
    statements = [
        allow("OwnLogStreams", ["logs:CreateLogStream", "logs:PutLogEvents"], [r.function_log_streams(function)]),
        allow("Tracing", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*"),
    ]
    if function in STREAM_HANDLERS:
        statements.append(allow("StreamDiscovery", ["dynamodb:ListStreams"], "*"))
    return statements


def policy_document(stage: str, function: str, resources: StageResources | None = None) -> Document:
    if function not in GRANTS:
        raise KeyError(f"no IAM grants written for function {function!r} (deploy/policies.py GRANTS)")
    r = resources or StageResources.load(stage)
    consumer = stream_consumer(r) if function in STREAM_HANDLERS else []
    if function in QUEUE_HANDLERS:
        consumer += queue_consumer(r, function)
    return {"Version": "2012-10-17", "Statement": GRANTS[function](r) + consumer + runtime(r, function)}


def policy_filename(stage: str, function: str) -> str:
    return f"policy-{stage}-{function}.json"


def expected_files(stages: tuple[str, ...] = DEPLOYED_STAGES) -> dict[str, Document]:
    config = load_chalice_config()
    files = {}
    for stage in stages:
        resources = StageResources.load(stage)
        for function in stage_functions(stage, config):
            files[policy_filename(stage, function)] = policy_document(stage, function, resources)
    return files


def dump(document: Document) -> str:
    return json.dumps(document, indent=2) + "\n"


# Rendering -------------------------------------------------------------------------------

def _map_strings(value: Any, change: Callable[[str], Any]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_map_strings(v, change) for v in value]
    if isinstance(value, dict):
        return {k: _map_strings(v, change) for k, v in value.items()}
    return value


def with_account(document: Document, account_id: str, region: str) -> Document:
    """Concrete ARNs, for `chalice deploy` (and for the emulator in tests)."""
    return _map_strings(document, lambda s: s.replace("${AWS::AccountId}", account_id)
                        .replace("${AWS::Region}", region))


def for_cloudformation(document: Document) -> Document:
    """ARNs CloudFormation completes: every string with a pseudo parameter becomes `Fn::Sub`."""
    return _map_strings(document, lambda s: {"Fn::Sub": s} if "${AWS::" in s else s)


# Lint ------------------------------------------------------------------------------------

def _walk_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _walk_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk_keys(inner)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def lint(document: Document) -> list[str]:
    """What a least-privilege function policy must not contain."""
    problems = []
    if any(key in {"Condition", "NotAction", "NotResource", "NotPrincipal"} for key in _walk_keys(document)):
        problems.append("uses Condition or a Not* element (the emulator cannot prove those)")
    for statement in _as_list(document.get("Statement", [])):
        sid = statement.get("Sid", "?")
        actions = _as_list(statement.get("Action", []))
        resources = _as_list(statement.get("Resource", []))
        if statement.get("Effect") != "Allow":
            problems.append(f"{sid}: only Allow statements are expected")
        if any("*" in action for action in actions):
            problems.append(f"{sid}: wildcard action")
        if "*" in resources and not set(actions) <= RESOURCELESS_ACTIONS:
            problems.append(f"{sid}: Resource '*' for actions that support resource ARNs")
        for arn in resources:
            parts = str(arn).split(":")
            if arn != "*" and len(parts) > 4 and (parts[3] == "*" or parts[4] == "*"):
                problems.append(f"{sid}: wildcard region or account in {arn}")
    return problems


# CLI -------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or --check) .chalice/policy-<stage>-<function>.json")
    parser.add_argument("--check", action="store_true", help="fail if a file is missing, stale or unexpected")
    parser.add_argument("--chalice-dir", type=Path, default=CHALICE_DIR)
    args = parser.parse_args(argv)
    expected = expected_files()
    stale = []
    for name, document in expected.items():
        path = args.chalice_dir / name
        problems = lint(document)
        if problems:
            print(f"{name}: {'; '.join(problems)}", file=sys.stderr)
            return 1
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != dump(document):
            stale.append(name)
            if not args.check:
                path.write_text(dump(document), encoding="utf-8")
    unexpected = sorted(p.name for p in args.chalice_dir.glob("policy-*.json") if p.name not in expected)
    if args.check and (stale or unexpected):
        print(f"stale: {stale}; unexpected: {unexpected}. Run: python -m deploy.policies", file=sys.stderr)
        return 1
    if not args.check:
        for name in unexpected:
            (args.chalice_dir / name).unlink()
        print(f"wrote {len(stale)} of {len(expected)} policy files; removed {unexpected or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
