"""The API of `make run`: Chalice's own local server, with a listen backlog that takes a
burst and a readiness gate. Never deployed.

Why not the `chalice local` command: it serves with Python's `http.server`, whose listen
backlog is 5, so a burst of simultaneous connections (providers redeliver in bursts) is
partly reset before it reaches the app. This builds the very server `chalice local
--no-autoreload` builds (Chalice's CLI factory, route validation, LocalDevServer, a thread
per request) with two differences: the backlog, and the gate.

The gate: the server listens at once, so the app's start-up overlaps provisioning, but it
answers every request `503 {"error": "unavailable"}` until the supervisor (local/run.py)
sends SIGUSR1 once the tables and the secret exist. So `/health` answers 200 only when a
webhook can be taken, although the app's `/health` itself never touches storage.

Run: `python -m local.api_server --stage local --host 127.0.0.1 --port 8000 [--ready]`
(`--ready` opens the gate at once, for a stack that is already provisioned).
"""
from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from chalice.cli.factory import CLIFactory
from chalice.deploy.validate import validate_routes
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    ThreadedHTTPServer,
)

from local.run import API_READY_SIGNAL, REPO_ROOT

BACKLOG = 128
NOT_READY_BODY = json.dumps({"error": "unavailable", "message": "the local stack is still starting; retry shortly"})


class BurstServer(ThreadedHTTPServer):
    """Chalice's threaded server with a backlog of BACKLOG and a gate: requests reach the
    app only once `ready` is set."""

    request_queue_size = BACKLOG

    def __init__(self, address: tuple[str, int], handler: Any, ready: threading.Event) -> None:
        self.ready = ready
        super().__init__(address, handler)


class GatedRequestHandler(ChaliceRequestHandler):
    """Chalice's handler, answering 503 while the server's gate is closed."""

    server: BurstServer

    def _gated_handle(self) -> None:
        if self.server.ready.is_set():
            self._generic_handle()
            return
        self._parse_payload()  # read the body, so a kept-alive connection stays in step
        self._send_http_response(503, {"Content-Type": "application/json", "Retry-After": "1"}, NOT_READY_BODY)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _gated_handle


def build_server(stage: str, host: str, port: int, ready: threading.Event,
                 project_dir: Path = REPO_ROOT) -> LocalDevServer:
    """What `chalice local` builds, with our server and handler classes."""
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"  # as the chalice CLI sets it
    factory = CLIFactory(str(project_dir), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    validate_routes(app.routes)
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=GatedRequestHandler,
                          server_cls=functools.partial(BurstServer, ready=ready))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--ready", action="store_true", help="take requests at once (no gate)")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")  # as chalice local
    os.chdir(REPO_ROOT)
    gate = threading.Event()

    def open_gate(_signum: int, _frame: FrameType | None) -> None:
        gate.set()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(API_READY_SIGNAL, open_gate)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.ready:
        gate.set()
    # Signals first: the supervisor may send READY_SIGNAL as soon as the port accepts.
    local_server = build_server(args.stage, args.host, args.port, gate)
    try:
        local_server.serve_forever()
    except SystemExit:
        pass
    finally:
        local_server.server.server_close()


if __name__ == "__main__":
    main()
