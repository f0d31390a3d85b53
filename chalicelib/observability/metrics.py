"""CloudWatch metrics as embedded-metric-format (EMF) log lines.

Why EMF: a metric is one JSON line on stdout that CloudWatch Logs turns into a metric
asynchronously, so the hot path makes no PutMetricData call (no latency, no extra IAM
permission, no failure mode). Locally the lines are just logs.

Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

NAMESPACE = "PaymentWebhooks"
COUNT, MILLISECONDS = "Count", "Milliseconds"


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str = COUNT


def emf_line(
    metrics: Sequence[Metric],
    dimensions: Mapping[str, str],
    dimension_sets: Sequence[Sequence[str]],
    properties: Mapping[str, Any] | None = None,
    namespace: str = NAMESPACE,
    timestamp_ms: int | None = None,
) -> dict[str, Any]:
    """One EMF document. Every name in `dimension_sets` must be a key of `dimensions`
    (CloudWatch drops the whole document otherwise, silently)."""
    missing = {name for names in dimension_sets for name in names} - set(dimensions)
    if missing:
        raise ValueError(f"dimension sets name undefined dimensions: {sorted(missing)}")
    document: dict[str, Any] = dict(properties or {})
    document.update(dimensions)
    document.update({m.name: m.value for m in metrics})
    document["_aws"] = {
        "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
        "CloudWatchMetrics": [{
            "Namespace": namespace,
            "Dimensions": [list(names) for names in dimension_sets],
            "Metrics": [{"Name": m.name, "Unit": m.unit} for m in metrics],
        }],
    }
    return document


class MetricsWriter:
    """Writes EMF documents, one line each, to a stream (stdout in Lambda)."""

    def __init__(self, stage: str, stream: Callable[[], IO[str]] = lambda: sys.stdout) -> None:
        self._stage = stage
        self._stream = stream

    def put(
        self,
        metrics: Sequence[Metric],
        dimensions: Mapping[str, str],
        dimension_sets: Sequence[Sequence[str]],
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        """`Stage` is always a dimension, so dev and prod in one account stay apart."""
        document = emf_line(
            metrics, {"Stage": self._stage, **dimensions},
            [("Stage", *names) for names in dimension_sets], properties,
        )
        stream = self._stream()
        stream.write(json.dumps(document, separators=(",", ":"), default=str) + "\n")
        stream.flush()
