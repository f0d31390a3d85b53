"""The HTTP server behind `make console`: the console page on 127.0.0.1, and the console's own
API calls forwarded to a deployed stage signed with SigV4. Never deployed.

Deployed stages let only IAM principals read the admin routes (docs/api.md section 11). A
browser cannot sign requests, so this proxy signs them with the operator's own credentials,
with botocore's signer for service `execute-api`. That makes it a tool that can act as the
operator, so it forwards as little as it can and only for its own page:

- only the routes the console reads (ROUTES: method and path), nothing else of the API;
- only requests addressed to this server by name (`Host` is 127.0.0.1 or localhost with this
  port), so a web page that rebinds its own DNS name to 127.0.0.1 gets nothing;
- no request another site's page sends: a cross-site `Sec-Fetch-Site` is refused, and a POST
  (the redrive button) must carry this server's own `Origin`;
- of the browser's headers only `Accept`; cookies and the browser's identity never travel.
"""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from chalicelib.api.console import ConsolePage

SERVICE = "execute-api"
UPSTREAM_TIMEOUT_SECONDS = 35  # above API Gateway's own 29 s, so its answer reaches the page
MAX_BODY_BYTES = 64 * 1024
CONSOLE_PATH = "/console"

ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (method, re.compile(pattern)) for method, pattern in (
        ("GET", r"/analytics/daily"),
        ("GET", r"/admin/alerts"),
        ("GET", r"/admin/dead-letters"),
        ("POST", r"/admin/dead-letters/[^/]+/redrive"),
        ("GET", r"/admin/reconciliations"),
        ("GET", r"/transactions/[^/]+/[^/]+"),
    ))
"""What the console page calls, and so all that the proxy forwards."""


def forwarded(method: str, path: str) -> bool:
    """True for one of the console's routes; never for a path with a `.` or `..` segment,
    which a server could resolve to another route."""
    segments = [urllib.parse.unquote(segment) for segment in path.split("/")]
    if any(segment in (".", "..") or "/" in segment for segment in segments):
        return False
    return any(method == allowed and pattern.fullmatch(path) for allowed, pattern in ROUTES)


def sign(method: str, url: str, body: bytes, credentials: ReadOnlyCredentials, region: str) -> dict[str, str]:
    """The headers of `method url` signed with SigV4 for API Gateway (`Host` included)."""
    host = urllib.parse.urlsplit(url).netloc
    request = AWSRequest(method=method, url=url, data=body,
                         headers={"Host": host, "Accept": "application/json"})
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return dict(request.headers.items())


@dataclass(frozen=True)
class Upstream:
    """The deployed stage: its API URL (ending in the stage path, e.g. `/api`), its region,
    and where fresh credentials come from (botocore refreshes temporary ones)."""

    api_url: str
    region: str
    credentials: Callable[[], ReadOnlyCredentials]

    def send(self, method: str, path_and_query: str, body: bytes) -> tuple[int, str, bytes]:
        url = self.api_url.rstrip("/") + path_and_query
        headers = sign(method, url, body, self.credentials(), self.region)
        request = urllib.request.Request(url, data=body if method == "POST" else None,
                                         headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=UPSTREAM_TIMEOUT_SECONDS) as response:  # nosec B310 # the stage API URL the operator configured for the console
                return response.status, response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Content-Type", ""), error.read()


class ConsoleProxyHandler(BaseHTTPRequestHandler):
    server: "ConsoleProxy"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        body = self._read_body()
        if body is None:
            return
        refusal = self._refusal(method)
        if refusal:
            self._send_json(403, {"error": "access_denied", "message": refusal})
            return
        target = urllib.parse.urlsplit(self.path)
        path = target.path
        if method == "GET" and path == CONSOLE_PATH:
            page = self.server.page
            self._send(200, page.headers, page.body.encode("utf-8"))
        elif forwarded(method, path):
            self._forward(method, path + (f"?{target.query}" if target.query else ""), body)
        else:
            self._send_json(404, {"error": "not_found",
                                  "message": "make console forwards only the console's own routes"})

    def _forward(self, method: str, path_and_query: str, body: bytes) -> None:
        try:
            status, content_type, answer = self.server.upstream.send(method, path_and_query, body)
        except OSError as error:  # unreachable, TLS, timeout: the page shows "unavailable"
            self._send_json(502, {"error": "unavailable", "message": f"the stage did not answer: {error}"})
            return
        self._send(status, {"Content-Type": content_type or "application/json"}, answer)

    def _refusal(self, method: str) -> str | None:
        own = {f"127.0.0.1:{self.server.port}", f"localhost:{self.server.port}"}
        host = self.headers.get("Host", "")
        if host not in own:
            return "this proxy answers only requests addressed to 127.0.0.1 or localhost"
        if self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return "requests from other sites' pages are refused"
        if method == "POST" and self.headers.get("Origin") != f"http://{host}":
            return "a POST must come from the console page itself"
        return None

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send_json(413, {"error": "payload_too_large", "message": "the console sends no large bodies"})
            return None
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, {"Content-Type": "application/json"}, json.dumps(body).encode())

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ConsoleProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: Upstream, page: ConsolePage, port: int = 0) -> None:
        self.upstream, self.page = upstream, page
        super().__init__(("127.0.0.1", port), ConsoleProxyHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]
