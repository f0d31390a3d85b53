"""CloudWatch metrics as embedded-metric-format (EMF) log lines.

Why EMF: a metric is one JSON log line that CloudWatch Logs turns into metrics
asynchronously, so the hot path makes no PutMetricData call (no latency, no extra IAM
permission, no failure mode). A metric line is an ordinary log line on stdout, as the EMF
spec asks of a Lambda function (so it carries the request's correlation ids as searchable
properties), written whatever the log level, so no level can silence a metric; locally it
is just a log line.

Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.observability.logs import log

NAMESPACE = "PaymentWebhooks"
COUNT, MILLISECONDS = "Count", "Milliseconds"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str = COUNT


@dataclass(frozen=True)
class Directive:
    """Some metrics and the dimension sets (names of root values) to publish them under."""

    metrics: tuple[Metric, ...]
    dimension_sets: tuple[tuple[str, ...], ...]


def emf_document(
    dimensions: Mapping[str, str],
    directives: Sequence[Directive],
    values: Mapping[str, float],
    namespace: str = NAMESPACE,
    timestamp_ms: int | None = None,
    properties: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One EMF document. Every name in a dimension set must be a key of `dimensions`, and
    every declared metric needs a value (CloudWatch drops the whole document otherwise,
    silently). `properties` are extra fields, written first so that they can never
    overwrite a dimension or a metric."""
    metric_names = [metric.name for d in directives for metric in d.metrics]
    missing = {name for d in directives for names in d.dimension_sets for name in names} - set(dimensions)
    missing |= {name for name in metric_names if name not in values}
    if missing:
        raise ValueError(f"undefined dimensions or metric values: {sorted(missing)}")
    document: dict[str, Any] = {**(properties or {}), **dimensions}
    document.update((name, values[name]) for name in metric_names)
    document["_aws"] = {
        "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
        "CloudWatchMetrics": [{
            "Namespace": namespace,
            "Dimensions": [list(names) for names in d.dimension_sets],
            "Metrics": [{"Name": m.name, "Unit": m.unit} for m in d.metrics],
        } for d in directives],
    }
    return document


class MetricsWriter:
    """Writes EMF documents as log lines; `Stage` is always a dimension (every dimension
    set is also by `Stage`), so dev and prod in one account stay apart."""

    def __init__(self, stage: str) -> None:
        self._stage = stage

    def put(self, message: str, level: int, dimensions: Mapping[str, str],
            directives: Sequence[Directive], values: Mapping[str, float], **fields: Any) -> None:
        """`fields` are plain log fields on the same line (EMF keeps them searchable)."""
        staged = [Directive(d.metrics, tuple(("Stage", *names) for names in d.dimension_sets))
                  for d in directives]
        document = emf_document({"Stage": self._stage, **dimensions}, staged, values, properties=fields)
        log(message, level, whatever_the_level=True, **document)
