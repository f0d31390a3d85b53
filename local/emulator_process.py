"""The project's emulator (local/emulator.py) as a child process of a test run or a
benchmark: on a port the OS picks, read back from its `EMULATOR_READY <url>` line, and
ended with its parent (never left behind)."""
from __future__ import annotations

import os
import subprocess  # nosec B404 # starts the local emulator
import sys
import tempfile
import threading
from pathlib import Path

from local.emulator import READY_PREFIX
from local.run import die_with_parent

REPO_ROOT = Path(__file__).resolve().parent.parent


class EmulatorProcess:
    """`python -m local.emulator --port 0` as a child; knows its URL once it is listening.

    `module` runs another entry point with the same command line (tests that need a
    modified emulator of their own, e.g. tests.support.iam_emulator)."""

    def __init__(self, start_timeout: float = 30.0, module: str = "local.emulator") -> None:
        self._log = tempfile.NamedTemporaryFile(prefix="emulator-", suffix=".log", delete=False)
        self._popen = subprocess.Popen(  # nosec B603 # our own interpreter and module, no shell
            [sys.executable, "-m", module, "--host", "127.0.0.1", "--port", "0"],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=self._log, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True, preexec_fn=die_with_parent,
        )
        self.endpoint_url = self._await_ready_line(start_timeout)

    def _await_ready_line(self, timeout: float) -> str:
        first_line: list[str] = []
        got_line = threading.Event()

        def drain() -> None:  # keep reading so the child can never block on a full pipe
            assert self._popen.stdout is not None  # nosec B101 # Popen(stdout=PIPE) sets it; this narrows the type
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

    def __enter__(self) -> "EmulatorProcess":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
