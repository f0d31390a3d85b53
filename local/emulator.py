"""The local AWS emulator: moto's server with every request dispatched under one lock.

Why not plain `moto_server`: moto 5.2.5's TransactWriteItems is not atomic under
concurrency (it deep-copies tables, checks conditions unlocked and restores the copy on
cancellation), and `chalice local` plus background workers do send concurrent requests.
Serialising dispatch makes moto behave like one consistent DynamoDB, and it is what lets
the patches below stay small: transactions that cost what they write and honour
ClientRequestToken (local/emulator_transactions.py), stream records that expire after
24 hours (local/emulator_streams.py), update expressions checked in linear time
(local/emulator_expressions.py), and parsed once and walked cheaply
(local/emulator_update_parsing.py), and stream reads answered as JSON directly
(local/emulator_stream_reads.py). They are written against one moto version, so the
emulator refuses to start on another. The socket I/O stays
threaded: request bodies are read before taking the lock and responses are written after
releasing it, so a slow client cannot stall the others.

Run: `python -m local.emulator --port 4566` (port 0 picks a free one). The first line on
stdout is always `EMULATOR_READY http://127.0.0.1:<port>`; tools read it to learn the port.
"""
from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

READY_PREFIX = "EMULATOR_READY"
PATCHED_MOTO_VERSION = "5.2.5"
DEFAULT_PORT = 4566

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class SerialisedDispatch:
    """WSGI middleware: one request at a time reaches the wrapped app.

    The whole response body is materialised inside the lock, because moto builds some
    responses lazily and its state may be read while the body iterates."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        _buffer_request_body(environ)
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured[:] = [status, headers, exc_info]
            return lambda _data: None  # moto never uses the legacy write() callable

        with self._lock:
            result = self._app(environ, capture)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        status, headers, exc_info = captured
        start_response(status, headers, exc_info)
        return [body]


def _buffer_request_body(environ: Environ) -> None:
    """Read the request body off the socket before the lock is taken."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    if environ.get("wsgi.input_terminated"):
        data = stream.read()
    else:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = stream.read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(data)


def patch_moto(version: str = PATCHED_MOTO_VERSION) -> None:
    """Apply the emulator's patches to moto, or fail loudly on a moto they were not checked
    against (a patch over changed code would silently change what the emulator answers)."""
    import moto

    if moto.__version__ != version:
        raise RuntimeError(
            f"the emulator patches moto {version}, but moto {moto.__version__} is installed: check "
            "local/emulator_transactions.py, local/emulator_streams.py, local/emulator_expressions.py, "
            "local/emulator_update_parsing.py and local/emulator_stream_reads.py against that version "
            "(transact_write_items in moto/dynamodb/models/__init__.py, StreamShard in "
            "moto/dynamodb/models/table.py, the validators in moto/dynamodb/parsing/validators.py, "
            "UpdateExpressionParser.make and DepthFirstTraverser in moto/dynamodb/parsing, get_records in "
            "moto/dynamodbstreams/responses.py), then update PATCHED_MOTO_VERSION, or pin moto back.")
    from local import (
        emulator_expressions, emulator_stream_reads, emulator_streams, emulator_transactions, emulator_update_parsing,
    )

    emulator_transactions.install()
    emulator_streams.install()
    emulator_expressions.install()
    emulator_update_parsing.install()
    emulator_stream_reads.install()


def build_app() -> WSGIApp:
    """moto's multi-service dispatcher, patched, wrapped so that dispatch is serialised."""
    patch_moto()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return SerialisedDispatch(DomainDispatcherApplication(create_backend_app))


def _request_handler(verbose: bool) -> type:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietHandler(MotoRequestHandler):
        """moto's handler (keeps underscored headers) without a log line per request."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if verbose:
                super().log_request(code, size)

    return QuietHandler


def serve(host: str, port: int, verbose: bool = False) -> None:
    """Bind, announce the bound URL on stdout, serve until SIGINT/SIGTERM."""
    from werkzeug.serving import make_server

    try:
        server = make_server(host, port, build_app(), threaded=True,
                             request_handler=_request_handler(verbose))
    except OSError as exc:
        sys.stderr.write(f"emulator: cannot listen on {host}:{port}: {exc.strerror or exc}. "
                         f"Is another emulator running? Set EMULATOR_PORT to a free port.\n")
        raise SystemExit(2) from exc
    bound = server.server_address[1]
    # moto builds SQS queue URLs and the like from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(bound)

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"{READY_PREFIX} http://{host}:{bound}", flush=True)
    threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()


def _warm_up() -> None:
    """Import moto's CloudFormation engine (slow) while the client is still starting up,
    instead of inside the first CreateStack. A request that needs it meanwhile just waits
    on the import lock."""
    import moto.cloudformation.parsing  # noqa: F401


def _quiet_known_noise() -> None:
    """No line per request, and no warning per deploy for resources moto's CloudFormation
    skips (AWS::SecretsManager::Secret among them: local/provision.py seeds the secret)."""
    import logging
    import warnings

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("moto").addFilter(
        lambda record: not record.getMessage().startswith("No Moto CloudFormation support"))
    warnings.filterwarnings("ignore", message="Tried to parse .* not supported by moto")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", DEFAULT_PORT)))
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    if not args.verbose:
        _quiet_known_noise()
    serve(args.host, args.port, args.verbose)
    # Nothing to persist: skip interpreter teardown of moto's thousands of objects.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
