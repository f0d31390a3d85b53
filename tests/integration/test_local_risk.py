"""`make run` assesses risk (docs/api.md section 8): webhook -> transactions stream -> feed
publisher -> bus -> the template's rule -> risk queue -> `assess_payment_risk` (driven by
the local SQS poller) -> `risk` on `GET /transactions/...`, within seconds."""
from __future__ import annotations

import json
import sys
import time
import urllib.request

import pytest

from tests.support.local_stack import running_local_stack
from tests.support.signing import payment_intent, stripe_event, stripe_headers


def _request(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body else "GET")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.skipif(sys.platform != "linux", reason="the supervisor's process handling is tested on Linux")
def test_a_high_amount_payment_is_assessed_high_within_seconds_while_make_run_is_up() -> None:
    with running_local_stack() as stack:
        now = int(time.time())
        big = stripe_event("evt_big", "payment_intent.succeeded", now,
                           payment_intent("pi_big", "succeeded", amount=1_000_000, created=now))
        small = stripe_event("evt_small", "payment_intent.succeeded", now,
                             payment_intent("pi_small", "succeeded", amount=1_500, created=now, customer="cus_2"))
        for body in (big, small):
            assert _request(f"{stack.api}/webhooks/stripe", body, stripe_headers(body))["received"] == 1
        posted = time.monotonic()
        risk: dict = {}
        while time.monotonic() - posted < 20 and not (risk.get("pi_big") and risk.get("pi_small")):
            risk = {pid: _request(f"{stack.api}/transactions/stripe/{pid}")["risk"] for pid in ("pi_big", "pi_small")}
            time.sleep(0.2)
        assert risk["pi_big"] and risk["pi_big"]["level"] == "high", stack.log()
        assert [r["rule"] for r in risk["pi_big"]["reasons"]] == ["amount_over_threshold"]
        assert risk["pi_small"] == {**risk["pi_small"], "score": 0, "level": "low", "reasons": []}
    assert stack.runner.returncode == 0, stack.log()
