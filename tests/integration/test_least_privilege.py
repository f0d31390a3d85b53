"""Proof that each function's checked-in IAM policy is enough, and no more.

A dedicated emulator (IAM resource checks extended by tests.support.iam_emulator) gets
the prod stage's resources from infra/resources.json, plus the dev stage's as the "other"
resources a prod function must not reach. Each function gets an IAM user holding exactly
its `.chalice/policy-prod-<function>.json` (account and region filled in, as `make deploy`
does); with moto's IAM enforcement on, the function's real code runs with that user's
keys and must succeed, while calls outside the policy must come back 403. Every grant
must be needed: the emulator logs each authorization decision, and each (action,
resource) pair must be the only grant that allowed some request the function's flow made.
The exhaustive tier (`make reliability`, RELIABILITY=full) shows the same by rerunning the
flows without each pair in turn, stopping at the first refusal.

Limits: moto evaluates identity policies only (no SCPs, boundaries, resource policies or
conditions, hence none in our policies); what the Lambda service does with the role
(writing logs, X-Ray segments, polling the stream for the mapping) is not exercised, but
the stream reads and on-failure delivery are replayed here with the function's keys."""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial

import chalice.test
import pytest
from chalice.local import LambdaContext
from chalice.test import Client

from chalicelib import wiring
from chalicelib.settings import dead_letter_queues
from deploy.stage import API_HANDLER, SCHEDULED_JOBS, STREAM_HANDLERS, lambda_name
from local import provision
from local.invocation import FakeLambdaContext
from local.queue_poller import lambda_record
from local.stream_poller import lambda_event
from tests.support.emulator import EmulatorProcess
from tests.support.iam import (
    ADMIN_POLICY, MOTO_ACCOUNT, AuthorizationLog, Credentials, create_user, function_policy, grants_not_relied_on,
    iam_enforced, status_of, without_each_grant,
)
from tests.support.signing import REPO_ROOT, payment_intent, stripe_event, stripe_headers

pytestmark = pytest.mark.filterwarnings("ignore:IAMAuthorizer is not a supported in local mode")

STAGE, OTHER_STAGE = "prod", "dev"
DENIED = 403
# The suite shows each grant needed from the authorizations its flow relied on; the
# exhaustive tier (`make reliability`) also reruns the flows without each grant in turn.
EXHAUSTIVE = os.environ.get("RELIABILITY") == "full"


ANALYTICS = "update_daily_analytics"
# Grants that no flow here can exercise: the Lambda service writes logs and segments, and
# lists streams when it creates a mapping.
RUNTIME_SIDS = frozenset({"OwnLogStreams", "Tracing", "StreamDiscovery"})
API_POLICY = function_policy(STAGE, API_HANDLER)
API_REDUCED = without_each_grant(API_POLICY, RUNTIME_SIDS)
ANALYTICS_POLICY = function_policy(STAGE, ANALYTICS)
ANALYTICS_REDUCED = without_each_grant(ANALYTICS_POLICY, RUNTIME_SIDS)
ARCHIVAL = "archive_transactions"
ARCHIVAL_POLICY = function_policy(STAGE, ARCHIVAL)
ARCHIVAL_REDUCED = without_each_grant(ARCHIVAL_POLICY, RUNTIME_SIDS)
ALERTS = "send_payment_alerts"
ALERTS_POLICY = function_policy(STAGE, ALERTS)
ALERTS_REDUCED = without_each_grant(ALERTS_POLICY, RUNTIME_SIDS)
FEED = "publish_payment_changes"
FEED_POLICY = function_policy(STAGE, FEED)
FEED_REDUCED = without_each_grant(FEED_POLICY, RUNTIME_SIDS)
RECONCILE = "validate_reconciliations"
RECONCILE_POLICY = function_policy(STAGE, RECONCILE)
RECONCILE_REDUCED = without_each_grant(RECONCILE_POLICY, RUNTIME_SIDS)
RISK = "assess_payment_risk"
RISK_POLICY = function_policy(STAGE, RISK)
RISK_REDUCED = without_each_grant(RISK_POLICY, RUNTIME_SIDS)
WATCH = "watch_dead_letters"
WATCH_POLICY = function_policy(STAGE, WATCH)
WATCH_REDUCED = without_each_grant(WATCH_POLICY, RUNTIME_SIDS)


@dataclass
class IamStack:
    endpoint_url: str
    outputs: dict[str, str]
    other: dict[str, str]
    users: dict[str, Credentials]
    other_bucket: str
    authorizations: AuthorizationLog

    def app_env(self, user: str) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url, "AWS_DEFAULT_REGION": provision.DEFAULT_REGION,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", **self.users[user].env(),
            "STAGE": STAGE, "API_AUTH": "iam",
            "EVENTS_TABLE": self.outputs["EventsTableName"],
            "TRANSACTIONS_TABLE": self.outputs["TransactionsTableName"],
            "WEBHOOK_SECRETS_ID": self.outputs["WebhookSecretsId"],
            "CURSOR_KEY_SECRET_ID": self.outputs["CursorKeySecretId"],
            "ANALYTICS_TABLE": self.outputs["AnalyticsTableName"],
            "TRANSACTIONS_STREAM_ARN": self.outputs["TransactionsStreamArn"],
            "ARCHIVE_BUCKET": self.outputs["ArchiveBucketName"],
            "ALERTS_TABLE": self.outputs["AlertsTableName"],
            "PAYMENT_ALERTS_TOPIC_ARN": self.outputs["PaymentAlertsTopicArn"],
            "CHANGE_FEED_BUS": self.outputs["ChangeFeedBusName"],
            "ALERTS_TABLE": self.outputs["AlertsTableName"],
            "PAYMENT_ALERTS_TOPIC_ARN": self.outputs["PaymentAlertsTopicArn"],
        }

    def client_as(self, user: str, service: str):
        return self.users[user].client(service, self.endpoint_url)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IamStack]:
    authorizations = AuthorizationLog(tmp_path_factory.mktemp("iam") / "authorizations.jsonl")
    os.environ["IAM_AUTHORIZATIONS_LOG"] = str(authorizations.path)
    try:
        process = EmulatorProcess(module="tests.support.iam_emulator")
    finally:
        del os.environ["IAM_AUTHORIZATIONS_LOG"]
    try:
        url = process.endpoint_url
        outputs = provision.provision(url, STAGE)
        other = provision.provision(url, OTHER_STAGE)
        other_bucket = "payment-webhooks-somebody-elses-bucket"
        provision.client("s3", url).create_bucket(Bucket=other_bucket)
        deploy_functions_without_code(url)
        provision.client("s3", url).put_object(  # one report for GET /admin/reconciliations to list
            Bucket=outputs["ArchiveBucketName"], Key="reconciliation/reports/2026-01-01-legacy.csv.json", Body=b"{}",
            Metadata={"at": "2026-01-02T03:00:00Z", "checked": "1", "matched": "1", "missing": "0",
                      "mismatched": "0", "extra": "0", "export-etag": "0"})
        users = {"admin": create_user(url, "admin", ADMIN_POLICY),
                 API_HANDLER: create_user(url, f"payment-webhooks-{STAGE}-{API_HANDLER}", API_POLICY)}
        users[ANALYTICS] = create_user(url, f"payment-webhooks-{STAGE}-{ANALYTICS}", ANALYTICS_POLICY)
        reduced = [(f"api {label}", p) for label, p in API_REDUCED.items()]
        users[ARCHIVAL] = create_user(url, f"payment-webhooks-{STAGE}-{ARCHIVAL}", ARCHIVAL_POLICY)
        reduced += [(f"analytics {label}", p) for label, p in ANALYTICS_REDUCED.items()]
        reduced += [(f"archival {label}", p) for label, p in ARCHIVAL_REDUCED.items()]
        users[ALERTS] = create_user(url, f"payment-webhooks-{STAGE}-{ALERTS}", ALERTS_POLICY)
        reduced += [(f"alerts {label}", p) for label, p in ALERTS_REDUCED.items()]
        users[FEED] = create_user(url, f"payment-webhooks-{STAGE}-{FEED}", FEED_POLICY)
        reduced += [(f"feed {label}", p) for label, p in FEED_REDUCED.items()]
        users[RECONCILE] = create_user(url, f"payment-webhooks-{STAGE}-{RECONCILE}", RECONCILE_POLICY)
        reduced += [(f"reconcile {label}", p) for label, p in RECONCILE_REDUCED.items()]
        users[RISK] = create_user(url, f"payment-webhooks-{STAGE}-{RISK}", RISK_POLICY)
        reduced += [(f"risk {label}", p) for label, p in RISK_REDUCED.items()]
        users[WATCH] = create_user(url, f"payment-webhooks-{STAGE}-{WATCH}", WATCH_POLICY)
        reduced += [(f"watch {label}", p) for label, p in WATCH_REDUCED.items()]
        for number, (label, policy) in enumerate(sorted(reduced) if EXHAUSTIVE else []):
            users[label] = create_user(url, f"reduced-{number}", policy)
        with iam_enforced(url):
            yield IamStack(url, outputs, other, users, other_bucket, authorizations)
    finally:
        process.stop()


@pytest.fixture
def app_as(stack: IamStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Client]]:
    """`app_as(user)`: the app in-process, its AWS calls signed as that IAM user."""
    from app import app

    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "TRACING"):
        monkeypatch.delenv(name, raising=False)
    clients: list[Client] = []

    def as_user(user: str) -> Client:
        become(stack, monkeypatch, user)
        # A stage name absent from config.json: no config variables replace the ones above.
        client = Client(app, stage_name="least-privilege-test", project_dir=str(REPO_ROOT))
        clients.append(client)
        return client

    yield as_user
    wiring.reset()


def become(stack: IamStack, monkeypatch: pytest.MonkeyPatch, user: str) -> None:
    """From now on the in-process app's AWS calls are signed as `user`."""
    for name, value in stack.app_env(user).items():
        monkeypatch.setenv(name, value)
    wiring.reset()


def removal_tier(function: str, reduced: dict[str, dict]) -> list:
    """The exhaustive tier's cases: each grant of the function's policy removed in turn."""
    if not EXHAUSTIVE:
        return [pytest.param(None, id="removal", marks=pytest.mark.skip(
            reason="the removal tier runs under make reliability (RELIABILITY=full)"))]
    return [pytest.param(f"{function} {grant}", id=grant) for grant in sorted(reduced)]


def assert_every_grant_relied_on(stack: IamStack, function: str, policy: dict, since: int) -> None:
    """Each (action, resource) pair of the policy was the only one allowing some request
    the function's flow made since `since` (so without it, that request is denied)."""
    allowed = stack.authorizations.allowed(stack.users[function], since)
    unused = grants_not_relied_on(policy, allowed, RUNTIME_SIDS)
    assert not unused, f"{function}'s flows never needed {unused}: the policy grants more than it needs"


def test_a_grant_no_request_relied_on_alone_is_reported_as_more_than_needed() -> None:
    """The check behind every "needs all of it" above, on a policy of three grants: a
    request allowed by two of them makes neither needed."""
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": ["dynamodb:GetItem"],
         "Resource": ["arn:aws:dynamodb:eu-west-1:1:table/a", "arn:aws:dynamodb:eu-west-1:1:table/*"]},
        {"Sid": "Write", "Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "arn:aws:dynamodb:eu-west-1:1:table/a"},
        {"Sid": "OwnLogStreams", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}
    put = ("dynamodb:PutItem", "arn:aws:dynamodb:eu-west-1:1:table/a")
    get_a, get_b = ("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:1:table/a"), ("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:1:table/b")
    assert grants_not_relied_on(policy, {put, get_a, get_b}, RUNTIME_SIDS) == ["dynamodb:GetItem on table/a"]
    assert grants_not_relied_on(policy, {put, get_b}, RUNTIME_SIDS) == ["dynamodb:GetItem on table/a"]
    assert grants_not_relied_on(policy, {get_b}, RUNTIME_SIDS) == [
        "dynamodb:GetItem on table/a", "dynamodb:PutItem on table/a"]


def post_stripe(client: Client, body: bytes):
    return client.http.post("/webhooks/stripe", headers=stripe_headers(body), body=body)


Outcome = tuple[int, str | None]  # a step's HTTP status, and the outcome or error it answered
Step = Callable[[], dict[str, Outcome]]


def run_steps(steps: list[Step], until_denied: bool = False) -> dict[str, Outcome]:
    """The steps' outcomes in order; with `until_denied`, none after the first step that
    storage refused (503): a grant shown to be needed need not run the rest of the flows."""
    results: dict[str, Outcome] = {}
    for step in steps:
        outcomes = step()
        results.update(outcomes)
        if until_denied and any(status == 503 for status, _ in outcomes.values()):
            break
    return results


def api_flow(client: Client) -> dict[str, Outcome]:
    return run_steps(api_steps(client))


def api_steps(client: Client) -> list[Step]:
    """Every storage path of the API function on fresh ids, in order."""
    tag = uuid.uuid4().hex[:10]
    intent = lambda status: payment_intent(f"pi_{tag}", status, customer=f"cus_{tag}", merchant=f"m_{tag}")  # noqa: E731
    newer = stripe_event(f"evt_{tag}_new", "payment_intent.succeeded", 1767261700, intent("succeeded"))
    older = stripe_event(f"evt_{tag}_old", "payment_intent.processing", 1767261650, intent("processing"))
    ignored = json.dumps({"id": f"evt_{tag}_ign", "type": "customer.created", "created": 1767261600,
                          "data": {"object": {"id": f"cus_{tag}"}}}).encode()

    def outcome(response) -> str | None:
        body = response.json_body or {}
        events = body.get("events") or [body]
        return events[0].get("outcome") or body.get("error")

    steps = {
        "in-order webhook": lambda: post_stripe(client, newer),
        "redelivery": lambda: post_stripe(client, newer),
        "out-of-order webhook": lambda: post_stripe(client, older),
        "non-payment webhook": lambda: post_stripe(client, ignored),
        "get transaction": lambda: client.http.get(f"/transactions/stripe/pi_{tag}"),
        "list by customer": lambda: client.http.get(f"/transactions?customer_id=cus_{tag}"),
        "list by merchant": lambda: client.http.get(f"/transactions?merchant_id=m_{tag}"),
        "next page (signed cursor)": lambda: client.http.get(
            f"/transactions?merchant_id=m_{tag}&limit=1&cursor={first_cursor(client, tag)}"),
        "get event": lambda: client.http.get(f"/events/stripe/evt_{tag}_old"),
        "replay": lambda: client.http.post(f"/events/stripe/evt_{tag}_old/replay"),
        "daily analytics": lambda: client.http.get("/analytics/daily?from=2026-01-01&to=2026-01-31"),
        "reconciliation reports": lambda: client.http.get("/admin/reconciliations?limit=50"),
        "recent alerts": lambda: client.http.get("/admin/alerts?limit=5"),
    }
    def answered(name: str, request: Callable[[], object]) -> Step:
        def step() -> dict[str, Outcome]:
            response = request()
            return {name: (response.status_code, outcome(response))}
        return step

    return [answered(name, request) for name, request in steps.items()]


def deploy_functions_without_code(url: str) -> None:
    """The prod functions a redrive invokes, in the emulator's Lambda without Docker (an
    invocation answers its own event: a consumer that failed nothing, a job that ran)."""
    import io
    import urllib.request
    import zipfile

    request = urllib.request.Request(f"{url}/moto-api/config", method="POST",
                                     data=json.dumps({"lambda": {"use_docker": False}}).encode())
    urllib.request.urlopen(request, timeout=10).close()
    role = provision.client("iam", url).create_role(
        RoleName="redrive-targets", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.py", "def handler(event, context):\n    return event\n")
    for function in (*STREAM_HANDLERS, *SCHEDULED_JOBS):
        provision.client("lambda", url).create_function(
            FunctionName=lambda_name(STAGE, function), Runtime="python3.11", Role=role["Role"]["Arn"],
            Handler="app.handler", Code={"ZipFile": archive.getvalue()})


BEFORE_THE_TRIM_HORIZON = ("1000000000000000000001", "1000000000000000000002")
"""A range older than the shard's first record: what a letter names once the stream trimmed it."""


def operations_steps(stack: IamStack, client: Client) -> list[Step]:
    """The admin routes' storage paths (docs/api.md section 11), in order: the dead-letter
    depths; a redrive of Lambda's on-failure record for the latest stream record (re-read,
    handed to the consumer through Lambda) beside a letter it cannot read (released, stays);
    a redrive of each job's failed invocation (invoked again) beside one naming no job; each
    consumer queue's letters redriven back; a bulk replay (the index). Each redrive step
    empties its queue afterwards, so letters that could not be redriven do not pile up for
    the next test."""
    admin_sqs = stack.client_as("admin", "sqs")
    queue_url = lambda logical: f"{stack.endpoint_url}/{MOTO_ACCOUNT}/{stack.outputs[logical].split(':')[-1]}"  # noqa: E731

    def redrive(name: str) -> Outcome:
        response = client.http.post(f"/admin/dead-letters/{name}/redrive")
        if response.status_code != 200:
            return response.status_code, None
        report = response.json_body
        done = [k for k in ("redriven", "failed") if report[k]] + [
            f"reapplied {k}" for k, n in report.get("reapplied", {}).items() if n]
        return 200, " and ".join(done) or "nothing"

    def redrive_stream_failures() -> dict[str, Outcome]:
        from chalicelib.domain.dead_letters import StreamFailure, stream_failure_record

        streams = stack.client_as("admin", "dynamodbstreams")
        stream_arn = stack.outputs["TransactionsStreamArn"]
        (shard,) = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        last = latest_sequence_number(streams, stream_arn, shard["ShardId"])
        for function in STREAM_HANDLERS:
            failure = StreamFailure(function, stream_arn, shard["ShardId"], last, last)
            arn = f"arn:aws:lambda:{provision.DEFAULT_REGION}:{MOTO_ACCOUNT}:function:{lambda_name(STAGE, function)}"
            admin_sqs.send_message(QueueUrl=queue_url("StreamFailuresQueueArn"), MessageBody=json.dumps(
                stream_failure_record(failure, arn, 1, "RetryAttemptsExhausted", "2026-01-01T10:00:00Z")))
        for function in STREAM_HANDLERS:  # the stream no longer holds these: re-applied from the table
            failure = StreamFailure(function, stream_arn, shard["ShardId"], *BEFORE_THE_TRIM_HORIZON)
            arn = f"arn:aws:lambda:{provision.DEFAULT_REGION}:{MOTO_ACCOUNT}:function:{lambda_name(STAGE, function)}"
            admin_sqs.send_message(QueueUrl=queue_url("StreamFailuresQueueArn"), MessageBody=json.dumps(
                stream_failure_record(failure, arn, 2, "RetryAttemptsExhausted",
                                      f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%S}Z")))
        admin_sqs.send_message(QueueUrl=queue_url("StreamFailuresQueueArn"), MessageBody="not a record")
        settled = datetime.now(timezone.utc) + timedelta(hours=26)  # the table path recounts settled days only
        original_clock, wiring.utc_now = wiring.utc_now, lambda: settled
        wiring.dead_letter_service.cache_clear()
        try:
            return {"redrive stream failures": redrive("stream-failures")}
        finally:
            wiring.utc_now = original_clock
            wiring.dead_letter_service.cache_clear()
            take_letters(admin_sqs, queue_url("StreamFailuresQueueArn"), "")

    def redrive_failed_jobs() -> dict[str, Outcome]:
        for job in SCHEDULED_JOBS:
            rule = f"arn:aws:events:{provision.DEFAULT_REGION}:{MOTO_ACCOUNT}:rule/{lambda_name(STAGE, job)}-event"
            admin_sqs.send_message(QueueUrl=queue_url("ScheduleDeadLetterQueueArn"), MessageBody=json.dumps(
                {"detail-type": "Scheduled Event", "source": "aws.events", "resources": [rule], "detail": {}}))
        admin_sqs.send_message(QueueUrl=queue_url("ScheduleDeadLetterQueueArn"), MessageBody="{}")  # names no job
        try:
            return {"redrive failed jobs": redrive("schedule")}
        finally:
            take_letters(admin_sqs, queue_url("ScheduleDeadLetterQueueArn"), "")

    def bulk_replay() -> dict[str, Outcome]:
        now = datetime.now(timezone.utc)
        response = client.http.post("/admin/replay", headers={"Content-Type": "application/json"}, body=json.dumps({
            "provider": "stripe", "from": f"{now:%Y-%m-%d}T00:00:00Z", "to": f"{now:%Y-%m-%dT%H:%M:%S}Z",
            "dry_run": False}).encode())
        return {"bulk replay": (response.status_code, "matched" if (response.json_body or {}).get("matched") else None)}

    by_name = lambda queue: f"{stack.endpoint_url}/{MOTO_ACCOUNT}/{queue}"  # noqa: E731
    steps: list[Step] = [
        lambda: {"list dead letters": (client.http.get("/admin/dead-letters").status_code, None)},
        redrive_stream_failures,
        redrive_failed_jobs,
    ]
    for queue in dead_letter_queues(f"payment-webhooks-{STAGE}"):
        if queue.redrive == "queue":  # an SQS consumer's: back to its source queue
            steps.append(partial(redrive_consumer_letters, stack, redrive, queue.name, by_name(queue.queue),
                                 by_name(queue.source)))
    return [*steps, bulk_replay]


def latest_sequence_number(streams, stream_arn: str, shard_id: str) -> str:
    """The sequence number of a recent record of the shard (the last of its first page)."""
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return streams.get_records(ShardIterator=iterator, Limit=1000)["Records"][-1]["dynamodb"]["SequenceNumber"]


def redrive_consumer_letters(stack: IamStack, redrive: Callable[[str], Outcome], name: str,
                             dead_letter_url: str, source_url: str) -> dict[str, Outcome]:
    """Two letters in a consumer's dead-letter queue, redriven twice: the first request's
    budget runs out once it has moved one back (the other is released), the second moves
    the other; then both must be in the source queue and neither in the dead-letter queue.
    Steps that moved the wrong thing answer their status with outcome "lost"."""
    from chalicelib.services import dead_letters

    tag = uuid.uuid4().hex[:10]
    admin_sqs = stack.client_as("admin", "sqs")
    bodies = {json.dumps({"letter": f"{tag}-{n}"}) for n in range(2)}
    for body in sorted(bodies):
        admin_sqs.send_message(QueueUrl=dead_letter_url, MessageBody=body)
    spent = [False]
    original = dead_letters.DeadLetterService.__init__

    def with_short_budget(self, *args, **kwargs) -> None:  # the budget is spent by the first move back
        original(self, *args, **{**kwargs, "monotonic": lambda: 1e12 if spent[0] else 0.0})

    dead_letters.DeadLetterService.__init__ = with_short_budget
    wiring.reset()
    sqs = wiring.aws_client("sqs")
    mark = lambda **_: spent.__setitem__(0, True)  # noqa: E731
    sqs.meta.events.register("after-call.sqs.SendMessage", mark)
    try:
        first = redrive(name)
    finally:
        dead_letters.DeadLetterService.__init__ = original
        sqs.meta.events.unregister("after-call.sqs.SendMessage", mark)
        wiring.reset()
    second = redrive(name)
    moved = take_letters(admin_sqs, source_url, tag)
    left = take_letters(admin_sqs, dead_letter_url, tag)
    ok = moved == bodies and not left
    return {f"redrive {name} (budget spent)": first,
            f"redrive {name}": (second[0], second[1] if ok else "lost")}


def take_letters(sqs, url: str, tag: str) -> set[str]:
    """The bodies of `tag`'s letters now visible in the queue (every letter for ""), deleted from it."""
    found: set[str] = set()
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            if tag in message["Body"]:
                found.add(message["Body"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def first_cursor(client: Client, tag: str) -> str:
    """A page of one is followed by a cursor, signed with the cursor key (a 503 before it
    is readable)."""
    page = client.http.get(f"/transactions?merchant_id=m_{tag}&limit=1")
    return (page.json_body or {}).get("next_cursor") or "unreadable"


def test_the_api_function_ingests_queries_and_replays_with_only_its_policy_and_needs_all_of_it(
        app_as, stack: IamStack) -> None:
    since = stack.authorizations.mark()
    client = app_as(API_HANDLER)
    results = api_flow(client)
    assert run_steps(operations_steps(stack, client)) == {
        "list dead letters": (200, None),
        "redrive stream failures": (200, "redriven and failed and reapplied transactions and reapplied buckets"),
        "redrive failed jobs": (200, "redriven and failed"),
        "redrive payment-alerts (budget spent)": (200, "redriven and failed"),
        "redrive payment-alerts": (200, "redriven"),
        "redrive risk-assessments (budget spent)": (200, "redriven and failed"),
        "redrive risk-assessments": (200, "redriven"),
        "bulk replay": (200, "matched"),
    }
    assert results == {
        "in-order webhook": (200, "applied"), "redelivery": (200, "duplicate"),
        "out-of-order webhook": (200, "stale"), "non-payment webhook": (200, "ignored"),
        "get transaction": (200, "applied"), "list by customer": (200, None), "list by merchant": (200, None),
        "next page (signed cursor)": (200, None),
        "get event": (200, "stale"), "replay": (200, "stale"), "daily analytics": (200, None),
        "reconciliation reports": (200, None),
        "recent alerts": (200, None),
    }
    assert_every_grant_relied_on(stack, API_HANDLER, API_POLICY, since)


@pytest.mark.parametrize("grant", removal_tier("api", API_REDUCED))
def test_without_any_one_api_grant_some_flow_is_refused(app_as, stack: IamStack, grant: str) -> None:
    """Without any single (action, resource) pair of its policy, some API flow is refused
    by IAM (the app answers 503 when storage denies it). The flows stop at the first refusal."""
    client = app_as(grant)
    results = run_steps([*api_steps(client), *operations_steps(stack, client)], until_denied=True)
    denied = {step for step, (status, _) in results.items() if status == 503}
    assert denied, f"the API function works without {grant}: the policy grants more than it needs"


def test_the_api_function_is_allowed_its_exact_resources_through_the_extended_checks(stack: IamStack) -> None:
    """Stock moto would deny these: it checks DynamoDB and Secrets Manager against '*'."""
    ddb = stack.client_as(API_HANDLER, "dynamodb")
    key = {"pk": {"S": "stripe#nothing"}}
    assert status_of(ddb.get_item, TableName=stack.outputs["TransactionsTableName"], Key=key) == 200
    assert status_of(ddb.query, TableName=stack.outputs["TransactionsTableName"], IndexName="by-customer",
                     KeyConditionExpression="customer_id = :c",
                     ExpressionAttributeValues={":c": {"S": "x"}}) == 200
    secrets = stack.client_as(API_HANDLER, "secretsmanager")
    assert status_of(secrets.get_secret_value, SecretId=stack.outputs["WebhookSecretsId"]) == 200


def test_the_api_function_is_denied_everything_outside_its_policy(stack: IamStack) -> None:
    ddb = stack.client_as(API_HANDLER, "dynamodb")
    ours, theirs = stack.outputs["TransactionsTableName"], stack.other["TransactionsTableName"]
    key = {"pk": {"S": "stripe#x"}}
    denied = {
        "DeleteTable": status_of(ddb.delete_table, TableName=ours),
        "Scan": status_of(ddb.scan, TableName=ours),
        "DeleteItem": status_of(ddb.delete_item, TableName=ours, Key=key),
        "Query on the base table": status_of(
            ddb.query, TableName=ours, KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "x"}}),
        "GetItem on another stage's table": status_of(ddb.get_item, TableName=theirs, Key=key),
        "a transaction writing another stage's table": status_of(ddb.transact_write_items, TransactItems=[
            {"Put": {"TableName": stack.other["EventsTableName"], "Item": {"pk": {"S": "e"}}}}]),
        "another stage's secret": status_of(
            stack.client_as(API_HANDLER, "secretsmanager").get_secret_value,
            SecretId=stack.other["WebhookSecretsId"]),
        "another bucket": status_of(
            stack.client_as(API_HANDLER, "s3").list_objects_v2, Bucket=stack.other_bucket),
        "publishing to the alerts topic": status_of(
            stack.client_as(API_HANDLER, "sns").publish, TopicArn=stack.outputs["AlertsTopicArn"], Message="x"),
        "the stream": status_of(
            stack.client_as(API_HANDLER, "dynamodbstreams").describe_stream,
            StreamArn=stack.outputs["TransactionsStreamArn"]),
    }
    assert denied == {name: DENIED for name in denied}


def test_an_admin_may_do_what_the_function_may_not(stack: IamStack) -> None:
    """The denials above are the policy's doing, not a broken emulator."""
    ddb = stack.client_as("admin", "dynamodb")
    assert status_of(ddb.scan, TableName=stack.other["TransactionsTableName"]) == 200
    assert status_of(stack.client_as("admin", "s3").list_objects_v2, Bucket=stack.other_bucket) == 200


def analytics_flow(stack: IamStack, monkeypatch: pytest.MonkeyPatch, user: str) -> dict[str, bool]:
    """What the analytics function's role is used for, with `user`'s keys: Lambda's
    mapping reading the stream, the handler applying the batch (twice: the second is a
    redelivery, which takes the read path), and Lambda's on-failure delivery to SQS."""
    event = stream_event_as(stack, user)
    if event is None:
        return {"read the stream": False}
    results = {"read the stream": True}
    become(stack, monkeypatch, user)
    from app import update_daily_analytics as handler
    for attempt in ("apply the batch", "apply it again"):
        response = handler(event, FakeLambdaContext())
        results[attempt] = response == {"batchItemFailures": [], "state": {}}
    results["deliver a failed batch"] = deliver_stream_failure_as(stack, user)
    return results


def stream_event_as(stack: IamStack, user: str) -> dict | None:
    """Lambda's mapping reading the transactions stream with `user`'s keys: the event it
    would invoke a consumer with, or None when a read is denied or finds nothing."""
    from botocore.exceptions import ClientError

    stream_arn = stack.outputs["TransactionsStreamArn"]
    try:
        streams = stack.users[user].client("dynamodbstreams", stack.endpoint_url)
        (shard,) = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator, Limit=100)["Records"]
    except ClientError:
        return None
    return lambda_event(records, stream_arn, shard["ShardId"], datetime.now(timezone.utc)) if records else None


def deliver_stream_failure_as(stack: IamStack, user: str) -> bool:
    """Lambda's on-failure delivery to the stream failures queue with `user`'s keys."""
    queue = stack.client_as(user, "sqs")
    url = stack.outputs["StreamFailuresQueueArn"].split(":")[-1]
    return status_of(
        queue.send_message, QueueUrl=f"{stack.endpoint_url}/{MOTO_ACCOUNT}/{url}",
        MessageBody=json.dumps({"requestContext": {"condition": "RetryAttemptsExhausted"}})) == 200


def schedule_dead_letter_queue(stack: IamStack) -> str:
    return stack.outputs["ScheduleDeadLetterQueueArn"].split(":")[-1]


def deliver_failed_run_as(stack: IamStack, user: str) -> bool:
    """Lambda's delivery of a scheduled job's failed invocation to its dead-letter queue,
    with `user`'s keys."""
    return status_of(
        stack.client_as(user, "sqs").send_message,
        QueueUrl=f"{stack.endpoint_url}/{MOTO_ACCOUNT}/{schedule_dead_letter_queue(stack)}", MessageBody="{}") == 200


def test_the_analytics_function_reads_the_stream_and_updates_the_figures_with_only_its_policy_and_needs_all_of_it(
        app_as, stack: IamStack, monkeypatch: pytest.MonkeyPatch) -> None:
    since = stack.authorizations.mark()
    api = app_as(API_HANDLER)
    assert api_flow(api)["in-order webhook"] == (200, "applied")
    assert analytics_flow(stack, monkeypatch, ANALYTICS) == {
        "read the stream": True, "apply the batch": True, "apply it again": True, "deliver a failed batch": True}
    daily = app_as(API_HANDLER).http.get("/analytics/daily?from=2026-01-01&to=2026-01-01&provider=stripe")
    assert daily.status_code == 200, daily.body
    assert daily.json_body["days"][0]["count"] >= 1
    assert_every_grant_relied_on(stack, ANALYTICS, ANALYTICS_POLICY, since)


@pytest.mark.parametrize("grant", removal_tier("analytics", ANALYTICS_REDUCED))
def test_without_any_one_analytics_grant_some_flow_is_refused(app_as, stack: IamStack, monkeypatch: pytest.MonkeyPatch, grant: str) -> None:
    assert api_flow(app_as(API_HANDLER))["in-order webhook"] == (200, "applied")
    results = analytics_flow(stack, monkeypatch, grant)
    assert not all(results.values()), f"the analytics function works without {grant}: {results}"


def test_the_analytics_function_is_denied_everything_outside_its_policy(stack: IamStack) -> None:
    ddb = stack.client_as(ANALYTICS, "dynamodb")
    key = {"pk": {"S": "2026-01"}, "sk": {"S": "x"}}
    denied = {
        "reading transactions": status_of(ddb.get_item, TableName=stack.outputs["TransactionsTableName"],
                                          Key={"pk": {"S": "stripe#x"}}),
        "another stage's analytics": status_of(ddb.get_item, TableName=stack.other["AnalyticsTableName"], Key=key),
        "another stage's stream": status_of(
            stack.client_as(ANALYTICS, "dynamodbstreams").describe_stream, StreamArn=stack.other["TransactionsStreamArn"]),
        "the signing secrets": status_of(stack.client_as(ANALYTICS, "secretsmanager").get_secret_value,
                                         SecretId=stack.outputs["WebhookSecretsId"]),
        "deleting figures": status_of(ddb.delete_item, TableName=stack.outputs["AnalyticsTableName"], Key=key),
    }
    assert denied == {name: DENIED for name in denied}


def archival_flow(stack: IamStack, app_as: Callable[[str], Client], user: str) -> dict[str, bool]:
    """The archival job's runs with `user`'s keys on fresh old transactions: one that dies
    mid-partition, then one that recovers (consistent re-reads of the committed part's
    items) and finishes, with a stray part left by a dead run to delete; then Lambda's
    delivery of a failed invocation to the dead-letter queue."""
    from botocore.exceptions import ClientError

    assert api_flow(app_as(API_HANDLER))["in-order webhook"] == (200, "applied")  # created 2026-01-01
    bucket = stack.outputs["ArchiveBucketName"]
    admin_s3 = stack.client_as("admin", "s3")
    stray = "transactions/provider=stripe/dt=2026-01-01/part-99999.jsonl.gz"
    admin_s3.put_object(Bucket=bucket, Key=stray, Body=b"left by a run that died")
    job = app_as(user)
    event = job.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    results: dict[str, bool] = {}
    fail_first_call(wiring.aws_client("dynamodb"), "UpdateItem")  # the run dies mid-partition
    try:
        job.lambda_.invoke(ARCHIVAL, event)
    except Exception:  # noqa: BLE001 - the injected crash, or a denial
        pass
    try:  # the next run finishes the committed part first (crash recovery), then goes on
        report = job.lambda_.invoke(ARCHIVAL, event).payload
        results["archive"] = report["complete"] is True and report["archived"] >= 1
    except Exception:  # noqa: BLE001 - a denied call surfaces as the job's error
        results["archive"] = False
    try:
        admin_s3.head_object(Bucket=bucket, Key=stray)
        results["remove the stray part"] = False
    except ClientError:
        results["remove the stray part"] = True
    results["dead-letter a failed run"] = deliver_failed_run_as(stack, user)
    return results


def fail_first_call(client, operation: str) -> None:
    """The client's next `operation` fails as if the process died there (no retry)."""
    from botocore.awsrequest import AWSResponse

    pending = [True]

    def fail(**_kwargs):
        if not pending:
            return None
        pending.clear()
        return (AWSResponse("https://injected.invalid", 500, {}, None),
                {"Error": {"Code": "InternalServerError", "Message": "injected crash"},
                 "ResponseMetadata": {"HTTPStatusCode": 500}})

    client.meta.events.register(f"before-call.{client.meta.service_model.endpoint_prefix}.{operation}", fail)


@pytest.fixture
def long_lambda_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """The job's own deadline reads the remaining time: give it the 15 minutes of prod."""
    monkeypatch.setattr(chalice.test, "LambdaContext", partial(LambdaContext, max_runtime_ms=900_000))


def test_the_archival_job_archives_with_only_its_policy_and_needs_all_of_it(
        app_as, stack: IamStack, long_lambda_context) -> None:
    since = stack.authorizations.mark()
    assert archival_flow(stack, app_as, ARCHIVAL) == {
        "archive": True, "remove the stray part": True, "dead-letter a failed run": True}
    listed = stack.client_as("admin", "s3").list_objects_v2(Bucket=stack.outputs["ArchiveBucketName"],
                                                            Prefix="transactions/provider=stripe/dt=2026-01-01/")
    assert any(o["Key"].endswith("_manifest.json") for o in listed["Contents"])
    assert_every_grant_relied_on(stack, ARCHIVAL, ARCHIVAL_POLICY, since)


@pytest.mark.parametrize("grant", removal_tier("archival", ARCHIVAL_REDUCED))
def test_without_any_one_archival_grant_some_flow_is_refused(app_as, stack: IamStack, long_lambda_context, grant: str) -> None:
    results = archival_flow(stack, app_as, grant)
    assert not all(results.values()), f"the archival job works without {grant}: {results}"


def test_the_archival_job_is_denied_everything_outside_its_policy(stack: IamStack) -> None:
    s3, ddb = stack.client_as(ARCHIVAL, "s3"), stack.client_as(ARCHIVAL, "dynamodb")
    bucket = stack.outputs["ArchiveBucketName"]
    denied = {
        "another bucket": status_of(s3.list_objects_v2, Bucket=stack.other_bucket),
        "another stage's archive": status_of(s3.list_objects_v2, Bucket=stack.other["ArchiveBucketName"]),
        "objects outside its prefixes": status_of(s3.put_object, Bucket=bucket, Key="elsewhere/x", Body=b"x"),
        "the bucket policy": status_of(s3.get_bucket_policy, Bucket=bucket),
        "the events table": status_of(ddb.get_item, TableName=stack.outputs["EventsTableName"],
                                      Key={"pk": {"S": "stripe#x"}}),
        "writing whole transactions": status_of(ddb.put_item, TableName=stack.outputs["TransactionsTableName"],
                                                Item={"pk": {"S": "stripe#x"}}),
        "the signing secrets": status_of(stack.client_as(ARCHIVAL, "secretsmanager").get_secret_value,
                                         SecretId=stack.outputs["WebhookSecretsId"]),
    }
    assert denied == {name: DENIED for name in denied}


# --- payment alerts (docs/api.md section 9) ---

def alerts_flow(stack: IamStack, monkeypatch: pytest.MonkeyPatch, user: str) -> dict[str, bool]:
    """What send_payment_alerts' role is used for, with `user`'s keys: Lambda's mapping
    reading the alerts queue, the handler sending a failed payment's alert (record, publish,
    mark sent), the same message redelivered (the read path: already sent), and the
    mapping deleting the message."""
    from botocore.exceptions import ClientError

    tag = uuid.uuid4().hex[:10]
    view = {"provider": "stripe", "id": f"pi_{tag}", "status": "failed", "amount": 100, "currency": "USD",
            "merchant_id": f"m_{tag}"}
    feed_event = {"source": "payment-webhooks", "detail-type": "payment.failed", "detail": {
        "id": f"stripe/pi_{tag}/2", "version": 2, "transaction": view,
        "previous": {"status": "pending", "amount_refunded": 0}, "cause": None}}
    name = stack.outputs["PaymentAlertsQueueArn"].split(":")[-1]
    url = f"{stack.endpoint_url}/{MOTO_ACCOUNT}/{name}"
    stack.client_as("admin", "sqs").send_message(QueueUrl=url, MessageBody=json.dumps(feed_event))
    queue = stack.client_as(user, "sqs")
    results: dict[str, bool] = {}
    try:
        results["queue attributes"] = "QueueArn" in queue.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        messages = queue.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    except ClientError:
        return {"read the queue": False}
    become(stack, monkeypatch, user)
    from app import send_payment_alerts as handler
    from local.queue_poller import lambda_record
    event = {"Records": [lambda_record(m, stack.outputs["PaymentAlertsQueueArn"]) for m in messages]}
    for attempt in ("send the alert", "take its redelivery"):
        results[attempt] = handler(event, FakeLambdaContext(ALERTS)) == {"batchItemFailures": []}
    results["delete the messages"] = all(
        status_of(queue.delete_message, QueueUrl=url, ReceiptHandle=m["ReceiptHandle"]) == 200 for m in messages)
    return results


def test_the_alerts_function_sends_an_alert_once_with_only_its_policy_and_needs_all_of_it(
        app_as, stack: IamStack, monkeypatch: pytest.MonkeyPatch) -> None:
    since = stack.authorizations.mark()
    assert alerts_flow(stack, monkeypatch, ALERTS) == {
        "queue attributes": True, "send the alert": True, "take its redelivery": True, "delete the messages": True}
    listed = app_as(API_HANDLER).http.get("/admin/alerts?limit=200")
    assert listed.status_code == 200, listed.body
    assert any(item["kind"] == "payment_failed" for item in listed.json_body["items"])
    assert_every_grant_relied_on(stack, ALERTS, ALERTS_POLICY, since)


@pytest.mark.parametrize("grant", removal_tier("alerts", ALERTS_REDUCED))
def test_without_any_one_alerts_grant_some_flow_is_refused(stack: IamStack, monkeypatch: pytest.MonkeyPatch, grant: str) -> None:
    try:
        results = alerts_flow(stack, monkeypatch, grant)
    finally:
        wiring.reset()
    assert not all(results.values()), f"the alerts function works without {grant}: {results}"


def test_the_alerts_function_is_denied_everything_outside_its_policy(stack: IamStack) -> None:
    ddb, sns = stack.client_as(ALERTS, "dynamodb"), stack.client_as(ALERTS, "sns")
    table, key = stack.outputs["AlertsTableName"], {"pk": {"S": "payment_failed#stripe/x"}}
    stream_failures = stack.outputs["StreamFailuresQueueArn"].split(":")[-1]
    denied = {
        "scanning the alerts": status_of(ddb.scan, TableName=table),
        "deleting an alert": status_of(ddb.delete_item, TableName=table, Key=key),
        "another stage's alerts": status_of(ddb.get_item, TableName=stack.other["AlertsTableName"], Key=key),
        "reading transactions": status_of(ddb.get_item, TableName=stack.outputs["TransactionsTableName"],
                                          Key={"pk": {"S": "stripe#x"}}),
        "the operations topic": status_of(sns.publish, TopicArn=stack.outputs["AlertsTopicArn"], Message="x"),
        "another stage's payment alerts": status_of(
            sns.publish, TopicArn=stack.other["PaymentAlertsTopicArn"], Message="x"),
        "another queue": status_of(stack.client_as(ALERTS, "sqs").receive_message,
                                   QueueUrl=f"{stack.endpoint_url}/{MOTO_ACCOUNT}/{stream_failures}"),
    }
    assert denied == {name: DENIED for name in denied}


# --- change feed (docs/api.md section 7) ---

def post_new_payment(client: Client) -> None:
    """A business change on the stream: a new payment, on fresh ids."""
    tag = uuid.uuid4().hex[:10]
    body = stripe_event(f"evt_{tag}", "payment_intent.succeeded", 1767261700, payment_intent(f"pi_{tag}", "succeeded"))
    assert post_stripe(client, body).json_body["events"][0]["outcome"] == "applied"


def feed_flow(stack: IamStack, monkeypatch: pytest.MonkeyPatch, user: str) -> dict[str, bool]:
    """What the feed publisher's role is used for, with `user`'s keys: Lambda's mapping
    reading the stream, the handler putting the batch's business changes on the bus
    (read back through a rule to a queue), and Lambda's on-failure delivery to SQS."""
    from tests.support.feed import receive_feed, subscribe_queue

    event = stream_event_as(stack, user)
    if event is None:
        return {"read the stream": False}
    results = {"read the stream": True}
    name = f"feed-{uuid.uuid4().hex[:10]}"
    sqs = stack.client_as("admin", "sqs")
    url = subscribe_queue(stack.client_as("admin", "events"), sqs, stack.outputs["ChangeFeedBusName"], name)
    become(stack, monkeypatch, user)
    from app import publish_payment_changes as handler
    response = handler(event, FakeLambdaContext())
    results["publish the batch"] = response == {"batchItemFailures": [], "state": {}}
    results["events on the bus"] = bool(receive_feed(sqs, url))
    results["deliver a failed batch"] = deliver_stream_failure_as(stack, user)
    return results


def test_the_feed_publisher_reads_the_stream_and_puts_events_on_its_bus_with_only_its_policy_and_needs_all_of_it(
        app_as, stack: IamStack, monkeypatch: pytest.MonkeyPatch) -> None:
    since = stack.authorizations.mark()
    post_new_payment(app_as(API_HANDLER))
    assert feed_flow(stack, monkeypatch, FEED) == {
        "read the stream": True, "publish the batch": True, "events on the bus": True,
        "deliver a failed batch": True}
    assert_every_grant_relied_on(stack, FEED, FEED_POLICY, since)


@pytest.mark.parametrize("grant", removal_tier("feed", FEED_REDUCED))
def test_without_any_one_feed_publisher_grant_some_flow_is_refused(app_as, stack: IamStack, monkeypatch: pytest.MonkeyPatch, grant: str) -> None:
    post_new_payment(app_as(API_HANDLER))
    results = feed_flow(stack, monkeypatch, grant)
    assert not all(results.values()), f"the feed publisher works without {grant}: {results}"


def test_the_feed_publisher_is_denied_everything_outside_its_policy(stack: IamStack) -> None:
    bus = stack.client_as(FEED, "events")
    entry = {"Source": "payment-webhooks", "DetailType": "payment.updated", "Detail": "{}"}
    denied = {
        "another stage's bus": status_of(
            bus.put_events, Entries=[{**entry, "EventBusName": stack.other["ChangeFeedBusName"]}]),
        "the default bus": status_of(bus.put_events, Entries=[entry]),
        "changing the bus's rules": status_of(
            bus.put_rule, Name="x", EventBusName=stack.outputs["ChangeFeedBusName"],
            EventPattern=json.dumps({"source": ["x"]})),
        "reading transactions": status_of(
            stack.client_as(FEED, "dynamodb").get_item, TableName=stack.outputs["TransactionsTableName"],
            Key={"pk": {"S": "stripe#x"}}),
        "another stage's stream": status_of(
            stack.client_as(FEED, "dynamodbstreams").describe_stream, StreamArn=stack.other["TransactionsStreamArn"]),
        "the signing secrets": status_of(stack.client_as(FEED, "secretsmanager").get_secret_value,
                                         SecretId=stack.outputs["WebhookSecretsId"]),
    }
    assert denied == {name: DENIED for name in denied}


# --- reconciliation (docs/api.md section 10) ---

def reconcile_flow(stack: IamStack, app_as: Callable[[str], Client], user: str) -> dict[str, bool]:
    """The nightly validation with `user`'s keys, on fresh exports: a differing one whose
    first run dies before the move (so the rerun reads its report back and finds its alert
    sent), and a malformed one (set aside); then Lambda's delivery of a failed run."""
    tag = uuid.uuid4().hex[:10]
    bucket, admin_s3 = stack.outputs["ArchiveBucketName"], stack.client_as("admin", "s3")
    differing = f"{tag}-legacy.csv"
    rows = (f"provider,id,amount,currency,status,created_at\n"
            f"stripe,pi_{tag},2000,USD,succeeded,2026-01-01T10:00:00Z\n").encode()
    admin_s3.put_object(Bucket=bucket, Key=f"reconciliation/incoming/{differing}", Body=rows)
    admin_s3.put_object(Bucket=bucket, Key=f"reconciliation/incoming/{tag}-malformed.csv",
                        Body=b"provider,id,amount,currency,status,created_at\nstripe,x,1,EUR,paid,2026-01-01T10:00:00Z\n")
    job = app_as(user)
    event = job.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    results: dict[str, bool] = {}
    fail_first_call(wiring.aws_client("s3"), "CopyObject")  # the first run dies before a move
    try:
        job.lambda_.invoke(RECONCILE, event)
    except Exception:  # noqa: BLE001 - the injected crash, or a denial
        pass
    try:
        run = job.lambda_.invoke(RECONCILE, event).payload
        results["validate"] = run["complete"] is True and differing in run["reconciled"]
        results["set aside the malformed"] = f"{tag}-malformed.csv" in run["rejected"]
    except Exception:  # noqa: BLE001 - a denied call surfaces as the job's error
        results["validate"] = results["set aside the malformed"] = False
    try:
        report = json.loads(admin_s3.get_object(Bucket=bucket, Key=f"reconciliation/reports/{differing}.json")["Body"].read())
        results["report"] = report["missing"] == [{"provider": "stripe", "id": f"pi_{tag}"}]
    except Exception:  # noqa: BLE001
        results["report"] = False
    results["dead-letter a failed run"] = deliver_failed_run_as(stack, user)
    return results


def test_the_reconciliation_job_validates_with_only_its_policy_and_needs_all_of_it(
        app_as, stack: IamStack, long_lambda_context) -> None:
    since = stack.authorizations.mark()
    assert reconcile_flow(stack, app_as, RECONCILE) == {
        "validate": True, "set aside the malformed": True, "report": True, "dead-letter a failed run": True}
    assert_every_grant_relied_on(stack, RECONCILE, RECONCILE_POLICY, since)


@pytest.mark.parametrize("grant", removal_tier("reconcile", RECONCILE_REDUCED))
def test_without_any_one_reconciliation_grant_some_flow_is_refused(app_as, stack: IamStack, long_lambda_context, grant: str) -> None:
    results = reconcile_flow(stack, app_as, grant)
    assert not all(results.values()), f"the reconciliation job works without {grant}: {results}"


def test_the_reconciliation_job_is_denied_everything_outside_its_policy(stack: IamStack) -> None:
    s3, ddb = stack.client_as(RECONCILE, "s3"), stack.client_as(RECONCILE, "dynamodb")
    bucket, table = stack.outputs["ArchiveBucketName"], stack.outputs["TransactionsTableName"]
    denied = {
        "archived parts": status_of(s3.get_object, Bucket=bucket, Key="transactions/x"),
        "writing exports": status_of(s3.put_object, Bucket=bucket, Key="reconciliation/incoming/x", Body=b"x"),
        "deleting reports": status_of(s3.delete_object, Bucket=bucket, Key="reconciliation/reports/x.json"),
        "another stage's archive": status_of(s3.list_objects_v2, Bucket=stack.other["ArchiveBucketName"]),
        "writing transactions": status_of(ddb.update_item, TableName=table, Key={"pk": {"S": "stripe#x"}},
                                          UpdateExpression="SET a = :a", ExpressionAttributeValues={":a": {"S": "x"}}),
        "reading one transaction": status_of(ddb.get_item, TableName=table, Key={"pk": {"S": "stripe#x"}}),
        "another index": status_of(ddb.query, TableName=table, IndexName="by-merchant",
                                   KeyConditionExpression="merchant_id = :m",
                                   ExpressionAttributeValues={":m": {"S": "x"}}),
        "the signing secrets": status_of(stack.client_as(RECONCILE, "secretsmanager").get_secret_value,
                                         SecretId=stack.outputs["WebhookSecretsId"]),
    }
    assert denied == {name: DENIED for name in denied}


def risk_flow(stack: IamStack, app_as: Callable[[str], Client], monkeypatch: pytest.MonkeyPatch,
              user: str) -> dict[str, bool]:
    """What the risk function's role is used for, with `user`'s keys, on a fresh payment
    with a customer: Lambda's SQS mapping reading the queue and receiving the feed event
    the rule delivered, the handler assessing it (consistent read, the customer's recent
    transactions through `by-customer`, the conditional risk write), then Lambda deleting
    the handled message."""
    from app import assess_payment_risk

    tag = uuid.uuid4().hex[:10]
    body = stripe_event(f"evt_{tag}", "payment_intent.succeeded", 1767261700,
                        payment_intent(f"pi_{tag}", "succeeded", customer=f"cus_{tag}", merchant=f"m_{tag}"))
    assert post_stripe(app_as(API_HANDLER), body).status_code == 200
    queue_url = f"{stack.endpoint_url}/{MOTO_ACCOUNT}/payment-webhooks-{STAGE}-risk-assessments"
    feed_event = {"detail-type": "payment.succeeded", "source": "payment-webhooks", "detail": {
        "id": f"stripe/pi_{tag}/1", "version": 1, "transaction": {"provider": "stripe", "id": f"pi_{tag}"},
        "previous": None, "cause": {"event_id": f"evt_{tag}", "type": "payment_intent.succeeded"}}}
    # The queue is the change feed's target too (its rule): earlier tests' payments wait
    # there, and a batch of ten might not hold this one. Only this payment's event is left.
    take_letters(stack.client_as("admin", "sqs"), queue_url, "")  # PurgeQueue: once a minute only
    stack.client_as("admin", "sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(feed_event))
    sqs = stack.client_as(user, "sqs")
    results = {"read the queue": status_of(sqs.get_queue_attributes, QueueUrl=queue_url,
                                           AttributeNames=["QueueArn"]) == 200}
    try:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
        results["receive the feed event"] = True
    except Exception:  # noqa: BLE001 - a denial; the message is taken as Lambda would have, by an admin
        messages = stack.client_as("admin", "sqs").receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
        results["receive the feed event"] = False
    become(stack, monkeypatch, user)
    event = {"Records": [lambda_record(m, f"arn:aws:sqs:{provision.DEFAULT_REGION}:{MOTO_ACCOUNT}:x") for m in messages]}
    results["assess"] = assess_payment_risk(event, FakeLambdaContext(RISK)) == {"batchItemFailures": []}
    stored = stack.client_as("admin", "dynamodb").get_item(
        TableName=stack.outputs["TransactionsTableName"], Key={"pk": {"S": f"stripe#pi_{tag}"}})["Item"]
    results["risk written"] = "risk" in stored
    results["delete the handled message"] = all(
        status_of(sqs.delete_message, QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"]) == 200 for m in messages)
    return results


def test_the_risk_function_assesses_from_its_queue_with_only_its_policy_and_needs_all_of_it(
        app_as, stack: IamStack, monkeypatch) -> None:
    since = stack.authorizations.mark()
    assert risk_flow(stack, app_as, monkeypatch, RISK) == {
        "read the queue": True, "receive the feed event": True, "assess": True, "risk written": True,
        "delete the handled message": True}
    assert_every_grant_relied_on(stack, RISK, RISK_POLICY, since)


@pytest.mark.parametrize("grant", removal_tier("risk", RISK_REDUCED))
def test_without_any_one_risk_grant_some_flow_is_refused(app_as, stack: IamStack, monkeypatch, grant: str) -> None:
    results = risk_flow(stack, app_as, monkeypatch, grant)
    assert not all(results.values()), f"the risk function works without {grant}: {results}"


def test_the_risk_function_is_denied_everything_outside_its_policy(stack: IamStack) -> None:
    ddb, sqs = stack.client_as(RISK, "dynamodb"), stack.client_as(RISK, "sqs")
    ours = stack.outputs["TransactionsTableName"]
    key = {"pk": {"S": "stripe#x"}}
    other_queue = f"{stack.endpoint_url}/{MOTO_ACCOUNT}/payment-webhooks-{OTHER_STAGE}-risk-assessments"
    denied = {
        "writing whole transactions": status_of(ddb.put_item, TableName=ours, Item=key),
        "deleting a transaction": status_of(ddb.delete_item, TableName=ours, Key=key),
        "listing by merchant": status_of(ddb.query, TableName=ours, IndexName="by-merchant",
                                         KeyConditionExpression="merchant_id = :m",
                                         ExpressionAttributeValues={":m": {"S": "m"}}),
        "the events table": status_of(ddb.get_item, TableName=stack.outputs["EventsTableName"], Key=key),
        "another stage's transactions": status_of(ddb.get_item, TableName=stack.other["TransactionsTableName"], Key=key),
        "another stage's risk queue": status_of(sqs.receive_message, QueueUrl=other_queue),
        "sending to its own queue": status_of(
            sqs.send_message, QueueUrl=f"{stack.endpoint_url}/{MOTO_ACCOUNT}/payment-webhooks-{STAGE}-risk-assessments",
            MessageBody="{}"),
        "the stream": status_of(stack.client_as(RISK, "dynamodbstreams").describe_stream,
                                StreamArn=stack.outputs["TransactionsStreamArn"]),
    }
    assert denied == {name: DENIED for name in denied}


# --- the dead-letter watch (docs/api.md section 9) ---

def watch_flow(stack: IamStack, app_as: Callable[[str], Client], user: str) -> dict[str, object]:
    """The watch with `user`'s keys: a letter waiting in every dead-letter queue opens an
    incident per queue, alerted once (the next check alerts nothing new); once the queues
    are drained the check closes the incidents; then Lambda's delivery of a failed run."""
    tag = uuid.uuid4().hex[:10]
    admin_sqs = stack.client_as("admin", "sqs")
    urls = [f"{stack.endpoint_url}/{MOTO_ACCOUNT}/{queue.queue}"
            for queue in dead_letter_queues(f"payment-webhooks-{STAGE}")]
    for url in urls:
        drain(admin_sqs, url)
        admin_sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"letter": tag}))
    job = app_as(user)
    event = job.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])

    def check() -> list[tuple[int, bool]] | None:
        try:
            return [(q["depth"], q["alerted"]) for q in job.lambda_.invoke(WATCH, event).payload["queues"]]
        except Exception:  # noqa: BLE001 - a denied call surfaces as the job's error
            return None

    results: dict[str, object] = {"letters waiting": check(), "still waiting": check()}
    for url in urls:
        take_letters(admin_sqs, url, "")
    results["drained"] = check()
    results["dead-letter a failed run"] = deliver_failed_run_as(stack, user)
    take_letters(admin_sqs, f"{stack.endpoint_url}/{MOTO_ACCOUNT}/{schedule_dead_letter_queue(stack)}", "")
    return results


def drain(sqs, url: str, timeout: float = 60.0) -> None:
    """Empty the queue, letters in flight included (a redrive refused midway leaves some
    invisible until their visibility timeout ends)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        take_letters(sqs, url, "")
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        if not any(int(attributes[a]) for a in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")):
            return
        assert time.monotonic() < deadline, f"{url} did not drain: {attributes}"
        time.sleep(1)


def test_the_dead_letter_watch_alerts_once_per_incident_with_only_its_policy_and_needs_all_of_it(
        app_as, stack: IamStack) -> None:
    since = stack.authorizations.mark()
    queues = len(dead_letter_queues(f"payment-webhooks-{STAGE}"))
    assert watch_flow(stack, app_as, WATCH) == {
        "letters waiting": [(1, True)] * queues, "still waiting": [(1, False)] * queues,
        "drained": [(0, False)] * queues, "dead-letter a failed run": True}
    assert_every_grant_relied_on(stack, WATCH, WATCH_POLICY, since)


@pytest.mark.parametrize("grant", removal_tier("watch", WATCH_REDUCED))
def test_without_any_one_watch_grant_some_flow_is_refused(app_as, stack: IamStack, grant: str) -> None:
    results = watch_flow(stack, app_as, grant)
    assert None in results.values() or not results["dead-letter a failed run"], \
        f"the watch works without {grant}: {results}"


def test_the_dead_letter_watch_is_denied_everything_outside_its_policy(stack: IamStack) -> None:
    sqs, ddb = stack.client_as(WATCH, "sqs"), stack.client_as(WATCH, "dynamodb")
    queue = lambda name: f"{stack.endpoint_url}/{MOTO_ACCOUNT}/{name}"  # noqa: E731
    denied = {
        "reading a letter": status_of(sqs.receive_message, QueueUrl=queue(f"payment-webhooks-{STAGE}-stream-failures")),
        "purging a queue": status_of(sqs.purge_queue, QueueUrl=queue(f"payment-webhooks-{STAGE}-schedule-dlq")),
        "another stage's queue": status_of(sqs.get_queue_attributes, AttributeNames=["All"],
                                           QueueUrl=queue(f"payment-webhooks-{OTHER_STAGE}-stream-failures")),
        "scanning the alerts": status_of(ddb.scan, TableName=stack.outputs["AlertsTableName"]),
        "reading transactions": status_of(ddb.get_item, TableName=stack.outputs["TransactionsTableName"],
                                          Key={"pk": {"S": "stripe#x"}}),
        "the operations topic": status_of(stack.client_as(WATCH, "sns").publish,
                                          TopicArn=stack.outputs["AlertsTopicArn"], Message="x"),
    }
    assert denied == {name: DENIED for name in denied}
