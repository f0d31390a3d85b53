"""Invoking the stage's own functions: a stream consumer with the records a redrive re-read,
a scheduled job with the event its failed run had (docs/api.md section 11).

Deployed, through Lambda itself, so each runs with its own role and the API function needs
only `lambda:InvokeFunction` on them, not what they do. Locally (`make run`, the tests)
there is no Lambda: the app's own handlers are called in-process with the same event."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.storage.errors import storage_errors

Handler = Callable[[dict[str, Any], Any], Any]


class FunctionFailed(Exception):
    """The function raised (or Lambda reports a function error)."""


class LambdaFunctions:
    def __init__(self, client: Any, function_prefix: str) -> None:
        self._client = client
        self._prefix = function_prefix

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """Run `function` on `event` and answer what it returned."""
        with storage_errors():
            response = self._client.invoke(FunctionName=self._prefix + function,
                                           InvocationType="RequestResponse", Payload=json.dumps(event).encode())
        payload = response["Payload"].read()
        if response.get("FunctionError"):
            raise FunctionFailed(f"{function} failed: {response['FunctionError']}")
        return json.loads(payload) if payload else None

    def start(self, function: str, event: dict[str, Any]) -> None:
        """Queue an asynchronous run (a job: Lambda retries it and dead-letters it again
        if it fails again)."""
        with storage_errors():
            self._client.invoke(FunctionName=self._prefix + function, InvocationType="Event",
                                Payload=json.dumps(event).encode())


@dataclass(frozen=True)
class _Context:
    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


class InProcessFunctions:
    """The local stand-in: the app's handlers by function name, called where the API runs."""

    def __init__(self, handlers: Mapping[str, Handler]) -> None:
        self._handlers = handlers

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        handler = self._handlers.get(function)
        if handler is None:
            raise FunctionFailed(f"no function {function!r} in this app")
        try:
            return handler(event, _Context(function))
        except Exception as exc:  # noqa: BLE001 - Lambda would report a function error
            raise FunctionFailed(f"{function} failed: {type(exc).__name__}") from exc

    def start(self, function: str, event: dict[str, Any]) -> None:
        self.invoke(function, event)
