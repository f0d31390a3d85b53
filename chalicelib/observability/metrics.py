"""CloudWatch metrics as embedded-metric-format (EMF) log lines.

Why EMF: a metric is one JSON log line that CloudWatch Logs turns into metrics
asynchronously, so the hot path makes no PutMetricData call (no latency, no extra IAM
permission, no failure mode). The lines are written to stdout, as the EMF spec asks of a
Lambda function, with the request's correlation ids as searchable properties, and not
through `logging`, so no log level can silence a metric; locally they are just log lines.

Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TextIO

from chalicelib.observability.logs import write_document

NAMESPACE = "PaymentWebhooks"
COUNT, MILLISECONDS = "Count", "Milliseconds"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str = COUNT


@dataclass(frozen=True, eq=False)
class Directive:
    """Some metrics and the dimension sets (names of root values) to publish them under.
    Declared once (a module constant); each line supplies only the values. Compared by
    identity, which makes it a cheap cache key for its declaration."""

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
    declared = _declaration(namespace, tuple(directives))
    missing = [name for name in declared.dimension_names if name not in dimensions]
    missing += [name for name in declared.metric_names if name not in values]
    if missing:
        raise ValueError(f"undefined dimensions or metric values: {sorted(missing)}")
    document: dict[str, Any] = {**(properties or {}), **dimensions}
    document.update((name, values[name]) for name in declared.metric_names)
    document["_aws"] = {
        "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
        "CloudWatchMetrics": declared.metrics,
    }
    return document


@dataclass(frozen=True)
class _Declaration:
    metrics: list[dict[str, Any]]
    dimension_names: tuple[str, ...]
    metric_names: tuple[str, ...]


@lru_cache(maxsize=64)
def _declaration(namespace: str, directives: tuple[Directive, ...]) -> _Declaration:
    """A line's `CloudWatchMetrics` depends only on its directives: built once each."""
    return _Declaration(
        metrics=[{
            "Namespace": namespace,
            "Dimensions": [list(names) for names in d.dimension_sets],
            "Metrics": [{"Name": m.name, "Unit": m.unit} for m in d.metrics],
        } for d in directives],
        dimension_names=tuple(dict.fromkeys(
            name for d in directives for names in d.dimension_sets for name in names)),
        metric_names=tuple(dict.fromkeys(m.name for d in directives for m in d.metrics)),
    )


class MetricsWriter:
    """Writes EMF documents as log lines on `stream` (stdout when None); `Stage` is always
    a dimension, so dev and prod in one account stay apart."""

    def __init__(self, stage: str, stream: TextIO | None = None) -> None:
        self._stage = stage
        self._stream = stream

    def put(self, dimensions: Mapping[str, str], directives: Sequence[Directive],
            values: Mapping[str, float], **properties: Any) -> None:
        """`properties` are plain log fields on the same line (EMF keeps them searchable)."""
        write_document(emf_document({"Stage": self._stage, **dimensions}, _staged(tuple(directives)),
                                    values, properties=properties), self._stream)

    def log(self, **properties: Any) -> None:
        """A line with no metrics, in the same stream as the metric lines it goes with."""
        write_document(properties, self._stream)


@lru_cache(maxsize=64)
def _staged(directives: tuple[Directive, ...]) -> tuple[Directive, ...]:
    """Every dimension set also by `Stage`."""
    return tuple(Directive(d.metrics, tuple(("Stage", *names) for names in d.dimension_sets))
                 for d in directives)
