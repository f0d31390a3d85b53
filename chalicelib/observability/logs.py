"""JSON log lines, one per line, with a correlation id.

Every line this service writes is a record of the app's logger formatted by `JsonFormatter`,
EMF metric lines included (see `observability.metrics`). Only fields passed explicitly are
written: a raw body, a header value or a secret never reaches a log line because nothing
here is given one. Fields bound with `correlated` (the API Gateway request id, the Lambda
request id, the X-Ray trace id) are added to every line written inside that block, so one
request's lines can be found together."""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

_LOGGER = logging.getLogger("payment_webhooks")
_BOUND: ContextVar[dict[str, Any]] = ContextVar("payment_webhooks_log_fields", default={})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        line.update(_BOUND.get())
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(level: str = "INFO") -> logging.Logger:
    """Idempotent: Lambda reuses the process, so handlers must not pile up."""
    if not any(isinstance(h.formatter, JsonFormatter) for h in _LOGGER.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        _LOGGER.addHandler(handler)
        _LOGGER.propagate = False
    _LOGGER.setLevel(level)
    # chalice local turns on INFO for every logger; botocore then logs each client it builds.
    logging.getLogger("botocore").setLevel(logging.WARNING)
    return _LOGGER


def log(message: str, level: int = logging.INFO, *, whatever_the_level: bool = False,
        **fields: Any) -> None:
    """One line with `fields`. `whatever_the_level`: written even below the logger's level,
    as a line carrying EMF metrics must be (or the metrics vanish with it)."""
    if whatever_the_level or _LOGGER.isEnabledFor(level):
        _LOGGER.handle(_LOGGER.makeRecord(
            _LOGGER.name, level, "", 0, message, (), None, extra={"fields": fields}))


@contextmanager
def correlated(**fields: Any) -> Iterator[None]:
    """Add `fields` (None values dropped) to every line logged inside the block.

    A context variable, not a global: `chalice local` serves requests on threads."""
    token = _BOUND.set({**_BOUND.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _BOUND.reset(token)
