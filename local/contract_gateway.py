"""Chalice's local gateway answering its own errors as API Gateway does once deployed:
in the contract's shape (chalicelib/api/gateway_errors.py), not `{"message": ...}`.

`chalice local` (and so `make run`) imitates API Gateway, including its errors: an
unknown route is `403 {"message": "Missing Authentication Token"}`. Deployed stages
install gateway responses that restate those errors; this applies the same table
locally. A local server uses `ContractRequestHandler` (or derives its own handler from
it) instead of Chalice's `ChaliceRequestHandler`.

Run on its own: `python -m local.contract_gateway [--stage local] [--host H] [--port P]`,
which serves what `chalice local --no-autoreload` serves, with this gateway."""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from chalice.local import ChaliceRequestHandler, LocalGateway, LocalGatewayException

from chalicelib.api.gateway_errors import local_error

REPO_ROOT = Path(__file__).resolve().parent.parent


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


def build_server(stage: str, host: str, port: int, project_dir: Path = REPO_ROOT) -> Any:
    """What `chalice local` builds (Chalice's CLI factory and local app), with our handler."""
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.validate import validate_routes
    from chalice.local import CustomLocalChalice, LocalChalice, LocalDevServer

    os.environ["AWS_CHALICE_CLI_MODE"] = "true"  # as the chalice CLI sets it
    config = CLIFactory(str(project_dir), environ=os.environ).create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    validate_routes(app.routes)
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=ContractRequestHandler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    os.chdir(REPO_ROOT)
    build_server(args.stage, args.host, args.port).serve_forever()


if __name__ == "__main__":
    main()
