"""Consumers of transaction changes, each one function registered under the name of the
Lambda function that runs it (its `@app.on_dynamodb_record` handler in app.py).

Every consumer is its own Lambda function with its own event source mapping on the
transactions stream, so a slow or failing consumer never holds another back: it answers
only its own failed records, and Lambda retries those for it alone. The stream records are
read into `TransactionChange`s once per invocation (`storage.transaction_stream`); a
record that cannot be read is reported failed to whichever consumer got it (retrying will
not help, so after the mapping's retries it lands in the on-failure queue).

A consumer takes one batch and answers the sequence numbers it failed on; Lambda redelivers
from the earliest of them, so a consumer must take a redelivered change in its stride
(analytics keeps marks; the feed publisher names each event by transaction and version,
which consumers dedupe on).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from chalicelib import wiring
from chalicelib.observability.logs import log
from chalicelib.storage.transaction_stream import StreamBatch, read_batch

Consumer = Callable[[StreamBatch], Iterable[str]]
CONSUMERS: dict[str, Consumer] = {}


def consumer(name: str) -> Callable[[Consumer], Consumer]:
    """Register the decorated function as the consumer run by Lambda function `name`."""
    def register(function: Consumer) -> Consumer:
        if name in CONSUMERS:
            raise ValueError(f"a stream consumer named {name!r} is registered already")
        CONSUMERS[name] = function
        return function
    return register


def deliver(name: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """Read a Lambda stream event once and hand it to consumer `name`; answer Lambda."""
    batch = read_batch(event)
    for sequence_number in batch.unreadable:
        log("stream record unreadable", logging.ERROR, consumer=name, lane=batch.lane,
            sequence_number=sequence_number)
    failed = set(batch.unreadable) | set(CONSUMERS[name](batch))
    return stream_response(sorted(failed, key=lambda s: s.zfill(64)), batch.windowed)


def stream_response(failed: list[str], windowed: bool) -> dict[str, Any]:
    """What a stream handler returns: the failed records (Lambda retries from the earliest
    once the mapping reports batch item failures), and in a tumbling-window event an empty
    `state`, without which Lambda counts the invocation as failed."""
    response: dict[str, Any] = {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}
    if windowed:
        response["state"] = {}
    return response


@consumer("update_daily_analytics")
def daily_analytics(batch: StreamBatch) -> list[str]:
    """The daily figures, each change applied exactly once (services/analytics.py)."""
    return wiring.analytics_service().apply(batch)


@consumer("publish_payment_changes")
def payment_changes(batch: StreamBatch) -> list[str]:
    """Business changes to the change feed's bus (services/feed.py, docs/api.md section 7)."""
    return wiring.feed_publisher().publish(batch)
