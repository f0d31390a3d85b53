"""The local stack is what the contract's section 6 promises: tables, secret, a serialised
emulator, and `python -m local.run` that starts and stops cleanly."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from local.provision import DEFAULT_SECRETS_FILE, client
from tests.support.emulator import REPO_ROOT, AwsStack
from tests.support.local_stack import free_port, running_local_stack
from tests.support.signing import fixture_bytes, stripe_headers


def _keys(schema: list[dict[str, str]]) -> dict[str, str]:
    return {key["AttributeName"]: key["KeyType"] for key in schema}


def test_events_table_is_keyed_by_pk_with_ttl_on_expires_at(aws: AwsStack) -> None:
    ddb = aws.client("dynamodb")
    table = ddb.describe_table(TableName=aws.outputs["EventsTableName"])["Table"]
    assert table["TableName"] == "payment-webhooks-local-events"
    assert _keys(table["KeySchema"]) == {"pk": "HASH"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = ddb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


def test_transactions_table_has_both_gsis_and_a_new_and_old_images_stream(aws: AwsStack) -> None:
    table = aws.client("dynamodb").describe_table(
        TableName=aws.outputs["TransactionsTableName"])["Table"]
    assert table["TableName"] == "payment-webhooks-local-transactions"
    assert _keys(table["KeySchema"]) == {"pk": "HASH"}
    indexes = {gsi["IndexName"]: gsi for gsi in table["GlobalSecondaryIndexes"]}
    assert _keys(indexes["by-merchant"]["KeySchema"]) == {"merchant_id": "HASH", "created_key": "RANGE"}
    assert _keys(indexes["by-customer"]["KeySchema"]) == {"customer_id": "HASH", "created_key": "RANGE"}
    assert {name: i["Projection"]["ProjectionType"] for name, i in indexes.items()} == {
        "by-merchant": "ALL", "by-customer": "ALL", "archivable": "ALL", "by-provider": "KEYS_ONLY"}
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["LatestStreamArn"] == aws.outputs["TransactionsStreamArn"]


def test_secret_holds_the_local_secrets_file(aws: AwsStack) -> None:
    value = aws.client("secretsmanager").get_secret_value(SecretId=aws.outputs["WebhookSecretsId"])
    assert aws.outputs["WebhookSecretsId"] == "payment-webhooks-local-webhook-secrets"
    assert json.loads(value["SecretString"]) == json.loads(DEFAULT_SECRETS_FILE.read_text())


def test_chalice_local_stage_uses_the_names_the_template_creates(aws: AwsStack) -> None:
    config = json.loads((REPO_ROOT / ".chalice" / "config.json").read_text())
    expected = {
        "STAGE": "local",
        "EVENTS_TABLE": aws.outputs["EventsTableName"],
        "TRANSACTIONS_TABLE": aws.outputs["TransactionsTableName"],
        "WEBHOOK_SECRETS_ID": aws.outputs["WebhookSecretsId"],
        "CURSOR_KEY_SECRET_ID": aws.outputs["CursorKeySecretId"],
    }
    assert expected.items() <= config["stages"]["local"]["environment_variables"].items()


def test_environment_points_the_app_at_the_emulator(aws: AwsStack) -> None:
    assert os.environ["AWS_ENDPOINT_URL"] == aws.endpoint_url
    assert os.environ["TRANSACTIONS_TABLE"] == aws.outputs["TransactionsTableName"]
    assert os.environ["WEBHOOK_SECRETS_ID"] == aws.outputs["WebhookSecretsId"]


def test_each_test_starts_from_empty_tables(aws: AwsStack) -> None:
    ddb = aws.client("dynamodb")
    for name in (aws.outputs["EventsTableName"], aws.outputs["TransactionsTableName"]):
        assert ddb.scan(TableName=name)["Count"] == 0
        ddb.put_item(TableName=name, Item={"pk": {"S": "left-behind"}})


test_the_next_test_starts_from_empty_tables_too = test_each_test_starts_from_empty_tables


def test_concurrent_conditional_transactions_on_one_new_key_let_exactly_one_win(aws: AwsStack) -> None:
    """Unserialised moto lets 2-3 of 16 win in most rounds once the table holds ~150 items
    (its TransactWriteItems deep-copies the table, widening the race); we need exactly 1."""
    table = aws.outputs["TransactionsTableName"]
    ddb = aws.client("dynamodb")  # botocore clients are thread-safe
    for first in range(0, 150, 25):
        ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {"pk": {"S": f"filler#{n}"}, **{f"a{k}": {"S": "x"} for k in range(5)}}}}
            for n in range(first, first + 25)]})
    rounds, threads = 4, 16
    winners = [_race_one_new_key(ddb, table, f"tx#race-{r}", threads) for r in range(rounds)]
    assert winners == [1] * rounds
    side_items = ddb.scan(TableName=table, Select="COUNT", FilterExpression="begins_with(pk, :p)",
                          ExpressionAttributeValues={":p": {"S": "side#"}})["Count"]
    assert side_items == rounds  # a loser's other write is not applied either


def _race_one_new_key(ddb: object, table: str, key: str, threads: int) -> int:
    start = threading.Barrier(threads)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        start.wait()
        try:
            ddb.transact_write_items(TransactItems=[  # type: ignore[attr-defined]
                {"Put": {"TableName": table, "Item": {"pk": {"S": key}, "writer": {"N": str(n)}},
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": table, "Item": {"pk": {"S": f"side#{key}#{n}"}}}},
            ])
            outcomes.append("won")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])

    workers = [threading.Thread(target=attempt, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert set(outcomes) <= {"won", "TransactionCanceledException"}, outcomes
    return outcomes.count("won")


# --- python -m local.run -------------------------------------------------------------

def _descendants(pid: int) -> set[int]:
    children: dict[int, set[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), set()).add(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status, response.read()


@pytest.mark.skipif(not (REPO_ROOT / "app.py").exists(), reason="app.py not written yet")
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list child processes")
def test_local_run_serves_health_and_leaves_no_process_behind_on_ctrl_c() -> None:
    with running_local_stack() as stack:
        api_port, emulator_port = stack.api_port, stack.emulator_port
        status, body = _get(f"http://127.0.0.1:{api_port}/health")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        tables = client("dynamodb", f"http://127.0.0.1:{emulator_port}").list_tables()["TableNames"]
        assert {"payment-webhooks-local-events", "payment-webhooks-local-transactions"} <= set(tables)
        children = _descendants(stack.runner.pid)
        assert len(children) >= 2  # the emulator and chalice local
    assert stack.runner.returncode == 0, stack.log()
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in children if _alive(pid)] == []
    for port in (api_port, emulator_port):
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


def test_local_run_refuses_a_busy_emulator_port_with_a_clear_message() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "EMULATOR_PORT": str(port), "PORT": str(free_port())}
        result = subprocess.run([sys.executable, "-m", "local.run"], cwd=REPO_ROOT, env=env,
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "EMULATOR_PORT" in result.stderr


def test_local_run_takes_a_webhook_the_moment_its_health_turns_ok() -> None:
    body = fixture_bytes("stripe", "payment_intent.succeeded")
    with running_local_stack(wait_for_banner=False) as stack:
        deadline = time.monotonic() + 90
        while True:
            assert stack.runner.poll() is None and time.monotonic() < deadline, stack.log()
            try:
                if _get(f"{stack.api}/health")[0] == 200:
                    break
            except OSError:  # not listening yet, or 503 while provisioning
                time.sleep(0.01)

        request = urllib.request.Request(f"{stack.api}/webhooks/stripe", data=body,
                                         headers=stripe_headers(body), method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, stack.log()
