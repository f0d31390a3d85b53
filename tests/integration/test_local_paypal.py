"""The PayPal route under `make run` (`python -m local.run`): a stage whose secrets file
trusts the test authority verifies a delivery offline, fetching the certificate from the
test's certificate host, and answers 503 when that host cannot be reached."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from local.provision import DEFAULT_SECRETS_FILE
from tests.support.local_stack import running_local_stack
from tests.support.paypal import certificate_host, paypal_headers, paypal_secrets, unreachable_prefix
from tests.support.signing import fixture_bytes


def _request(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_make_run_verifies_paypal_deliveries_offline_and_answers_503_when_the_certificate_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed = unreachable_prefix()
    document = json.loads(DEFAULT_SECRETS_FILE.read_text())
    document["paypal"] = paypal_secrets(cert_url_prefixes=[certificate_host().prefix, closed])
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(json.dumps(document))
    monkeypatch.setenv("LOCAL_SECRETS_FILE", str(secrets_file))
    body = fixture_bytes("paypal", "PAYMENT.CAPTURE.COMPLETED")

    with running_local_stack() as stack:
        status, receipt = _request(f"{stack.api}/webhooks/paypal", body, paypal_headers(body))
        assert (status, [e["outcome"] for e in receipt["events"]]) == (200, ["applied"]), receipt
        status, transaction = _request(f"{stack.api}/transactions/paypal/42311647XV020574X")
        assert (status, transaction["status"], transaction["amount"]) == (200, "succeeded", 2000)

        status, error = _request(f"{stack.api}/webhooks/paypal", body,
                                 paypal_headers(body, cert_url=closed + "CERT-valid"))
        assert (status, error["error"]) == (503, "unavailable")
