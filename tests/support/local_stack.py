"""`python -m local.run` (what `make run` starts) as a child of a test, on free ports."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from local.emulator_process import REPO_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalStack:
    runner: subprocess.Popen
    api_port: int
    emulator_port: int
    output: list[str] = field(default_factory=list)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def log(self) -> str:
        return "".join(self.output)


@contextmanager
def running_local_stack(ready_timeout: float = 60.0, wait_for_banner: bool = True) -> Iterator[LocalStack]:
    """Yields once the supervisor prints its banner (or at once, without `wait_for_banner`);
    Ctrl-C (SIGINT) on the way out, as a developer would stop it. `stack.runner.returncode`
    is set after the block."""
    api_port, emulator_port = free_port(), free_port()
    env = {**os.environ, "PORT": str(api_port), "EMULATOR_PORT": str(emulator_port)}
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        env.pop(name, None)
    runner = subprocess.Popen([sys.executable, "-m", "local.run"], cwd=REPO_ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    stack = LocalStack(runner, api_port, emulator_port)
    running = threading.Event()

    def read_output() -> None:
        assert runner.stdout is not None
        for line in runner.stdout:
            stack.output.append(line)
            if "is running" in line:
                running.set()

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        assert not wait_for_banner or running.wait(ready_timeout), stack.log()
        yield stack
    finally:
        runner.send_signal(signal.SIGINT)
        runner.wait(timeout=30)
        reader.join(timeout=5)


def request_json(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> dict:
    """GET `url` (POST with `body`) against the running stack; the JSON it answers."""
    import json
    import urllib.request

    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body else "GET")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())
