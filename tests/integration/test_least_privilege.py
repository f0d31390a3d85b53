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

import pytest
from chalice.test import Client

from chalicelib import wiring
from deploy.stage import API_HANDLER
from local import provision
from tests.support.emulator import EmulatorProcess
from tests.support.iam import (
    ADMIN_POLICY, Credentials, create_user, function_policy, iam_enforced, status_of, without_each_grant,
)
from tests.support.signing import REPO_ROOT, payment_intent, stripe_event, stripe_headers

pytestmark = pytest.mark.filterwarnings("ignore:IAMAuthorizer is not a supported in local mode")

STAGE, OTHER_STAGE = "prod", "dev"
DENIED = 403


# Grants that no flow here can exercise: the Lambda runtime writes logs and segments.
RUNTIME_SIDS = frozenset({"OwnLogStreams", "Tracing"})
API_POLICY = function_policy(STAGE, API_HANDLER)
API_REDUCED = without_each_grant(API_POLICY, RUNTIME_SIDS)


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
        for number, (label, policy) in enumerate(sorted(API_REDUCED.items())):
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
        for name, value in stack.app_env(user).items():
            monkeypatch.setenv(name, value)
        wiring.reset()
        # A stage name absent from config.json: no config variables replace the ones above.
        client = Client(app, stage_name="least-privilege-test", project_dir=str(REPO_ROOT))
        clients.append(client)
        return client

    yield as_user
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
        "get event": lambda: client.http.get(f"/events/stripe/evt_{tag}_old"),
        "replay": lambda: client.http.post(f"/events/stripe/evt_{tag}_old/replay"),
    }
    results = {}
    for name, step in steps.items():
        response = step()
        results[name] = (response.status_code, outcome(response))
    return results


def test_the_api_function_ingests_queries_and_replays_with_only_its_policy(app_as) -> None:
    results = api_flow(app_as(API_HANDLER))
    assert results == {
        "in-order webhook": (200, "applied"), "redelivery": (200, "duplicate"),
        "out-of-order webhook": (200, "stale"), "non-payment webhook": (200, "ignored"),
        "get transaction": (200, "applied"), "list by customer": (200, None), "list by merchant": (200, None),
        "get event": (200, "stale"), "replay": (200, "stale"),
    }


@pytest.mark.parametrize("grant", sorted(API_REDUCED), ids=sorted(API_REDUCED))
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
