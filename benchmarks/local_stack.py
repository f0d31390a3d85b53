"""Local-stack benchmark (issue 12): the `make run` stack at production-like volume.

The stack is the one `make run` starts, built from local/run.py's own pieces on free
ports: the emulator, the API (local/api_server.py), provisioning, the stream poller and the
scheduler. Clients send signed webhooks over HTTP, each a first delivery of a new event,
mixed across the four providers (Stripe, Adyen, Square, Standard Webhooks), signed as in
the tests (tests/support/signing.py), from 8 threads on kept-alive connections.

Printed:
- requests per second over a window of webhooks sent once 1,000 are stored, and again
  once 10,000 are stored, and their ratio (flat means 1.0);
- the emulator's resident memory (VmRSS of its process) at both points;
- connection errors when 64 clients connect at once, each posting one webhook;
- how many first deliveries were answered `duplicate` (Adyen's plain-text `[accepted]`
  does not say, so only the three JSON providers count), every status answered, and the
  events stored against the webhooks answered 2xx;
- the machine's load average, since the machine may be shared.
Targets: ratio within 1.2, >= 46 req/s, emulator under 1 GB at 10,000, 0 connection errors,
0 duplicates.

    python benchmarks/local_stack.py            # 1,000 then 10,000 stored
    python benchmarks/local_stack.py --quick    # 200 then 1,000 stored, shorter windows
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(name, None)

from chalicelib.storage.events import SEEN_PREFIX  # noqa: E402
from local import provision  # noqa: E402
from local.run import HOST, STAGE, Supervisor, api_process, build_workers, emulator_process, open_api  # noqa: E402
from tests.support.local_stack import free_port  # noqa: E402
from tests.support.signing import (  # noqa: E402
    adyen_body,
    adyen_item,
    fixture_bytes,
    generic_headers,
    square_headers,
    stripe_headers,
)

CLIENT_THREADS = 8
BURST = 64
READ_TIMEOUT = 60.0

Webhook = tuple[str, bytes, dict[str, str]]  # provider, body, headers


def _fixture(provider: str, name: str) -> dict:
    return json.loads(fixture_bytes(provider, name))


STRIPE = _fixture("stripe", "payment_intent.succeeded")
SQUARE = _fixture("square", "payment.created")
GENERIC = _fixture("generic", "payment.succeeded")


def webhook(n: int) -> Webhook:
    """The n-th webhook: a new event of a new payment, the provider chosen round-robin."""
    kind = n % 4
    if kind == 0:
        event = {**STRIPE, "id": f"evt_bench_{n}"}
        event["data"] = {"object": {**STRIPE["data"]["object"], "id": f"pi_bench_{n}"}}
        body = json.dumps(event).encode()
        return "stripe", body, stripe_headers(body)
    if kind == 1:
        body = adyen_body(adyen_item(f"BENCH{n:011d}", "AUTHORISATION", 1000 + n % 997))
        return "adyen", body, {"Content-Type": "application/json"}
    if kind == 2:
        payment = {**SQUARE["data"]["object"]["payment"], "id": f"sqbench{n}"}
        event = {**SQUARE, "event_id": f"sq-evt-bench-{n}",
                 "data": {**SQUARE["data"], "id": f"sqbench{n}", "object": {"payment": payment}}}
        body = json.dumps(event).encode()
        return "square", body, square_headers(body)
    event = {**GENERIC, "data": {**GENERIC["data"], "id": f"ord-bench-{n}"}}
    body = json.dumps(event).encode()
    return "generic", body, generic_headers(body, f"msg_bench_{n}")


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    connection_errors: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answered(self, status: int, body: bytes) -> None:
        outcomes = []
        if body.startswith(b"{"):
            outcomes = [e.get("outcome") for e in json.loads(body).get("events", [])]
        with self.lock:
            self.statuses[status] += 1
            self.outcomes.update(outcomes)

    def failed(self, error: BaseException) -> None:
        with self.lock:
            self.connection_errors[type(error).__name__] += 1

    @property
    def accepted(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)


def post(connection: http.client.HTTPConnection, hook: Webhook, tally: Tally) -> bool:
    """One POST; answers False when the connection failed (and must be replaced)."""
    provider, body, headers = hook
    try:
        connection.request("POST", f"/webhooks/{provider}", body=body, headers=headers)
        response = connection.getresponse()
        tally.answered(response.status, response.read())
        return True
    except (OSError, http.client.HTTPException) as error:
        tally.failed(error)
        connection.close()
        return False


def send(api_port: int, numbers: range, tally: Tally) -> float:
    """Send webhooks `numbers` from CLIENT_THREADS kept-alive connections; answers seconds."""
    pending: Iterator[int] = iter(numbers)
    take = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, api_port, timeout=READ_TIMEOUT)
        while True:
            with take:
                n = next(pending, None)
            if n is None:
                break
            if not post(connection, webhook(n), tally):
                connection = http.client.HTTPConnection(HOST, api_port, timeout=READ_TIMEOUT)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENT_THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def burst(api_port: int, numbers: range, tally: Tally) -> None:
    """len(numbers) clients connect at the same moment, each posting one webhook."""
    hooks = [webhook(n) for n in numbers]  # signed before the start line
    start_line = threading.Barrier(len(hooks))

    def client(hook: Webhook) -> None:
        connection = http.client.HTTPConnection(HOST, api_port, timeout=READ_TIMEOUT)
        start_line.wait()
        post(connection, hook, tally)
        connection.close()

    threads = [threading.Thread(target=client, args=(hook,)) for hook in hooks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far: what a request costs, however busy the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stored_events(endpoint_url: str, table: str) -> int:
    """Event items only: Adyen's and Square's permanent dedupe items live in the same table."""
    ddb = provision.client("dynamodb", endpoint_url)
    count, request = 0, {"TableName": table, "Select": "COUNT",
                         "FilterExpression": "NOT begins_with(pk, :seen)",
                         "ExpressionAttributeValues": {":seen": {"S": SEEN_PREFIX}}}
    while True:
        page = ddb.scan(**request)
        count += page["Count"]
        if "LastEvaluatedKey" not in page:
            return count
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@contextmanager
def children_output_to(log: Path) -> Iterator[None]:
    """Children started inside inherit `log` as stdout and stderr (the API logs a line per
    request), while this process's own output is left as it was."""
    saved = [os.dup(1), os.dup(2)]
    with log.open("ab") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
    try:
        yield
    finally:
        for fd, original in zip((1, 2), saved):
            os.dup2(original, fd)
            os.close(original)


def run(first: int, second: int, window: int, report: Callable[[str], None]) -> None:
    emulator_port, api_port = free_port(), free_port()
    log = Path(tempfile.gettempdir()) / f"local-stack-benchmark-{os.getpid()}.log"
    report(f"stack output: {log}")
    endpoint_url = f"http://{HOST}:{emulator_port}"
    supervisor = Supervisor()
    tally = Tally()
    try:
        with children_output_to(log):
            emulator = emulator_process(emulator_port)
            supervisor.start(emulator)
            api = supervisor.launch(api_process(endpoint_url, api_port))
            outputs = provision.provision(endpoint_url, STAGE)
            api.wait_ready()
            open_api(api)
            for worker in build_workers(endpoint_url, outputs):
                supervisor.start(worker)
        assert emulator.popen is not None
        report(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

        pids = {child.name: child.popen.pid for child in supervisor.children if child.popen is not None}
        figures = {}
        sent = 0
        for stored in (first, second):
            send(api_port, range(sent, stored), tally)
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            seconds = send(api_port, range(stored, stored + window), tally)
            cpu_ms = {name: (cpu_seconds(pid) - cpu_before[name]) * 1000 / window for name, pid in pids.items()}
            sent = stored + window
            figures[stored] = (window / seconds, resident_mb(emulator.popen.pid))
            report(f"after {stored:>6,} stored: {window / seconds:6.1f} req/s over {window} webhooks, "
                   f"emulator RSS {figures[stored][1]:7.1f} MB; CPU ms per webhook: "
                   + ", ".join(f"{name} {ms:.1f}" for name, ms in cpu_ms.items()))
        errors_before = sum(tally.connection_errors.values())
        burst(api_port, range(sent, sent + BURST), tally)
        sent += BURST
        burst_errors = sum(tally.connection_errors.values()) - errors_before

        (rate_1, _), (rate_2, rss_2) = figures[first], figures[second]
        report(f"throughput after {second:,} / after {first:,}: {rate_2 / rate_1:.2f} "
               f"(flat = 1.0; slowdown {rate_1 / rate_2:.2f}x, target <= 1.2x; "
               f"target >= 46 req/s: {'met' if min(rate_1, rate_2) >= 46 else 'NOT met'})")
        report(f"emulator RSS after {second:,}: {rss_2:.1f} MB (target < 1024 MB)")
        report(f"connection errors at {BURST} simultaneous connections: {burst_errors} (target 0); "
               f"in the whole run: {dict(tally.connection_errors) or 0}")
        report(f"first deliveries answered duplicate: {tally.outcomes['duplicate']} (target 0); "
               f"outcomes {dict(tally.outcomes)}; statuses {dict(tally.statuses)}")
        report(f"webhooks sent {sent:,}, answered 2xx {tally.accepted:,}, "
               f"events stored {stored_events(endpoint_url, outputs['EventsTableName']):,}")
        report(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        supervisor.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 then 1,000 stored (a short run)")
    args = parser.parse_args()
    first, second, window = (200, 1_000, 200) if args.quick else (1_000, 10_000, 500)
    run(first, second, window, lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
