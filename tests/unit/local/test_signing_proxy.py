"""`make console`'s proxy (local/signing_proxy.py): the console's own calls reach the stage
signed with SigV4 as API Gateway checks it, and nothing else is forwarded.

The stage is a recording HTTP server on 127.0.0.1; each signature it receives is checked
the way the service side does: the canonical request rebuilt from what arrived (only the
headers the signature names), then botocore's SigV4 computation with the same secret."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from chalicelib.api.console import console_page
from local.signing_proxy import ConsoleProxy, Upstream, forwarded

CREDENTIALS = ReadOnlyCredentials("AKIDCONSOLETEST", "console-test-secret", "console-session-token")
REGION = "eu-west-1"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Stage:
    """A stand-in API stage at `<url>/api` that records what arrives and answers 200."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api"


@pytest.fixture
def stage() -> Iterator[Stage]:
    recorded: list[Received] = []

    class Recorder(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            recorded.append(Received(self.command, self.path, dict(self.headers.items()), body))
            answer = json.dumps({"queues": [{"name": "stream-failures", "depth": 2}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    yield Stage(server, recorded)
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(stage: Stage) -> Iterator[ConsoleProxy]:
    server = ConsoleProxy(Upstream(stage.api_url, REGION, lambda: CREDENTIALS), console_page())
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def call(proxy: ConsoleProxy, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{proxy.port}{path}", method=method,
                                     data=b"" if method == "POST" else None, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def expected_signature(received: Received, stage_url: str, secret: str) -> str:
    """SigV4 recomputed from the request as it arrived, over the headers it says it signed."""
    fields = dict(part.strip().split("=", 1) for part in received.headers["Authorization"].split(" ", 1)[1].split(","))
    signed = fields["SignedHeaders"].split(";")
    headers = {name: value for name, value in received.headers.items() if name.lower() in signed}
    host = stage_url.split("/")[2]
    request = AWSRequest(method=received.method, url=f"http://{host}{received.path}",
                         headers=headers, data=received.body)
    request.context["timestamp"] = received.headers["X-Amz-Date"]
    signer = SigV4Auth(ReadOnlyCredentials(CREDENTIALS.access_key, secret, CREDENTIALS.token),
                       "execute-api", REGION)
    return signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)


def authorization_fields(received: Received) -> dict[str, str]:
    algorithm, rest = received.headers["Authorization"].split(" ", 1)
    return {"algorithm": algorithm, **dict(part.strip().split("=", 1) for part in rest.split(","))}


def test_a_console_call_reaches_the_stage_with_a_valid_sigv4_signature(proxy: ConsoleProxy, stage: Stage) -> None:
    status, body = call(proxy, "GET", "/transactions/adyen/8535%3AREFUND?x=1")
    assert status == 200 and json.loads(body)["queues"][0]["depth"] == 2
    [received] = stage.received
    assert received.path == "/api/transactions/adyen/8535%3AREFUND?x=1"
    fields = authorization_fields(received)
    assert fields["algorithm"] == "AWS4-HMAC-SHA256"
    assert fields["Credential"] == f"AKIDCONSOLETEST/{received.headers['X-Amz-Date'][:8]}/{REGION}/execute-api/aws4_request"
    assert {"host", "x-amz-date", "x-amz-security-token"} <= set(fields["SignedHeaders"].split(";"))
    assert received.headers["X-Amz-Security-Token"] == CREDENTIALS.token
    assert fields["Signature"] == expected_signature(received, stage.api_url, CREDENTIALS.secret_key)
    assert fields["Signature"] != expected_signature(received, stage.api_url, "another-secret")


def test_a_redrive_from_the_console_page_is_forwarded_signed(proxy: ConsoleProxy, stage: Stage) -> None:
    origin = f"http://127.0.0.1:{proxy.port}"
    status, _ = call(proxy, "POST", "/admin/dead-letters/stream-failures/redrive",
                     {"Origin": origin, "Sec-Fetch-Site": "same-origin"})
    assert status == 200
    [received] = stage.received
    assert (received.method, received.path) == ("POST", "/api/admin/dead-letters/stream-failures/redrive")
    assert authorization_fields(received)["Signature"] == expected_signature(received, stage.api_url, CREDENTIALS.secret_key)


def test_the_browsers_own_headers_never_reach_the_stage(proxy: ConsoleProxy, stage: Stage) -> None:
    call(proxy, "GET", "/admin/alerts?limit=20", {"Cookie": "session=abc", "Authorization": "Basic eDp5"})
    [received] = stage.received
    assert "Cookie" not in received.headers
    assert received.headers["Authorization"].startswith("AWS4-HMAC-SHA256 ")


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/admin/replay"),
    ("GET", "/events/stripe/evt_1"),
    ("POST", "/events/stripe/evt_1/replay"),
    ("GET", "/transactions"),
    ("POST", "/analytics/daily"),
    ("GET", "/transactions/stripe/..%2F..%2Fadmin"),
    ("GET", "/transactions/%2e%2e/admin"),
])
def test_routes_the_console_does_not_call_are_not_forwarded(proxy: ConsoleProxy, stage: Stage,
                                                            method: str, path: str) -> None:
    status, body = call(proxy, method, path, {"Origin": f"http://127.0.0.1:{proxy.port}"})
    assert status == 404 and json.loads(body)["error"] == "not_found"
    assert stage.received == []


def test_requests_from_another_sites_page_are_refused(proxy: ConsoleProxy, stage: Stage) -> None:
    redrive = "/admin/dead-letters/stream-failures/redrive"
    assert call(proxy, "POST", redrive, {"Origin": "https://attacker.example"})[0] == 403
    assert call(proxy, "POST", redrive)[0] == 403  # no Origin: not the console's fetch
    assert call(proxy, "GET", "/admin/alerts", {"Sec-Fetch-Site": "cross-site"})[0] == 403
    assert call(proxy, "GET", "/admin/alerts", {"Host": f"rebound.example:{proxy.port}"})[0] == 403
    assert stage.received == []


def test_the_proxy_serves_the_console_page_itself_with_its_policy(proxy: ConsoleProxy, stage: Stage) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{proxy.port}/console", timeout=10) as response:
        assert response.read().decode() == console_page().body
        assert response.headers["Content-Security-Policy"] == console_page().headers["Content-Security-Policy"]
    assert stage.received == []


def test_the_allowlist_is_the_console_pages_own_calls() -> None:
    assert forwarded("GET", "/admin/dead-letters")
    assert forwarded("POST", "/admin/dead-letters/payment-webhooks-prod-stream-failures/redrive")
    assert not forwarded("GET", "/admin/dead-letters/x/redrive")
    assert not forwarded("DELETE", "/admin/alerts")
