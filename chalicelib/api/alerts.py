"""Payment alerts at the edges (docs/api.md section 9): the alerts queue's Lambda event in,
GET /admin/alerts out."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib import wiring
from chalicelib.domain.timestamps import format_iso
from chalicelib.services.alerts import FeedMessage
from chalicelib.storage.alerts import StoredAlert


def send(event: Mapping[str, Any]) -> dict[str, Any]:
    """One SQS batch of feed events; the messages to retry go back to Lambda (the mapping
    reports batch item failures), the rest are deleted."""
    messages = [FeedMessage(record["messageId"], record.get("body") or "") for record in event.get("Records", [])]
    failed = wiring.payment_alert_service().from_feed_messages(messages)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


def recent_view(alerts: list[StoredAlert]) -> dict[str, Any]:
    return {"items": [
        {"kind": a.kind, "key": a.key, "summary": a.summary, "at": format_iso(a.at), "transaction": a.transaction}
        for a in alerts
    ]}
