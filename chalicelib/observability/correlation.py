"""Correlation ids for a Lambda invocation, from whatever event Chalice hands middleware.

`request_id` is API Gateway's request id for HTTP (the id API Gateway logs and returns in
`x-amzn-RequestId`), else the Lambda request id; `trace_id` is the X-Ray trace id when
tracing is on. Webhook lines add the provider's own event id."""
from __future__ import annotations

import os
from typing import Any


def correlation_fields(event: Any, environ: Any = os.environ) -> dict[str, Any]:
    lambda_context = getattr(event, "lambda_context", None) or getattr(event, "context", None)
    request_context = getattr(event, "context", None)
    request_id = request_context.get("requestId") if isinstance(request_context, dict) else None
    return {
        "request_id": request_id or getattr(lambda_context, "aws_request_id", None),
        "trace_id": _trace_root(environ.get("_X_AMZN_TRACE_ID")),
    }


def _trace_root(header: str | None) -> str | None:
    """`Root=1-5759e988-bd862e3fe1be46a994272793;Parent=...;Sampled=1` -> the Root."""
    if not header:
        return None
    for part in header.split(";"):
        key, _, value = part.partition("=")
        if key.strip() == "Root":
            return value.strip()
    return None
