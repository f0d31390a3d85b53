"""The project's emulator (local/emulator.py) as a child process of a benchmark.

`fast_query_responses=True` starts it through benchmarks/support/fast_emulator.py instead
of `python -m local.emulator`: the same emulator, with moto's Query responses encoded
directly (see that module). Either way the first stdout line is `EMULATOR_READY <url>`."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_PREFIX = "EMULATOR_READY"


class EmulatorProcess:
    def __init__(self, fast_query_responses: bool = False, start_timeout: float = 60.0) -> None:
        module = "benchmarks.support.fast_emulator" if fast_query_responses else "local.emulator"
        self._log = tempfile.NamedTemporaryFile(prefix="bench-emulator-", suffix=".log", delete=False)
        self._popen = subprocess.Popen(
            [sys.executable, "-m", module, "--host", "127.0.0.1", "--port", "0"],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=self._log, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
        )
        self.endpoint_url = self._await_ready_line(start_timeout)

    def _await_ready_line(self, timeout: float) -> str:
        first_line: list[str] = []
        got_line = threading.Event()

        def drain() -> None:  # keep reading so the child never blocks on a full pipe
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

    def __enter__(self) -> "EmulatorProcess":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
