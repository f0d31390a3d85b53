"""EMF lines: what CloudWatch needs to turn a log line into metrics, and what a webhook reports."""
from __future__ import annotations

import io
import json

import pytest

from chalicelib.domain.events import Outcome
from chalicelib.errors import SignatureError, StorageUnavailable, UnknownProvider
from chalicelib.observability.metrics import Metric, MetricsWriter, emf_line
from chalicelib.observability.webhooks import observe_webhook
from chalicelib.services.ingest import EventReceipt, Receipt


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_an_emf_document_declares_its_metrics_and_carries_their_values() -> None:
    doc = emf_line([Metric("Webhooks", 2)], {"Stage": "prod", "Provider": "stripe"}, [("Stage", "Provider")],
                   {"request_id": "r-1"}, timestamp_ms=1700000000000)
    assert doc == {
        "request_id": "r-1", "Stage": "prod", "Provider": "stripe", "Webhooks": 2,
        "_aws": {"Timestamp": 1700000000000, "CloudWatchMetrics": [{
            "Namespace": "PaymentWebhooks", "Dimensions": [["Stage", "Provider"]],
            "Metrics": [{"Name": "Webhooks", "Unit": "Count"}]}]},
    }


def test_a_dimension_set_naming_an_undefined_dimension_is_a_bug() -> None:
    with pytest.raises(ValueError):
        emf_line([Metric("Webhooks", 1)], {"Stage": "prod"}, [("Stage", "Provider")])


def test_a_stored_webhook_counts_each_outcome_and_reports_latency() -> None:
    stream = io.StringIO()
    ticks = iter([10.0, 10.25])
    with observe_webhook("stripe", MetricsWriter("prod", lambda: stream), clock=lambda: next(ticks)) as observed:
        observed.record(Receipt("stripe", [EventReceipt("e1", "stripe/p", Outcome.APPLIED),
                                           EventReceipt("e2", "stripe/p", Outcome.APPLIED),
                                           EventReceipt("e3", None, Outcome.IGNORED)]))
    timing, *outcomes = lines(stream)
    assert (timing["WebhookLatency"], timing["SignatureFailures"], timing["Provider"]) == (250.0, 0, "stripe")
    assert timing["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Stage", "Provider"], ["Stage"]]
    assert {(o["Outcome"], o["Webhooks"]) for o in outcomes} == {("applied", 2), ("ignored", 1)}
    assert all(o["Stage"] == "prod" for o in outcomes)


@pytest.mark.parametrize("error, provider, outcome, signature_failures", [
    (SignatureError("bad"), "stripe", "invalid_signature", 1),
    (StorageUnavailable("down"), "stripe", "unavailable", 0),
    (UnknownProvider("no"), "unknown", "unknown_provider", 0),
])
def test_a_rejected_webhook_counts_its_error_code(error, provider, outcome, signature_failures) -> None:
    stream = io.StringIO()
    with pytest.raises(type(error)):
        with observe_webhook("stripe" if provider != "unknown" else "attacker-chosen-123",
                             MetricsWriter("dev", lambda: stream)):
            raise error
    timing, counted = lines(stream)
    assert (timing["Provider"], timing["SignatureFailures"]) == (provider, signature_failures)
    assert (counted["Provider"], counted["Outcome"], counted["Webhooks"]) == (provider, outcome, 1)
