"""Chalice's local gateway answering its own errors as API Gateway does once deployed:
in the contract's shape (chalicelib/api/gateway_errors.py), not `{"message": ...}`.

`chalice local` (and so `make run`) imitates API Gateway, including its errors: an
unknown route is `403 {"message": "Missing Authentication Token"}`. Deployed stages
install gateway responses that restate those errors; this applies the same table
locally: the local API server (local/api_server.py) derives its handler from
`ContractRequestHandler` instead of Chalice's `ChaliceRequestHandler`."""
from __future__ import annotations

from typing import Any

from chalice.local import ChaliceRequestHandler, LocalGateway, LocalGatewayException

from chalicelib.api.gateway_errors import local_error


class ContractGateway(LocalGateway):
    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        try:
            return super().handle_request(method, path, headers, body)
        except LocalGatewayException as error:
            status, restated = local_error(error.CODE, error.body)
            return {"statusCode": status, "multiValueHeaders": {}, "body": restated,
                    "headers": {**(error.headers or {}), "Content-Type": "application/json"}}


class ContractRequestHandler(ChaliceRequestHandler):
    """Chalice's request handler with `ContractGateway` in place of its gateway."""

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        from http.server import BaseHTTPRequestHandler

        self.local_gateway = ContractGateway(app_object, config)
        # ChaliceRequestHandler.__init__ would build its own gateway: skip to the base,
        # which handles the request at once.
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)
