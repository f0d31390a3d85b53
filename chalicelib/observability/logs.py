"""JSON log lines, one per line, with a correlation id.

Every line is made by `json_line` and this service writes its own, EMF metric lines included
(see `observability.metrics`), with `log`; `JsonFormatter` gives records that other code
sends through `logging` (Chalice's own error reports) the same shape. Only fields passed explicitly are
written: a raw body, a header value or a secret never reaches a log line because nothing
here is given one. Fields bound with `correlated` (the API Gateway request id, the Lambda
request id, the X-Ray trace id) are added to every line written inside that block, so one
request's lines can be found together."""
from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

_LOGGER = logging.getLogger("payment_webhooks")
_BOUND: ContextVar[dict[str, Any]] = ContextVar("payment_webhooks_log_fields", default={})


def json_line(level: int, message: str, fields: Mapping[str, Any], created: float) -> str:
    """The time (UTC, ISO-8601 with `Z`), level, message, the bound fields, then `fields`."""
    line: dict[str, Any] = {
        "time": datetime.fromtimestamp(created, tz=timezone.utc).isoformat().replace("+00:00", "Z"),
        "level": logging.getLevelName(level).lower(),
        "message": message,
    }
    line.update(_BOUND.get())
    line.update(fields)
    return json.dumps(line, default=str)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = dict(getattr(record, "fields", {}))
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return json_line(record.levelno, record.getMessage(), fields, record.created)


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
    """One line with `fields` on stdout (looked up at each call), if the app logger's level
    lets `level` through; `whatever_the_level`: always, as a line carrying EMF metrics must
    be (or the metrics vanish with it).

    Written directly rather than as a `logging` record: in the webhook handler the record
    machinery costs several times the line itself (benchmarks/ingest.py measures the
    handler), and a webhook writes a line for every event."""
    if whatever_the_level or _LOGGER.isEnabledFor(level):
        sys.stdout.write(json_line(level, message, fields, time.time()) + "\n")
        sys.stdout.flush()


@contextmanager
def correlated(**fields: Any) -> Iterator[None]:
    """Add `fields` (None values dropped) to every line logged inside the block.

    A context variable, not a global: `chalice local` serves requests on threads."""
    token = _BOUND.set({**_BOUND.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _BOUND.reset(token)
