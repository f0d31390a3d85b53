"""EMF lines: what CloudWatch needs to turn a log line into metrics, and what a webhook reports."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest

from chalicelib.domain.events import Outcome
from chalicelib.errors import SignatureError, StorageUnavailable, UnknownProvider
from chalicelib.observability.logs import correlated
from chalicelib.observability.metrics import Directive, Metric, MetricsWriter, emf_document
from chalicelib.observability.webhooks import observe_webhook
from chalicelib.services.ingest import EventReceipt, Receipt


@pytest.fixture
def log_lines(capsys) -> Callable[[], list[dict]]:
    """Reads every line written on stdout during the test so far."""
    seen: list[dict] = []

    def read() -> list[dict]:
        seen.extend(json.loads(line) for line in capsys.readouterr().out.splitlines())
        return list(seen)
    return read


def lines(read: Callable[[], list[dict]]) -> list[dict]:
    return read()


def emf(read: Callable[[], list[dict]]) -> list[dict]:
    return [doc for doc in read() if "_aws" in doc]


def test_an_emf_document_declares_its_metrics_and_carries_their_values() -> None:
    doc = emf_document({"Stage": "prod", "Provider": "stripe"},
                       [Directive((Metric("Webhooks"),), (("Stage", "Provider"),))], {"Webhooks": 2},
                       timestamp_ms=1700000000000)
    assert doc == {
        "Stage": "prod", "Provider": "stripe", "Webhooks": 2,
        "_aws": {"Timestamp": 1700000000000, "CloudWatchMetrics": [{
            "Namespace": "PaymentWebhooks", "Dimensions": [["Stage", "Provider"]],
            "Metrics": [{"Name": "Webhooks", "Unit": "Count"}]}]},
    }


def test_a_dimension_set_naming_an_undefined_dimension_is_a_bug() -> None:
    with pytest.raises(ValueError):
        emf_document({"Stage": "prod"}, [Directive((Metric("Webhooks"),), (("Stage", "Provider"),))], {"Webhooks": 1})


def test_a_declared_metric_without_a_value_is_a_bug() -> None:
    with pytest.raises(ValueError):
        emf_document({"Stage": "prod"}, [Directive((Metric("Webhooks"),), (("Stage",),))], {})


def test_a_stored_webhook_is_one_line_that_is_both_its_log_line_and_its_metrics(log_lines) -> None:
    with correlated(request_id="req-1"):
        with observe_webhook("stripe", MetricsWriter("prod"), clock=iter([1.0, 1.002]).__next__) as observed:
            observed.record(Receipt("stripe", [EventReceipt("evt_1", "stripe/pi_1", Outcome.APPLIED)], None))
    (line,) = lines(log_lines)
    assert {k: line[k] for k in ("message", "level", "request_id", "provider", "event_id", "transaction", "outcome")} == {
        "message": "webhook event stored", "level": "info", "request_id": "req-1", "provider": "stripe",
        "event_id": "evt_1", "transaction": "stripe/pi_1", "outcome": "applied"}
    assert (line["Provider"], line["Outcome"], line["Webhooks"], line["WebhookLatency"]) == ("stripe", "applied", 1, 2.0)
    assert line["time"].endswith("Z")


def test_a_stored_webhook_is_one_line_per_event_with_a_count_per_outcome(log_lines) -> None:
    ticks = iter([10.0, 10.25])
    with correlated(request_id="req-9"):
        with observe_webhook("stripe", MetricsWriter("prod"), clock=lambda: next(ticks)) as observed:
            observed.record(Receipt("stripe", [EventReceipt("e1", "stripe/p", Outcome.APPLIED),
                                               EventReceipt("e2", "stripe/p", Outcome.APPLIED),
                                               EventReceipt("e3", None, Outcome.IGNORED)], None))
    assert [line["event_id"] for line in lines(log_lines)] == ["e1", "e2", "e3"]
    first, second = emf(log_lines)
    assert (first["WebhookLatency"], first["SignatureFailures"], first["request_id"]) == (250.0, 0, "req-9")
    assert [d["Dimensions"] for d in first["_aws"]["CloudWatchMetrics"]] == [
        [["Stage", "Provider"], ["Stage"]], [["Stage", "Provider", "Outcome"]]]
    assert {(d["Outcome"], d["Webhooks"]) for d in (first, second)} == {("applied", 2), ("ignored", 1)}
    assert "WebhookLatency" not in second and second["Stage"] == "prod"


@pytest.mark.parametrize("error, provider, outcome, signature_failures", [
    (SignatureError("bad"), "stripe", "invalid_signature", 1),
    (StorageUnavailable("down"), "stripe", "unavailable", 0),
    (UnknownProvider("no"), "unknown", "unknown_provider", 0),
])
def test_a_rejected_webhook_counts_its_error_code(log_lines, error, provider, outcome, signature_failures) -> None:
    with pytest.raises(type(error)):
        with observe_webhook("stripe" if provider != "unknown" else "attacker-chosen-123", MetricsWriter("dev")):
            raise error
    (line,) = lines(log_lines)
    assert (line["Provider"], line["SignatureFailures"], line["Outcome"], line["Webhooks"]) == (
        provider, signature_failures, outcome, 1)
    assert (line["message"], line["level"], line["error"], line["status"]) == (
        "webhook rejected", "warning", outcome, error.status)


def test_an_unexpected_failure_is_counted_as_an_internal_error(log_lines) -> None:
    with pytest.raises(RuntimeError):
        with observe_webhook("adyen", MetricsWriter("prod")):
            raise RuntimeError("boom")
    (line,) = lines(log_lines)
    assert (line["message"], line["level"], line["Outcome"], line["Webhooks"]) == (
        "webhook failed", "error", "internal_error", 1)
    assert "boom" not in json.dumps(line)


def test_metric_lines_go_to_stdout_whatever_the_log_level(log_lines) -> None:
    logger = logging.getLogger("payment_webhooks")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with observe_webhook("stripe", MetricsWriter("prod")) as observed:
            observed.record(Receipt("stripe", [EventReceipt("evt_1", "stripe/pi_1", Outcome.APPLIED)], None))
    finally:
        logger.setLevel(level)
    (line,) = lines(log_lines)
    assert (line["event_id"], line["Webhooks"], line["level"]) == ("evt_1", 1, "info")
