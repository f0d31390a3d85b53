"""What one webhook request reports: a log line per event, and EMF metrics.

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
from typing import TYPE_CHECKING

from chalicelib.errors import ServiceError, SignatureError, UnknownProvider
from chalicelib.observability.logs import log
from chalicelib.observability.metrics import MILLISECONDS, Directive, Metric, MetricsWriter

if TYPE_CHECKING:
    from chalicelib.services.ingest import Receipt


class WebhookObservation:
    """Collects one request's outcomes; `observe_webhook` reports them."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.outcomes: Counter[str] = Counter()

    def record(self, receipt: "Receipt") -> "Receipt":
        for event in receipt.events:
            self.outcomes[event.outcome.value] += 1
            log("webhook event stored", provider=self.provider, event_id=event.event_id,
                transaction=event.transaction, outcome=event.outcome.value)
        return receipt


@contextmanager
def observe_webhook(
    provider: str, metrics: MetricsWriter, clock: Callable[[], float] = time.perf_counter,
) -> Iterator[WebhookObservation]:
    started = clock()
    observation = WebhookObservation(provider)
    signature_failed = False
    try:
        yield observation
    except ServiceError as exc:
        if isinstance(exc, UnknownProvider):
            observation.provider = "unknown"
        signature_failed = isinstance(exc, SignatureError)
        observation.outcomes[exc.code] += 1
        log("webhook rejected", logging.WARNING, provider=observation.provider,
            error=exc.code, status=exc.status)
        raise
    except Exception:
        observation.outcomes["internal_error"] += 1
        raise
    finally:
        _report(metrics, observation, signature_failed, (clock() - started) * 1000.0)


def _report(metrics: MetricsWriter, observation: WebhookObservation, signature_failed: bool,
            latency_ms: float) -> None:
    """One line per request in the usual case (a single outcome): the timing directive
    and the first outcome's count share a document; other outcomes get a line each."""
    outcomes = sorted(observation.outcomes.items())
    timing = Directive([Metric("WebhookLatency", round(latency_ms, 3), MILLISECONDS),
                        Metric("SignatureFailures", 1 if signature_failed else 0)], [("Provider",), ()])
    if not outcomes:  # a request that stored no events
        metrics.put({"Provider": observation.provider}, [timing])
    for index, (outcome, count) in enumerate(outcomes):
        counted = Directive([Metric("Webhooks", count)], [("Provider", "Outcome")])
        metrics.put({"Provider": observation.provider, "Outcome": outcome},
                    [timing, counted] if index == 0 else [counted])
