"""JSON log lines carry the correlation ids bound for the request."""
from __future__ import annotations

import io
import json
import logging
from types import SimpleNamespace

from chalicelib.observability.correlation import correlation_fields
from chalicelib.observability.logs import JsonFormatter, correlated, log


def test_fields_bound_for_a_request_are_on_every_line_inside_it_and_only_there(capsys) -> None:
    with correlated(request_id="req-1", trace_id=None):
        log("webhook event stored", event_id="evt_1")
    log("after")
    inside, after = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert (inside["request_id"], inside["event_id"], inside["message"]) == ("req-1", "evt_1", "webhook event stored")
    assert "trace_id" not in inside and "request_id" not in after


def test_lines_below_the_app_loggers_level_are_not_written_unless_they_must_be(capsys) -> None:
    logger = logging.getLogger("payment_webhooks")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        log("routine")
        log("trouble", logging.ERROR)
        log("metrics", whatever_the_level=True)
    finally:
        logger.setLevel(level)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["message"], line["level"]) for line in lines] == [("trouble", "error"), ("metrics", "info")]


def test_a_record_logged_through_logging_gets_the_same_line_with_its_exception() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.chalice_errors")
    logger.addHandler(handler)
    try:
        with correlated(request_id="req-2"):
            try:
                raise ValueError("boom")
            except ValueError:
                logger.error("Caught exception for %s", "view", exc_info=True)
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert (line["level"], line["message"], line["request_id"]) == ("error", "Caught exception for view", "req-2")
    assert line["time"].endswith("Z") and "ValueError: boom" in line["exception"]


def test_the_correlation_id_is_api_gateways_request_id_else_lambdas() -> None:
    http = SimpleNamespace(context={"requestId": "apigw-1"}, lambda_context=SimpleNamespace(aws_request_id="l-1"))
    stream_event = SimpleNamespace(context=SimpleNamespace(aws_request_id="l-2"))
    trace = {"_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}
    assert correlation_fields(http, trace) == {"request_id": "apigw-1", "trace_id": "1-5759e988-bd862e3fe1be46a994272793"}
    assert correlation_fields(stream_event, {}) == {"request_id": "l-2", "trace_id": None}
