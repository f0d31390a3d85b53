"""`make redrive` against the running `make run` stack (docs/api.md section 11): an outage
of the analytics table makes the stack's own stream consumer give up on a webhook's record
(its on-failure record lands in the stream-failures queue, as Lambda's does); once the
table is back, `python -m local.redrive` (what `make redrive` runs) puts it through once,
says so, and a second run changes nothing."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error

import pytest

from chalicelib.settings import dead_letter_queues
from local.emulator_process import REPO_ROOT
from local.provision import client
from tests.support.local_stack import LocalStack, request_json, running_local_stack
from tests.support.signing import payment_intent, stripe_event, stripe_headers

ANALYTICS_TABLE = "payment-webhooks-local-analytics"


def make_redrive(stack: LocalStack) -> subprocess.CompletedProcess:
    env = {**os.environ, "PORT": str(stack.api_port)}
    return subprocess.run([sys.executable, "-m", "local.redrive"], cwd=REPO_ROOT, env=env, text=True,
                          capture_output=True, timeout=60, check=False)


def stream_failures(stack: LocalStack) -> int:
    queues = request_json(f"{stack.api}/admin/dead-letters")["queues"]
    return next(q["depth"] for q in queues if q["name"] == "stream-failures")


def day_count(stack: LocalStack, day: str) -> int:
    try:
        return sum(d["count"] for d in request_json(f"{stack.api}/analytics/daily?from={day}&to={day}")["days"])
    except urllib.error.HTTPError:  # 503 while the table is away
        return -1


@pytest.mark.skipif(sys.platform != "linux", reason="the supervisor's process handling is tested on Linux")
def test_make_redrive_puts_what_the_running_stack_gave_up_on_through_once() -> None:
    with running_local_stack() as stack:
        dynamodb = client("dynamodb", f"http://127.0.0.1:{stack.emulator_port}")
        table = dynamodb.describe_table(TableName=ANALYTICS_TABLE)["Table"]
        dynamodb.delete_table(TableName=ANALYTICS_TABLE)  # the outage: every figures write fails
        now = int(time.time())
        body = stripe_event("evt_redrive", "payment_intent.succeeded", now,
                            payment_intent("pi_redrive", "succeeded", amount=1500, created=now))
        assert request_json(f"{stack.api}/webhooks/stripe", body, stripe_headers(body))["received"] == 1
        deadline = time.monotonic() + 20
        while stream_failures(stack) == 0:  # the consumer's retries, then the on-failure record
            assert time.monotonic() < deadline, stack.log()
            time.sleep(0.2)
        dynamodb.create_table(TableName=ANALYTICS_TABLE, KeySchema=table["KeySchema"],
                              AttributeDefinitions=table["AttributeDefinitions"], BillingMode="PAY_PER_REQUEST")
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        assert day_count(stack, day) == 0

        first = make_redrive(stack)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "stream-failures: redriven 1, failed 0" in first.stdout.splitlines(), first.stdout
        assert stream_failures(stack) == 0 and day_count(stack, day) == 1

        second = make_redrive(stack)
        assert second.returncode == 0, second.stdout + second.stderr
        assert set(second.stdout.splitlines()) == {
            f"{queue.name}: redriven 0, failed 0" for queue in dead_letter_queues("payment-webhooks-local")}
        assert day_count(stack, day) == 1
    assert stack.runner.returncode == 0, stack.log()
