"""AWS call sites found by instrumenting botocore, and faults injected at them.

Every API call any boto3 client makes passes through `BaseClient._make_api_call`; wrapping
it records (service, operation, the innermost frame of the app's own code that made the
call), so call sites are discovered by running the real flows rather than kept by hand.
The same wrapper injects a fault at a call site (or several), once each (a transient fault, as AWS has
them), after the SDK's own retries would have given up:

- `throttling`: the service's throttling error; the request was not applied.
- `500`: an internal error; the request was not applied.
- `timeout`: the request WAS applied, but its answer is lost (a read timeout): the
  ambiguous case, where only idempotent retries keep the state exact.
"""
from __future__ import annotations

import contextlib
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError, ReadTimeoutError

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_CODE = (REPO_ROOT / "chalicelib", REPO_ROOT / "app.py")
PLUMBING = {"chalicelib/wiring.py", "chalicelib/lazy.py", "chalicelib/backoff.py"}
FAULTS = ("throttling", "500", "timeout")
THROTTLING = {"dynamodb": ("ProvisionedThroughputExceededException", 400), "s3": ("SlowDown", 503),
              "sns": ("Throttling", 400), "sqs": ("RequestThrottled", 403), "events": ("ThrottlingException", 400),
              "secretsmanager": ("ThrottlingException", 400)}


@dataclass(frozen=True, order=True)
class CallSite:
    service: str
    operation: str
    code: str  # "chalicelib/storage/ledger.py::record_merged"

    def __str__(self) -> str:
        return f"{self.service}.{self.operation} @ {self.code}"


def calling_code() -> str | None:
    """The innermost frame of the app's own code on the stack (None: not the app's call,
    e.g. the local stream poller standing in for Lambda, or a test's own client)."""
    for frame in reversed(traceback.extract_stack()):
        path = Path(frame.filename)
        if any(path == root or root in path.parents for root in APP_CODE):
            relative = path.relative_to(REPO_ROOT).as_posix()
            if relative not in PLUMBING:
                return f"{relative}::{frame.name}"
    return None


def fault_error(fault: str, service: str, operation: str) -> Exception:
    if fault == "timeout":
        return ReadTimeoutError(endpoint_url=f"https://{service}.amazonaws.com/")
    code, status = THROTTLING.get(service, ("ThrottlingException", 400)) if fault == "throttling" else (
        "InternalServerError" if service == "dynamodb" else "InternalError", 500)
    return ClientError({"Error": {"Code": code, "Message": f"injected {fault}"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


@dataclass
class Instrument:
    """Records every call site hit; with sites armed, fails each one's next call, once."""

    calls: Counter[CallSite] = field(default_factory=Counter)
    armed: dict[CallSite, str] = field(default_factory=dict)
    injected: Counter[CallSite] = field(default_factory=Counter)

    def arm(self, target: CallSite, fault: str) -> None:
        self.armed[target] = fault

    def disarm(self) -> None:
        self.armed.clear()

    def call(self, original: Any, client: BaseClient, operation: str, params: Any) -> Any:
        code = calling_code()
        if code is None:
            return original(client, operation, params)
        service = client.meta.service_model.service_name
        site = CallSite(service, operation, code)
        self.calls[site] += 1
        fault = self.armed.get(site)
        if fault is None or self.injected[site]:
            return original(client, operation, params)
        self.injected[site] += 1
        if fault == "timeout":
            original(client, operation, params)  # applied; the answer is what is lost
        raise fault_error(fault, service, operation)


@contextlib.contextmanager
def instrumented() -> Iterator[Instrument]:
    instrument = Instrument()
    original = BaseClient._make_api_call

    def make_api_call(client: BaseClient, operation: str, params: Any) -> Any:
        return instrument.call(original, client, operation, params)

    BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
    try:
        yield instrument
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
