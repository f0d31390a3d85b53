"""Errors the gateway answers before any view runs are in the contract's shape too
(contract section 5): locally (the local server's gateway) as deployed (gateway responses)."""
from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from local.api_server import build_server


@pytest.mark.parametrize("path, field", [("/transactions/stripe/", "id"), ("/events/stripe/", "event_id"),
                                         ("/transactions//pi_1", "provider")])
def test_a_path_with_an_empty_id_is_invalid_request(client, path: str, field: str) -> None:
    response = client.http.get(path)
    assert response.status_code == 400
    assert response.json_body["error"] == "invalid_request"
    assert response.json_body["message"].startswith(f"{field}:")


@pytest.fixture(scope="module")
def local_server() -> Iterator[str]:
    """The local API server of `make run` on a port of its own, in this process (no storage
    is touched).

    Building it does what `chalice local` does to its own process: the stage's variables
    go into os.environ and the app object becomes a local one. Both are put back after,
    so later tests in this process see neither."""
    import app as app_module

    environ, app_class = dict(os.environ), app_module.app.__class__
    ready = threading.Event()
    ready.set()
    server = build_server("local", "127.0.0.1", 0, ready)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.shutdown()
        server.server.server_close()
        thread.join(5)
        os.environ.clear()
        os.environ.update(environ)
        app_module.app.__class__ = app_class


def get(url: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.loads(error.read())


@pytest.mark.parametrize("path", ["/nope", "/webhooks", "/transactions/stripe/pi_1/extra", "/"])
def test_an_unknown_route_is_not_found_in_the_contracts_shape(local_server: str, path: str) -> None:
    status, content_type, body = get(local_server + path)
    assert (status, content_type, body["error"]) == (404, "application/json", "not_found")
    assert set(body) == {"error", "message"}


def test_a_known_route_is_served_as_before(local_server: str) -> None:
    assert get(local_server + "/health") == (200, "application/json", {"status": "ok"})
