"""A local stand-in for the providers' events APIs, for the official SDKs to talk to.

It answers the documented list requests with the documented response shapes and
pagination, from events the test hands it:
- Stripe `GET /v1/events` (List Events): `created[gte]`, `limit`, `starting_after`;
  newest first; `{"object": "list", "url", "has_more", "data"}`.
- Square `POST /v2/events` (SearchEvents): `query.filter.created_at.start_at`,
  `query.sort`, `limit`, `cursor` (a later page must repeat the original query, as
  Square requires); `{"events", "metadata", "cursor"}`, no `cursor` on the last page.
Both check the bearer key, answer the provider's own error bodies, and can be told to
answer 429 a number of times first (`rate_limit`), to refuse the key after some requests
(`revoke_key_after`) or to forbid a key events (`keys_without_access`, Stripe's 403). Every request is recorded.

Standard library only: an `http.server` on an ephemeral port, in a thread, for the
length of a `with` block."""
from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class RecordedRequest:
    provider: str
    method: str
    path: str
    params: dict[str, Any]
    authorization: str | None


@dataclass
class ProviderApi:
    """Events by provider (`stripe`: Stripe Event objects; `square`: Square Event
    objects), the key each expects, and pending 429 answers by provider."""

    api_keys: dict[str, str]
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    page_size: int = 100
    rate_limit: dict[str, int] = field(default_factory=dict)
    retry_after: str | None = None
    revoke_key_after: dict[str, int] = field(default_factory=dict)
    """Refuse the key (401) once this many of the provider's requests were answered."""
    keys_without_access: set[str] = field(default_factory=set)
    """Keys that authenticate but may not read events (403)."""
    requests: list[RecordedRequest] = field(default_factory=list)
    base_url: str = ""

    def requests_of(self, provider: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.provider == provider]

    # --- Stripe ---------------------------------------------------------------------------

    def stripe_list(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        newest_first = sorted(self.events.get("stripe", []), key=lambda e: (-e["created"], e["id"]))
        if "created[gte]" in params:
            newest_first = [e for e in newest_first if e["created"] >= int(params["created[gte]"])]
        if "starting_after" in params:
            ids = [e["id"] for e in newest_first]
            if params["starting_after"] not in ids:
                return 400, _stripe_error("invalid_request_error", "resource_missing",
                                          f"No such event: '{params['starting_after']}'")
            newest_first = newest_first[ids.index(params["starting_after"]) + 1:]
        limit = min(int(params.get("limit", 10)), self.page_size)
        page = newest_first[:limit]
        return 200, {"object": "list", "url": "/v1/events", "has_more": len(newest_first) > limit, "data": page}

    # --- Square ---------------------------------------------------------------------------

    def square_search(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        query = body.get("query") or {}
        offset = 0
        if body.get("cursor"):
            state = json.loads(base64.urlsafe_b64decode(body["cursor"]))
            if state["query"] != query:
                return 400, _square_error("INVALID_REQUEST_ERROR", "INVALID_CURSOR",
                                          "The cursor must be used with the original query.")
            offset = state["offset"]
        start = (((query.get("filter") or {}).get("created_at")) or {}).get("start_at")
        order = ((query.get("sort") or {}).get("order")) or "DESC"
        chosen = [e for e in self.events.get("square", [])
                  if start is None or _instant(e["created_at"]) >= _instant(start)]
        chosen.sort(key=lambda e: (_instant(e["created_at"]), e["event_id"]), reverse=order == "DESC")
        limit = min(int(body.get("limit") or 100), self.page_size)
        page = chosen[offset:offset + limit]
        answer: dict[str, Any] = {
            "events": page,
            "metadata": [{"event_id": e["event_id"], "api_version": "2025-10-16"} for e in page],
        }
        if offset + limit < len(chosen):
            answer["cursor"] = base64.urlsafe_b64encode(
                json.dumps({"offset": offset + limit, "query": query}).encode()).decode()
        return 200, answer


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _stripe_error(kind: str, code: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "code": code, "message": message}}


def _square_error(category: str, code: str, detail: str) -> dict[str, Any]:
    return {"errors": [{"category": category, "code": code, "detail": detail}]}


def _handler(api: ProviderApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/v1/events":
                return self._answer(404, _stripe_error("invalid_request_error", "", "Unrecognized request URL"))
            params = {key: values[-1] for key, values in parse_qs(url.query).items()}
            self._serve("stripe", params, lambda: api.stripe_list(params))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if urlsplit(self.path).path != "/v2/events":
                return self._answer(404, _square_error("INVALID_REQUEST_ERROR", "NOT_FOUND", "Not found"))
            self._serve("square", body, lambda: api.square_search(body))

        def _serve(self, provider: str, params: dict[str, Any], answer: Any) -> None:
            authorization = self.headers.get("Authorization")
            api.requests.append(RecordedRequest(provider, self.command, urlsplit(self.path).path,
                                                params, authorization))
            answered_before_revoking = api.revoke_key_after.get(provider)
            revoked = answered_before_revoking is not None and len(api.requests_of(provider)) > answered_before_revoking
            if authorization and authorization.removeprefix("Bearer ") in api.keys_without_access:
                key = authorization.removeprefix("Bearer ")
                return self._answer(403, _stripe_error(
                    "invalid_request_error", "", f"The provided key '{key[:8]}***{key[-4:]}' does not have "
                    "the required permissions for this endpoint on account 'acct_1'."))
            if revoked or authorization != f"Bearer {api.api_keys.get(provider)}":
                error = (_stripe_error("invalid_request_error", "", "Invalid API Key provided")
                         if provider == "stripe" else
                         _square_error("AUTHENTICATION_ERROR", "UNAUTHORIZED", "This request could not be authorized."))
                return self._answer(401, error)
            if api.rate_limit.get(provider, 0) > 0:
                api.rate_limit[provider] -= 1
                error = (_stripe_error("rate_limit_error", "rate_limit", "Too many requests hit the API too quickly.")
                         if provider == "stripe" else
                         _square_error("RATE_LIMIT_ERROR", "RATE_LIMITED", "Rate limit exceeded."))
                headers = {"Retry-After": api.retry_after} if api.retry_after else {}
                return self._answer(429, error, headers)
            self._answer(*answer())

        def _answer(self, status: int, document: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-Id", f"req_{len(api.requests)}")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serving(api: ProviderApi) -> Iterator[ProviderApi]:
    """`api` answering on http://127.0.0.1:<free port> (its `base_url`) for the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, name="provider-api", daemon=True)
    thread.start()
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
