"""Raising payment alerts (docs/api.md section 9): each incident sent once, none lost.

Delivery: the incident is first recorded `pending` by a conditional write per (kind, key),
then published to SNS, then marked `sent`. A crash or an SNS failure between the write and
the mark leaves it `pending`; the caller's retry (SQS redelivers a failed message; a
scheduled check runs again) finds the pending record and publishes its stored message
again. So SNS gets each incident at least once, and exactly once unless a failure fell
between the publish and the mark, or two retries of the same incident raced; a record
already `sent` is never published again, however often its events are redelivered or
replayed. Subscribers that must not see a duplicate dedupe on `kind` + `key`.

The order (record, then publish) is what makes the alert durable: publishing first and
recording after could send an alert that no record remembers, or, the other way round,
record one that was never sent with nothing to notice it."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.alerts import PaymentAlert, alerts_for_feed_event, message_attributes, message_body
from chalicelib.observability.logs import log
from chalicelib.services.ports import AlertLog, AlertPublisher
from chalicelib.storage.alerts import SENT, StoredAlert


@dataclass(frozen=True)
class FeedMessage:
    """One SQS message of the alerts queue: an EventBridge event of the change feed."""

    message_id: str
    body: str


class PaymentAlertService:
    def __init__(self, log_: AlertLog, topic: AlertPublisher, clock: Callable[[], datetime]) -> None:
        self._log = log_
        self._topic = topic
        self._clock = clock

    def raise_alert(self, alert: PaymentAlert) -> bool:
        message = json.dumps(message_body(alert), separators=(",", ":"))
        attributes = message_attributes(alert)
        if not self._log.put_pending(alert, message, attributes):
            stored = self._log.get(alert.kind, alert.key)
            if stored is None or stored.state == SENT:
                return False
            message, attributes = stored.message, stored.attributes  # recovering a crash: same message
        self._topic.publish(message, attributes)
        self._log.mark_sent(alert.kind, alert.key, self._clock())
        log("payment alert sent", kind=alert.kind, key=alert.key)
        return True

    def from_feed_event(self, detail_type: str, detail: Mapping[str, Any]) -> list[bool]:
        """Raise what one change-feed event calls for; one answer per alert raised."""
        return [self.raise_alert(alert)
                for alert in alerts_for_feed_event(detail_type, detail, self._clock())]

    def from_feed_messages(self, messages: Iterable[FeedMessage]) -> list[str]:
        """Each message's alerts; answer the ids of the messages to retry (storage or SNS
        failed for them). A message that is not a feed event can never succeed: it is
        logged and dropped rather than retried into the dead-letter queue."""
        failed = []
        for message in messages:
            try:
                event = json.loads(message.body)
                detail_type, detail = event["detail-type"], event["detail"]
                if not isinstance(detail, Mapping):
                    raise TypeError("detail is not an object")
            except (ValueError, KeyError, TypeError) as exc:
                log("alerts queue message is not a feed event", logging.ERROR,
                    message_id=message.message_id, problem=type(exc).__name__)
                continue
            try:
                self.from_feed_event(str(detail_type), detail)
            except Exception as exc:  # noqa: BLE001 - retried by SQS; its record stays pending
                log("payment alert not sent", logging.WARNING, message_id=message.message_id,
                    problem=f"{type(exc).__name__}: {exc}")
                failed.append(message.message_id)
        return failed

    def recent(self, limit: int) -> list[StoredAlert]:
        return self._log.recent(limit)
