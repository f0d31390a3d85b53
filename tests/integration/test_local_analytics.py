"""`make run` keeps analytics current (contract section 6): the stack's stream poller feeds
the handler, so a webhook shows in `GET /analytics/daily` within about two seconds."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from tests.support.emulator import REPO_ROOT
from tests.support.signing import payment_intent, stripe_event, stripe_headers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body else "GET")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.skipif(sys.platform != "linux", reason="the supervisor's process handling is tested on Linux")
def test_a_webhook_reaches_the_daily_figures_within_about_two_seconds(tmp_path) -> None:
    api_port, emulator_port = _free_port(), _free_port()
    env = {**os.environ, "PORT": str(api_port), "EMULATOR_PORT": str(emulator_port)}
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        env.pop(name, None)
    runner = subprocess.Popen([sys.executable, "-m", "local.run"], cwd=REPO_ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output: list[str] = []
    running = threading.Event()

    def read_output() -> None:
        assert runner.stdout is not None
        for line in runner.stdout:
            output.append(line)
            if "is running" in line:
                running.set()

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    api = f"http://127.0.0.1:{api_port}"
    try:
        assert running.wait(60), "".join(output)
        body = stripe_event("evt_live", "payment_intent.succeeded", int(time.time()),
                            payment_intent("pi_live", "succeeded", amount=4200, created=int(time.time())))
        posted = time.monotonic()
        assert _request(f"{api}/webhooks/stripe", body, stripe_headers(body))["received"] == 1
        today = time.strftime("%Y-%m-%d", time.gmtime())
        days: list = []
        while time.monotonic() - posted < 10 and not days:
            days = _request(f"{api}/analytics/daily?from={today}&to={today}")["days"]
            time.sleep(0.1)
        latency = time.monotonic() - posted
        assert [(d["provider"], d["count"], d["gross_volume"]) for d in days] == [("stripe", 1, 4200)], "".join(output)
        assert latency < 3.0, f"{latency:.2f}s"
    finally:
        runner.send_signal(signal.SIGINT)
        runner.wait(timeout=30)
        reader.join(timeout=5)
    assert runner.returncode == 0, "".join(output)
