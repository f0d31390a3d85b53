"""A private AWS emulator per test process, provisioned from infra/resources.json.

Why a subprocess (not `mock_aws` or an in-process ThreadedMotoServer): it is the same
serialised emulator `make run` uses, `mock_aws` elsewhere in the process cannot wipe it,
and each pytest-xdist worker gets its own on a port the OS picked, so workers never share
state. Between tests the state is reset and the template redeployed (measured ~0.08 s).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from local import provision
from local.emulator import READY_PREFIX
from local.run import app_env, die_with_parent

REPO_ROOT = Path(__file__).resolve().parents[2]
STAGE = "local"


class EmulatorProcess:
    """`python -m local.emulator --port 0` as a child; knows its URL once it is listening.

    `module` runs another entry point with the same command line (tests that need a
    modified emulator of their own, e.g. tests.support.iam_emulator)."""

    def __init__(self, start_timeout: float = 30.0, module: str = "local.emulator") -> None:
        self._log = tempfile.NamedTemporaryFile(prefix="emulator-", suffix=".log", delete=False)
        self._popen = subprocess.Popen(
            [sys.executable, "-m", module, "--host", "127.0.0.1", "--port", "0"],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=self._log, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True, preexec_fn=die_with_parent,
        )
        self.endpoint_url = self._await_ready_line(start_timeout)

    def _await_ready_line(self, timeout: float) -> str:
        first_line: list[str] = []
        got_line = threading.Event()

        def drain() -> None:  # keep reading so the child can never block on a full pipe
            assert self._popen.stdout is not None
            for line in self._popen.stdout:
                if not got_line.is_set():
                    first_line.append(line)
                    got_line.set()
            got_line.set()

        threading.Thread(target=drain, name="emulator-stdout", daemon=True).start()
        if not got_line.wait(timeout) or not first_line or not first_line[0].startswith(READY_PREFIX):
            self.stop()
            raise RuntimeError(f"emulator did not start; its log:\n{self.log_text()}")
        return first_line[0].split()[1]

    def log_text(self) -> str:
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self._popen.poll() is None:
            self._popen.terminate()
            try:
                self._popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()
        self._log.close()
        os.unlink(self._log.name)


class Emulator:
    """A running emulator plus the stage deployed into it; `fresh_state` gives a clean one."""

    def __init__(self, process: EmulatorProcess, secrets_file: Path) -> None:
        self.process = process
        self.endpoint_url = process.endpoint_url
        self.secrets_file = secrets_file
        self.outputs = provision.provision(self.endpoint_url, STAGE, secrets_file)
        self._pristine = True

    def fresh_state(self) -> dict[str, str]:
        """Wipe everything and redeploy, unless nothing can have touched it since the last time."""
        if not self._pristine:
            provision.reset_emulator(self.endpoint_url)
            self.outputs = provision.provision(self.endpoint_url, STAGE, self.secrets_file)
        self._pristine = False
        return self.outputs


def stack_env(endpoint_url: str, outputs: dict[str, str]) -> dict[str, str]:
    """What the app and any boto3 client need to talk to this emulator's stage: exactly
    what `make run` gives the app."""
    return app_env(endpoint_url, outputs, base={})


@dataclass
class AwsStack:
    """What the `aws` fixture hands a test: a clean, provisioned stage in the emulator."""

    endpoint_url: str
    outputs: dict[str, str]
    env: dict[str, str]
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        """A boto3 client bound to the emulator (cached for the test)."""
        return self._cached("client", service)

    def resource(self, service: str) -> Any:
        """A boto3 resource (`dynamodb`, `s3`, ...) bound to the emulator."""
        return self._cached("resource", service)

    def _cached(self, kind: str, service: str) -> Any:
        key = (kind, service)
        if key not in self._clients:
            self._clients[key] = getattr(self._session, kind)(service, endpoint_url=self.endpoint_url)
        return self._clients[key]

    @cached_property
    def _session(self) -> Any:
        import boto3

        return boto3.session.Session(region_name=provision.DEFAULT_REGION,
                                     **provision.DUMMY_CREDENTIALS)


def clear_settings_cache() -> None:
    """The app reads settings once (an lru_cache); tests that change env must drop it."""
    try:
        from chalicelib.settings import get_settings
    except ImportError:
        return
    get_settings.cache_clear()
