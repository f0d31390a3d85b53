"""`make run`: the whole service on one machine, no AWS account (docs/api.md section 6).

Starts the emulator, provisions it from infra/resources.json while the API (Chalice's local
server, local/api_server.py) starts, then opens the API: its /health answers 200 only from
then on, so a client that waits for health can post a webhook at once. Every child is a `ManagedProcess` in its own process group, so Ctrl-C
reaches this supervisor only and it stops each group in reverse start order: nothing is
left running. Later workers (the stream and queue event sources, the scheduler) are more entries
in the list built by `build_workers`.

Environment: PORT (API, default 8000), EMULATOR_PORT (default 4566), LOCAL_SECRETS_FILE.
"""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen, TimeoutExpired  # nosec B404 # the local supervisor starts its own children

from local import provision

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STAGE = "local"
API_READY_SIGNAL = signal.SIGUSR1
"""Sent by the supervisor to local/api_server.py once the stack is provisioned."""


class StartupError(RuntimeError):
    """A child could not be started or did not become ready."""


@dataclass
class ManagedProcess:
    """One child process: started in its own session, stopped as a whole process group."""

    name: str
    argv: list[str]
    env: dict[str, str]
    ready: Callable[[], bool] = lambda: True
    ready_timeout: float = 30.0
    popen: Popen | None = field(default=None, init=False)

    def start(self) -> None:
        self.popen = Popen(self.argv, env=self.env, cwd=REPO_ROOT, start_new_session=True,  # nosec B603 # argv built by this module, no shell
                           preexec_fn=die_with_parent)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while not self.ready():
            if self.returncode is not None:
                raise StartupError(f"{self.name} exited with code {self.returncode} while starting")
            if time.monotonic() > deadline:
                raise StartupError(f"{self.name} not ready after {self.ready_timeout:.0f}s")
            time.sleep(0.05)

    @property
    def returncode(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the group, SIGKILL whatever is left after `grace` seconds; reap the child."""
        if self.popen is None:
            return
        _signal_group(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except TimeoutExpired:
            pass
        _signal_group(self.popen.pid, signal.SIGKILL)  # leftovers of a leader that exited
        self.popen.wait()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the whole group is gone already


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except OSError:
        return None


_PRCTL = _load_prctl()  # resolved before fork: a preexec_fn must not import


def die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the supervisor itself is killed with SIGKILL."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_accepts(port: int, host: str = HOST) -> Callable[[], bool]:
    def check() -> bool:
        try:
            socket.create_connection((host, port), timeout=0.2).close()
        except OSError:
            return False
        return True
    return check


def aws_env(endpoint_url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment that routes every boto3 client of a child to the emulator."""
    env = dict(os.environ if base is None else base)
    env.pop("AWS_PROFILE", None)
    env.update({
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # nosec B105 # moto's dummy credentials for the local emulator
        "AWS_SESSION_TOKEN": "testing",  # nosec B105 # moto's dummy credentials for the local emulator
        "AWS_DEFAULT_REGION": provision.DEFAULT_REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "STAGE": STAGE,
        "PYTHONUNBUFFERED": "1",
    })
    return env


OUTPUT_ENV = {
    "EventsTableName": "EVENTS_TABLE",
    "TransactionsTableName": "TRANSACTIONS_TABLE",
    "TransactionsStreamArn": "TRANSACTIONS_STREAM_ARN",
    "WebhookSecretsId": "WEBHOOK_SECRETS_ID",
    "AnalyticsTableName": "ANALYTICS_TABLE",
    "ArchiveBucketName": "ARCHIVE_BUCKET",
    "ChangeFeedBusName": "CHANGE_FEED_BUS",
    "AlertsTableName": "ALERTS_TABLE",
    "PaymentAlertsTopicArn": "PAYMENT_ALERTS_TOPIC_ARN",
}
"""Stack output -> the app's environment variable: the one place that pairs them."""


def app_env(endpoint_url: str, outputs: dict[str, str], base: dict[str, str] | None = None) -> dict[str, str]:
    env = aws_env(endpoint_url, base)
    env.update({variable: outputs[output] for output, variable in OUTPUT_ENV.items()})
    return env


def emulator_process(port: int, module: str = "local.emulator") -> ManagedProcess:
    """`module`: another launcher of the same emulator (the benchmarks' cheap reads)."""
    argv = [sys.executable, "-m", module, "--host", HOST, "--port", str(port)]
    return ManagedProcess("emulator", argv, aws_env(f"http://{HOST}:{port}"), port_accepts(port))


def api_process(endpoint_url: str, api_port: int) -> ManagedProcess:
    """Chalice's local server (local/api_server.py). It needs no stack outputs: for the local
    stage the resource names come from .chalice/config.json (which chalice applies over the
    environment), so it starts while the emulator is still being provisioned. It answers 503
    until `open_api` tells it the stack is provisioned."""
    return ManagedProcess(
        "api",
        [sys.executable, "-m", "local.api_server", "--stage", STAGE, "--host", HOST, "--port", str(api_port)],
        aws_env(endpoint_url),
        port_accepts(api_port),
        ready_timeout=60.0,
    )


def open_api(api: ManagedProcess) -> None:
    """Let the API take requests (its /health turns 200): call once it is listening and the
    stack is provisioned."""
    assert api.popen is not None  # nosec B101 # start() has set it; this narrows the type
    api.popen.send_signal(API_READY_SIGNAL)


def scheduler_process(endpoint_url: str, outputs: dict[str, str]) -> ManagedProcess:
    """The scheduled jobs (archival daily at 02:00 UTC), see local/scheduler.py."""
    return ManagedProcess("scheduler", [sys.executable, "-m", "local.scheduler"],
                          app_env(endpoint_url, outputs))


def build_workers(endpoint_url: str, outputs: dict[str, str]) -> list[ManagedProcess]:
    """Background workers that need the provisioned stack (the event sources, the scheduler),
    in start order. Each is a ManagedProcess, e.g. `[sys.executable, "-m", "local.<worker>"]`
    with `app_env(endpoint_url, outputs)`."""
    return [event_sources_process(endpoint_url, outputs), scheduler_process(endpoint_url, outputs)]


def event_sources_process(endpoint_url: str, outputs: dict[str, str]) -> ManagedProcess:
    """Feeds every stream and queue handler of the app, as Lambda does when deployed."""
    argv = [sys.executable, "-m", "local.event_sources"]
    return ManagedProcess("event-sources", argv, app_env(endpoint_url, outputs))


class Supervisor:
    """Starts children in order, watches them, stops them all in reverse order."""

    def __init__(self) -> None:
        self.children: list[ManagedProcess] = []
        self.stopping = threading.Event()

    def launch(self, child: ManagedProcess) -> ManagedProcess:
        """Start without waiting for readiness (to overlap start-ups)."""
        self.children.append(child)
        child.start()
        return child

    def start(self, child: ManagedProcess) -> None:
        self.launch(child).wait_ready()

    def watch(self) -> int:
        """Block until a signal arrives (0) or a child dies on its own (1)."""
        while not self.stopping.wait(0.5):
            for child in self.children:
                if child.returncode is not None:
                    print(f"local.run: {child.name} exited with code {child.returncode}; stopping",
                          file=sys.stderr)
                    return 1
        return 0

    def stop_all(self) -> None:
        for child in reversed(self.children):
            child.stop()

    def install_signal_handlers(self) -> None:
        def on_signal(signum: int, _frame: object) -> None:
            if self.stopping.is_set():
                return
            self.stopping.set()
            raise KeyboardInterrupt  # also interrupts a startup wait
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)


def main() -> int:
    api_port = int(os.environ.get("PORT", "8000"))
    emulator_port = int(os.environ.get("EMULATOR_PORT", "4566"))
    for what, port, var in (("emulator", emulator_port, "EMULATOR_PORT"), ("API", api_port, "PORT")):
        if not port_is_free(port):
            print(f"local.run: port {port} for the {what} is already in use on {HOST} "
                  f"(another `make run`?). Stop it or set {var}=<free port>.", file=sys.stderr)
            return 2
    endpoint_url = f"http://{HOST}:{emulator_port}"
    supervisor = Supervisor()
    supervisor.install_signal_handlers()
    try:
        supervisor.start(emulator_process(emulator_port))
        api = supervisor.launch(api_process(endpoint_url, api_port))
        started = time.perf_counter()
        outputs = provision.provision(endpoint_url, STAGE)
        provisioned = time.perf_counter() - started
        api.wait_ready()
        open_api(api)
        for worker in build_workers(endpoint_url, outputs):
            supervisor.start(worker)
        print(f"\npayment-webhooks (stage {STAGE}) is running; provisioned in {provisioned:.2f}s\n"
              f"  API:      http://{HOST}:{api_port}   (try GET /health)\n"
              f"  emulator: {endpoint_url}   (AWS_ENDPOINT_URL for the aws CLI / boto3)\n"
              f"  Press Ctrl-C to stop everything.\n", flush=True)
        return supervisor.watch()
    except KeyboardInterrupt:
        return 0
    except (StartupError, provision.ProvisionError) as exc:
        print(f"local.run: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not abort cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.stop_all()
        print("local.run: stopped", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
