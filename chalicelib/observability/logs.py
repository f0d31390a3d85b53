"""JSON log lines, one per line, with a correlation id.

Only fields passed explicitly are written: a raw body, a header value or a secret never
reaches a log line because nothing here is given one. Fields bound with `correlated` (the
API Gateway request id, the Lambda request id, the X-Ray trace id) are added to every
line written inside that block, so one request's lines can be found together."""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, TextIO

_LOGGER = logging.getLogger("payment_webhooks")
# Built once: `json.dumps` with any option builds a new encoder for every call.
_COMPACT = json.JSONEncoder(separators=(",", ":"), default=str)
_BOUND: ContextVar[dict[str, Any]] = ContextVar("payment_webhooks_log_fields", default={})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc_text(datetime.fromtimestamp(record.created, tz=timezone.utc)),
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
    # JsonFormatter writes none of these record fields, nor the caller's file and line;
    # collecting them costs every line (the logging HOWTO's "Optimization" section).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None  # type: ignore[attr-defined]
    # chalice local turns on INFO for every logger; botocore then logs each client it builds.
    logging.getLogger("botocore").setLevel(logging.WARNING)
    return _LOGGER


def log(message: str, level: int = logging.INFO, **fields: Any) -> None:
    _LOGGER.log(level, message, extra={"fields": fields})


def write_document(document: Mapping[str, Any], stream: TextIO | None = None) -> None:
    """Write `document`, after the time and the bound correlation fields, as one line on
    `stream` (stdout when None, looked up at each call).

    Straight to the stream, not through `logging`: a document carrying EMF metrics must be
    written whatever the log level (or the metrics vanish with it), and a webhook writes
    one, where the logging machinery would cost more than the JSON itself."""
    line = _COMPACT.encode({"time": _utc_text(datetime.now(timezone.utc)), **_BOUND.get(), **document})
    out = sys.stdout if stream is None else stream
    out.write(line + "\n")
    out.flush()


def _utc_text(moment: datetime) -> str:
    """A line's `time`: ISO-8601 in UTC with `Z`, to the microsecond."""
    return moment.isoformat().replace("+00:00", "Z")


@contextmanager
def correlated(**fields: Any) -> Iterator[None]:
    """Add `fields` (None values dropped) to every line logged inside the block.

    A context variable, not a global: `chalice local` serves requests on threads."""
    token = _BOUND.set({**_BOUND.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _BOUND.reset(token)
