"""`make run` keeps analytics current (contract section 6): the stack's stream poller feeds
the handler, so a webhook shows in `GET /analytics/daily` within about two seconds."""
from __future__ import annotations

import sys
import time

import pytest

from tests.support.local_stack import request_json, running_local_stack
from tests.support.signing import payment_intent, stripe_event, stripe_headers


@pytest.mark.skipif(sys.platform != "linux", reason="the supervisor's process handling is tested on Linux")
def test_a_webhook_reaches_the_daily_figures_while_make_run_is_up() -> None:
    """The poller feeds the stream handler within about a second here; the bound below is
    loose on purpose (speed is for benchmarks, this proves the wiring)."""
    with running_local_stack() as stack:
        body = stripe_event("evt_live", "payment_intent.succeeded", int(time.time()),
                            payment_intent("pi_live", "succeeded", amount=4200, created=int(time.time())))
        posted = time.monotonic()
        assert request_json(f"{stack.api}/webhooks/stripe", body, stripe_headers(body))["received"] == 1
        today = time.strftime("%Y-%m-%d", time.gmtime())
        days: list = []
        while time.monotonic() - posted < 10 and not days:
            days = request_json(f"{stack.api}/analytics/daily?from={today}&to={today}")["days"]
            time.sleep(0.1)
        assert [(d["provider"], d["count"], d["gross_volume"]) for d in days] == [("stripe", 1, 4200)], stack.log()
    assert stack.runner.returncode == 0, stack.log()
