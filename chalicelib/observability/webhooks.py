"""What one webhook request reports: one JSON line per event, which is also its EMF metrics.

Each stored event gets one line (`webhook event stored`: provider, event id, transaction,
outcome, and the request's correlation ids); a refused request gets one line (`webhook
rejected`: its error code and status). The request's metrics ride on those same lines as
EMF (the first line carries the timing, the first line of each outcome its count), so a
webhook costs one line, not a log line plus a metrics line, and the metrics can be traced
back to their event in Logs Insights.

Metrics (namespace `PaymentWebhooks`, every one also by `Stage`):
- `Webhooks` (Count) by `Provider` and `Outcome`: per event its outcome (`applied`,
  `duplicate`, `stale`, `ignored`); per rejected request its error code
  (`invalid_signature`, `invalid_payload`, `unavailable`, ...).
- `SignatureFailures` (Count) by `Provider`, and in total: 1 for a request refused with
  `invalid_signature`, else 0 (so its Average is the failure rate).
- `WebhookLatency` (Milliseconds) by `Provider`, and in total: time in the handler.

A path naming no known provider is counted under `Provider=unknown`: the path is
caller-chosen, and each new dimension value would be a new billed custom metric."""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chalicelib.errors import ServiceError, SignatureError, UnknownProvider
from chalicelib.observability.logs import log
from chalicelib.observability.metrics import MILLISECONDS, Directive, Metric, MetricsWriter

if TYPE_CHECKING:
    from chalicelib.services.ingest import EventReceipt, Receipt


class WebhookObservation:
    """Collects what one request did; `observe_webhook` reports it."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.events: list[EventReceipt] = []

    def record(self, receipt: "Receipt") -> "Receipt":
        self.events.extend(receipt.events)
        return receipt


TIMING = Directive((Metric("WebhookLatency", MILLISECONDS), Metric("SignatureFailures")),
                   (("Provider",), ()))
COUNTED = Directive((Metric("Webhooks"),), (("Provider", "Outcome"),))


@contextmanager
def observe_webhook(
    provider: str, metrics: MetricsWriter, clock: Callable[[], float] = time.perf_counter,
) -> Iterator[WebhookObservation]:
    started = clock()
    observation = WebhookObservation(provider)
    latency_ms = lambda: round((clock() - started) * 1000.0, 3)  # noqa: E731
    try:
        yield observation
    except ServiceError as exc:
        if isinstance(exc, UnknownProvider):
            observation.provider = "unknown"
        _report_rejection(metrics, observation.provider, exc, latency_ms())
        raise
    except Exception:
        _report_failure(metrics, observation.provider, latency_ms())
        raise
    _report_events(metrics, observation, latency_ms())


def _report_events(metrics: MetricsWriter, observation: WebhookObservation, latency_ms: float) -> None:
    provider = observation.provider
    timing = {"WebhookLatency": latency_ms, "SignatureFailures": 0}
    if not observation.events:  # a delivery that carried no events
        metrics.put("webhook stored no events", logging.INFO, {"Provider": provider}, (TIMING,), timing,
                    provider=provider)
        return
    counts = Counter(event.outcome.value for event in observation.events)
    for index, event in enumerate(observation.events):
        outcome = event.outcome.value
        fields: dict[str, Any] = dict(provider=provider, event_id=event.event_id,
                                      transaction=event.transaction, outcome=outcome)
        if outcome in counts:  # the first line of its outcome; the very first also times
            metrics.put("webhook event stored", logging.INFO, {"Provider": provider, "Outcome": outcome},
                        (TIMING, COUNTED) if index == 0 else (COUNTED,),
                        {**timing, "Webhooks": counts.pop(outcome)}, **fields)
        else:
            log("webhook event stored", **fields)


def _report_rejection(metrics: MetricsWriter, provider: str, error: ServiceError, latency_ms: float) -> None:
    values = {"WebhookLatency": latency_ms, "SignatureFailures": int(isinstance(error, SignatureError)),
              "Webhooks": 1}
    metrics.put("webhook rejected", logging.WARNING, {"Provider": provider, "Outcome": error.code},
                (TIMING, COUNTED), values, provider=provider, error=error.code, status=error.status)


def _report_failure(metrics: MetricsWriter, provider: str, latency_ms: float) -> None:
    """An unexpected error: the handler's error reporting logs the exception itself."""
    metrics.put("webhook failed", logging.ERROR, {"Provider": provider, "Outcome": "internal_error"},
                (TIMING, COUNTED), {"WebhookLatency": latency_ms, "SignatureFailures": 0, "Webhooks": 1},
                provider=provider)
