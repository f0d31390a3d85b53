"""The API server of `make run` (local/api_server.py): 503 until the supervisor opens it,
and a burst of simultaneous connections is queued, not reset."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from local.run import API_READY_SIGNAL, REPO_ROOT, aws_env, die_with_parent, port_accepts
from tests.support.local_stack import free_port

BURST = 64


@pytest.fixture
def api_server() -> Iterator[tuple[subprocess.Popen, int]]:
    """A gated API server; /health never reaches storage, so no emulator is needed."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "local.api_server", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT, env=aws_env(f"http://127.0.0.1:{free_port()}"), stdout=subprocess.DEVNULL,
        start_new_session=True, preexec_fn=die_with_parent)
    try:
        deadline = time.monotonic() + 60
        while not port_accepts(port)():
            assert process.poll() is None and time.monotonic() < deadline, "api server did not start"
            time.sleep(0.05)
        yield process, port
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(timeout=10)


def _get_health(connection: socket.socket) -> tuple[int, dict]:
    connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    response = b""
    while chunk := connection.recv(65536):
        response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _health(port: int) -> tuple[int, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        return _get_health(connection)


def test_the_api_answers_unavailable_until_the_stack_is_provisioned_then_health_is_ok(
        api_server: tuple[subprocess.Popen, int]) -> None:
    process, port = api_server

    status, body = _health(port)
    assert status == 503
    assert body["error"] == "unavailable" and body["message"]

    process.send_signal(API_READY_SIGNAL)
    deadline = time.monotonic() + 10
    while (answer := _health(port))[0] == 503 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert answer == (200, {"status": "ok"})


def test_a_burst_of_simultaneous_connections_is_queued_while_the_server_is_busy(
        api_server: tuple[subprocess.Popen, int]) -> None:
    process, port = api_server
    process.send_signal(API_READY_SIGNAL)
    process.send_signal(signal.SIGSTOP)  # accepts nothing: every connection must fit the backlog
    connections = []
    try:
        for _ in range(BURST):
            # Shorter than the kernel's first SYN retry: a connection beyond the backlog fails.
            connections.append(socket.create_connection(("127.0.0.1", port), timeout=0.5))
        process.send_signal(signal.SIGCONT)
        for connection in connections:
            connection.settimeout(30)
        answers = [_get_health(connection) for connection in connections]
    finally:
        process.send_signal(signal.SIGCONT)
        for connection in connections:
            connection.close()

    assert answers == [(200, {"status": "ok"})] * BURST
