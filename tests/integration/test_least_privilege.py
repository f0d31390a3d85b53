"""Proof that each function's checked-in IAM policy is enough, and no more.

A dedicated emulator (IAM resource checks extended by tests.support.iam_emulator) gets
the prod stage's resources from infra/resources.json, plus the dev stage's as the "other"
resources a prod function must not reach. Each function gets an IAM user holding exactly
its `.chalice/policy-prod-<function>.json` (account and region filled in, as `make deploy`
does); with moto's IAM enforcement on, the function's real code runs with that user's
keys and must succeed, while calls outside the policy must come back 403.

Limits: moto evaluates identity policies only (no SCPs, boundaries, resource policies or
conditions, hence none in our policies); what the Lambda service does with the role
(writing logs, X-Ray segments, polling the stream for the mapping) is not exercised, but
the stream reads and on-failure delivery are replayed here with the function's keys."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial

import chalice.test
import pytest
from chalice.local import LambdaContext
from chalice.test import Client

from chalicelib import wiring
from deploy.stage import API_HANDLER
from local import provision
from local.invocation import FakeLambdaContext
from local.stream_poller import lambda_event
from tests.support.emulator import EmulatorProcess
from tests.support.iam import (
    ADMIN_POLICY, MOTO_ACCOUNT, Credentials, create_user, function_policy, iam_enforced, status_of, without_each_grant,
)
from tests.support.signing import REPO_ROOT, payment_intent, stripe_event, stripe_headers

pytestmark = pytest.mark.filterwarnings("ignore:IAMAuthorizer is not a supported in local mode")

STAGE, OTHER_STAGE = "prod", "dev"
DENIED = 403


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
FEED = "publish_payment_changes"
FEED_POLICY = function_policy(STAGE, FEED)
FEED_REDUCED = without_each_grant(FEED_POLICY, RUNTIME_SIDS)


@dataclass
class IamStack:
    endpoint_url: str
    outputs: dict[str, str]
    other: dict[str, str]
    users: dict[str, Credentials]
    other_bucket: str

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
            "CHANGE_FEED_BUS": self.outputs["ChangeFeedBusName"],
        }

    def client_as(self, user: str, service: str):
        return self.users[user].client(service, self.endpoint_url)


@pytest.fixture(scope="module")
def stack() -> Iterator[IamStack]:
    process = EmulatorProcess(module="tests.support.iam_emulator")
    try:
        url = process.endpoint_url
        outputs = provision.provision(url, STAGE)
        other = provision.provision(url, OTHER_STAGE)
        other_bucket = "payment-webhooks-somebody-elses-bucket"
        provision.client("s3", url).create_bucket(Bucket=other_bucket)
        users = {"admin": create_user(url, "admin", ADMIN_POLICY),
                 API_HANDLER: create_user(url, f"payment-webhooks-{STAGE}-{API_HANDLER}", API_POLICY)}
        users[ANALYTICS] = create_user(url, f"payment-webhooks-{STAGE}-{ANALYTICS}", ANALYTICS_POLICY)
        reduced = [(f"api {label}", p) for label, p in API_REDUCED.items()]
        users[ARCHIVAL] = create_user(url, f"payment-webhooks-{STAGE}-{ARCHIVAL}", ARCHIVAL_POLICY)
        reduced += [(f"analytics {label}", p) for label, p in ANALYTICS_REDUCED.items()]
        reduced += [(f"archival {label}", p) for label, p in ARCHIVAL_REDUCED.items()]
        users[FEED] = create_user(url, f"payment-webhooks-{STAGE}-{FEED}", FEED_POLICY)
        reduced += [(f"feed {label}", p) for label, p in FEED_REDUCED.items()]
        for number, (label, policy) in enumerate(sorted(reduced)):
            users[label] = create_user(url, f"reduced-{number}", policy)
        with iam_enforced(url):
            yield IamStack(url, outputs, other, users, other_bucket)
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


def post_stripe(client: Client, body: bytes):
    return client.http.post("/webhooks/stripe", headers=stripe_headers(body), body=body)


def api_flow(client: Client) -> dict[str, tuple[int, str | None]]:
    """Every storage path of the API function on fresh ids: step -> (status, outcome)."""
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
    }
    results = {}
    for name, step in steps.items():
        response = step()
        results[name] = (response.status_code, outcome(response))
    return results


def first_cursor(client: Client, tag: str) -> str:
    """A page of one is followed by a cursor, signed with the cursor key (a 503 before it
    is readable)."""
    page = client.http.get(f"/transactions?merchant_id=m_{tag}&limit=1")
    return (page.json_body or {}).get("next_cursor") or "unreadable"


def test_the_api_function_ingests_queries_and_replays_with_only_its_policy(app_as) -> None:
    results = api_flow(app_as(API_HANDLER))
    assert results == {
        "in-order webhook": (200, "applied"), "redelivery": (200, "duplicate"),
        "out-of-order webhook": (200, "stale"), "non-payment webhook": (200, "ignored"),
        "get transaction": (200, "applied"), "list by customer": (200, None), "list by merchant": (200, None),
        "next page (signed cursor)": (200, None),
        "get event": (200, "stale"), "replay": (200, "stale"), "daily analytics": (200, None),
    }


@pytest.mark.parametrize("grant", [f"api {g}" for g in sorted(API_REDUCED)], ids=sorted(API_REDUCED))
def test_every_api_grant_is_needed(app_as, grant: str) -> None:
    """Without any single (action, resource) pair of its policy, some API flow is refused
    by IAM (the app answers 503 when storage denies it; later steps may then 404)."""
    results = api_flow(app_as(grant))
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


def test_the_analytics_function_reads_the_stream_and_updates_the_figures_with_only_its_policy(
        app_as, stack: IamStack, monkeypatch: pytest.MonkeyPatch) -> None:
    api = app_as(API_HANDLER)
    assert api_flow(api)["in-order webhook"] == (200, "applied")
    assert analytics_flow(stack, monkeypatch, ANALYTICS) == {
        "read the stream": True, "apply the batch": True, "apply it again": True, "deliver a failed batch": True}
    daily = app_as(API_HANDLER).http.get("/analytics/daily?from=2026-01-01&to=2026-01-01&provider=stripe")
    assert daily.status_code == 200, daily.body
    assert daily.json_body["days"][0]["count"] >= 1


@pytest.mark.parametrize("grant", [f"analytics {g}" for g in sorted(ANALYTICS_REDUCED)], ids=sorted(ANALYTICS_REDUCED))
def test_every_analytics_grant_is_needed(app_as, stack: IamStack, monkeypatch: pytest.MonkeyPatch, grant: str) -> None:
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
    queue_name = stack.outputs["ScheduleDeadLetterQueueArn"].split(":")[-1]
    results["dead-letter a failed run"] = status_of(
        stack.client_as(user, "sqs").send_message, QueueUrl=f"{stack.endpoint_url}/{MOTO_ACCOUNT}/{queue_name}",
        MessageBody="{}") == 200
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


def test_the_archival_job_archives_with_only_its_policy(app_as, stack: IamStack, long_lambda_context) -> None:
    assert archival_flow(stack, app_as, ARCHIVAL) == {
        "archive": True, "remove the stray part": True, "dead-letter a failed run": True}
    listed = stack.client_as("admin", "s3").list_objects_v2(Bucket=stack.outputs["ArchiveBucketName"],
                                                            Prefix="transactions/provider=stripe/dt=2026-01-01/")
    assert any(o["Key"].endswith("_manifest.json") for o in listed["Contents"])


@pytest.mark.parametrize("grant", [f"archival {g}" for g in sorted(ARCHIVAL_REDUCED)], ids=sorted(ARCHIVAL_REDUCED))
def test_every_archival_grant_is_needed(app_as, stack: IamStack, long_lambda_context, grant: str) -> None:
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


def test_the_feed_publisher_reads_the_stream_and_puts_events_on_its_bus_with_only_its_policy(
        app_as, stack: IamStack, monkeypatch: pytest.MonkeyPatch) -> None:
    post_new_payment(app_as(API_HANDLER))
    assert feed_flow(stack, monkeypatch, FEED) == {
        "read the stream": True, "publish the batch": True, "events on the bus": True,
        "deliver a failed batch": True}


@pytest.mark.parametrize("grant", [f"feed {g}" for g in sorted(FEED_REDUCED)], ids=sorted(FEED_REDUCED))
def test_every_feed_publisher_grant_is_needed(app_as, stack: IamStack, monkeypatch: pytest.MonkeyPatch, grant: str) -> None:
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
