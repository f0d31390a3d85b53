"""The app through `chalice.test.Client` against moto in-process (`mock_aws`): fast enough
for the thousands of generated requests of the hostile-input suites, with every table,
queue and secret provisioned from infra/resources.json as the emulator has them, and PayPal
trusting the test authority (tests/support/paypal.py) so its deliveries can be signed."""
from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import warnings
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib import wiring
from local import provision
from tests.support.paypal import paypal_secrets
from tests.support.report import publish
from tests.support.signing import REPO_ROOT, SECRETS

IN_PROCESS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",  # nosec B105 # moto's
                  "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",  # nosec B105 # dummies
                  "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "STAGE": "local"}


ANSWERED: Counter[int] = Counter()
"""Every named app's answers in this process, by status: the hostile-input suites' total."""


@contextlib.contextmanager
def in_process_app(name: str = "") -> Iterator[Client]:
    """The app in-process; with a `name`, how many requests it answered, by status, is
    published when it closes (tests/support/report.py)."""
    with pytest.MonkeyPatch.context() as env:
        for variable in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
            env.delenv(variable, raising=False)
        for variable, value in IN_PROCESS_ENV.items():
            env.setenv(variable, value)
        with mock_aws():
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")  # moto's notes on resources it skips
                logging.getLogger("moto").setLevel(logging.ERROR)
                outputs = provision.provision(None, "local", REPO_ROOT / "local" / "secrets.json")  # type: ignore[arg-type]
            import boto3

            trust_test_paypal(boto3.client("secretsmanager"), outputs["WebhookSecretsId"])
            wiring.reset()
            from app import app

            with Client(app, stage_name="local", project_dir=str(REPO_ROOT)) as client:
                answered: Counter[int] = Counter()
                send = client.http.request

                def counted(*args: Any, **kwargs: Any) -> Any:
                    response = send(*args, **kwargs)
                    answered[response.status_code] += 1
                    return response

                env.setattr(client.http, "request", counted)
                yield client
            wiring.reset()
            if name:
                ANSWERED.update(answered)
                publish(f"{name}: requests answered, by status", f"{sum(answered.values())} requests: "
                        + ", ".join(f"{status}: {n}" for status, n in sorted(answered.items()))
                        + f"\nhostile requests in this run so far: {sum(ANSWERED.values())}, answered >= 500: "
                        + str(sum(n for status, n in ANSWERED.items() if status >= 500))
                        + " (each one a 503 under injected storage failures: the suites assert it)")


def trust_test_paypal(secretsmanager: Any, secret_id: str) -> None:
    """The stage's secrets document with PayPal trusting the test authority and its host."""
    document = copy.deepcopy(SECRETS)
    document["paypal"] = paypal_secrets()
    secretsmanager.put_secret_value(SecretId=secret_id, SecretString=json.dumps(document))
    wiring.reset()


def assert_contract(response: Any, storage_failing: bool = False, webhook: bool = True) -> None:
    """The contract's answer (docs/api.md sections 1, 2 and 5): never a 5xx but the 503 of
    failing storage, every error `{"error", "message"}` with a lower_snake_case code."""
    status = response.status_code
    if status >= 500:
        assert storage_failing and status == 503, (status, response.body[:300])
    if status >= 400:
        body = json.loads(response.body)
        assert set(body) == {"error", "message"}, body
        assert isinstance(body["error"], str) and isinstance(body["message"], str)
        assert body["error"] == body["error"].lower() and " " not in body["error"]
    elif status == 200 and webhook:
        assert response.body == b"[accepted]" or "received" in json.loads(response.body)
