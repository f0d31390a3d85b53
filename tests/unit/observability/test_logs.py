"""JSON log lines carry the correlation ids bound for the request."""
from __future__ import annotations

import io
import json
import logging
from types import SimpleNamespace

from chalicelib.observability.correlation import correlation_fields
from chalicelib.observability.logs import JsonFormatter, correlated, log


def capture() -> tuple[io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("payment_webhooks")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return stream, handler


def test_fields_bound_for_a_request_are_on_every_line_inside_it_and_only_there() -> None:
    stream, handler = capture()
    try:
        with correlated(request_id="req-1", trace_id=None):
            log("webhook event stored", event_id="evt_1")
        log("after")
    finally:
        logging.getLogger("payment_webhooks").removeHandler(handler)
    inside, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (inside["request_id"], inside["event_id"], inside["message"]) == ("req-1", "evt_1", "webhook event stored")
    assert "trace_id" not in inside and "request_id" not in after


def test_the_correlation_id_is_api_gateways_request_id_else_lambdas() -> None:
    http = SimpleNamespace(context={"requestId": "apigw-1"}, lambda_context=SimpleNamespace(aws_request_id="l-1"))
    stream_event = SimpleNamespace(context=SimpleNamespace(aws_request_id="l-2"))
    trace = {"_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}
    assert correlation_fields(http, trace) == {"request_id": "apigw-1", "trace_id": "1-5759e988-bd862e3fe1be46a994272793"}
    assert correlation_fields(stream_event, {}) == {"request_id": "l-2", "trace_id": None}
