"""CloudWatch metrics as embedded-metric-format (EMF) log lines.

Why EMF: a metric is one JSON log line that CloudWatch Logs turns into metrics
asynchronously, so the hot path makes no PutMetricData call (no latency, no extra IAM
permission, no failure mode). The lines go through the app's logger (so they carry the
request's correlation ids as searchable properties, and are silenced with it); locally
they are just log lines.

Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.observability.logs import emit_document

NAMESPACE = "PaymentWebhooks"
COUNT, MILLISECONDS = "Count", "Milliseconds"


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str = COUNT


@dataclass(frozen=True)
class Directive:
    """Some metrics and the dimension sets (names of root values) to publish them under."""

    metrics: Sequence[Metric]
    dimension_sets: Sequence[Sequence[str]]


def emf_document(
    dimensions: Mapping[str, str],
    directives: Sequence[Directive],
    namespace: str = NAMESPACE,
    timestamp_ms: int | None = None,
    properties: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One EMF document. Every name in a dimension set must be a key of `dimensions`
    (CloudWatch drops the whole document otherwise, silently). `properties` are extra
    fields, written first so that they can never overwrite a dimension or a metric."""
    named = {name for d in directives for names in d.dimension_sets for name in names}
    missing = named - set(dimensions)
    if missing:
        raise ValueError(f"dimension sets name undefined dimensions: {sorted(missing)}")
    document: dict[str, Any] = {**(properties or {}), **dimensions}
    for directive in directives:
        document.update({m.name: m.value for m in directive.metrics})
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
    """Writes EMF documents as log lines; `Stage` is always a dimension, so dev and prod
    in one account stay apart."""

    def __init__(self, stage: str) -> None:
        self._stage = stage

    def put(self, dimensions: Mapping[str, str], directives: Sequence[Directive], **properties: Any) -> None:
        """`properties` are plain log fields on the same line (EMF keeps them searchable)."""
        staged = [Directive(d.metrics, [("Stage", *names) for names in d.dimension_sets]) for d in directives]
        emit_document(emf_document({"Stage": self._stage, **dimensions}, staged, properties=properties))
