"""The change feed (docs/api.md section 7): each business change of a transaction, as the
transactions stream reports it, published once to the EventBridge bus.

A second consumer of the stream beside analytics, in its own Lambda function, so a slow bus
never delays the figures. Per batch: classify every change (`domain.feed`), put the events
in stream order, and report the first one the bus would not take. Lambda then delivers
that record and every later one again (they are retried in order, however many of them the
bus took), up to the mapping's retry limit, after which the records go to the on-failure
queue. What the feed promises follows from that: at least once, never out of the stream's
order for one transaction on the first delivery, and a redelivered record publishes the
same `detail.id`, which consumers dedupe on. A duplicate or stale webhook, an archival or a
risk write that leaves the level where it was changes no business state, so it publishes
nothing."""
from __future__ import annotations

import logging

from chalicelib.domain.feed import feed_event
from chalicelib.observability.logs import log
from chalicelib.services.ports import ChangeFeed
from chalicelib.storage.transaction_stream import StreamBatch


class FeedPublisher:
    def __init__(self, bus: ChangeFeed) -> None:
        self._bus = bus

    def publish(self, batch: StreamBatch) -> list[str]:
        """Publish a batch's business changes; answer the sequence number to retry from
        (none when every event is on the bus)."""
        events = [event for event in map(feed_event, batch.changes) if event is not None]
        if not events:
            return []
        put = self._bus.put(events)
        if put == len(events):
            return []
        first = events[put]
        log("change feed event not published", logging.ERROR, lane=batch.lane,
            sequence_number=first.sequence, event=first.id, unpublished=len(events) - put)
        return [first.sequence]
