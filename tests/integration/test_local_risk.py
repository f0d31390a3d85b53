"""`make run` assesses risk (docs/api.md section 8): webhook -> transactions stream -> feed
publisher -> bus -> the template's rule -> risk queue -> `assess_payment_risk` (driven by
the local SQS poller) -> `risk` on `GET /transactions/...`, within seconds."""
from __future__ import annotations

import sys
import time

import pytest

from tests.support.local_stack import request_json, running_local_stack
from tests.support.signing import payment_intent, stripe_event, stripe_headers


def feed_is_published() -> bool:
    import app

    return "publish_payment_changes" in app.app.handler_map


@pytest.mark.skipif(sys.platform != "linux", reason="the supervisor's process handling is tested on Linux")
@pytest.mark.skipif(not feed_is_published(), reason="needs the change feed's publisher (docs/api.md section 7)")
def test_a_high_amount_payment_is_assessed_high_within_seconds_while_make_run_is_up() -> None:
    with running_local_stack() as stack:
        now = int(time.time())
        big = stripe_event("evt_big", "payment_intent.succeeded", now,
                           payment_intent("pi_big", "succeeded", amount=1_000_000, created=now))
        small = stripe_event("evt_small", "payment_intent.succeeded", now,
                             payment_intent("pi_small", "succeeded", amount=1_500, created=now, customer="cus_2"))
        for body in (big, small):
            assert request_json(f"{stack.api}/webhooks/stripe", body, stripe_headers(body))["received"] == 1
        posted = time.monotonic()
        risk: dict = {}
        while time.monotonic() - posted < 20 and not (risk.get("pi_big") and risk.get("pi_small")):
            risk = {pid: request_json(f"{stack.api}/transactions/stripe/{pid}")["risk"] for pid in ("pi_big", "pi_small")}
            time.sleep(0.2)
        assert risk["pi_big"] and risk["pi_big"]["level"] == "high", stack.log()
        assert [r["rule"] for r in risk["pi_big"]["reasons"]] == ["amount_over_threshold"]
        assert risk["pi_small"] == {**risk["pi_small"], "score": 0, "level": "low", "reasons": []}
    assert stack.runner.returncode == 0, stack.log()
