"""The risk consumer's edge: feed events from its SQS queue in, a partial batch answer out.

The queue is fed by an EventBridge rule on the change feed (docs/api.md section 7), so
each message body is one feed event. Only *which* transaction changed is read from it:
the service reads the transaction itself. An event whose cause is not a provider event
(`cause` null: a change the risk consumer itself made, a rise of the level) is skipped,
so a risk write never leads to another assessment (docs/risk.md, "No loops").

Lambda retries only the messages this answers as failed (ReportBatchItemFailures on the
mapping): a message that cannot be read, or whose assessment could not be stored, comes
back until the queue's redrive policy moves it to the dead-letter queue (and its alarm)."""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib import wiring
from chalicelib.errors import StorageUnavailable
from chalicelib.observability.logs import log

RISK_CAUSED = "payment.risk_flagged"


class UnreadableNotice(ValueError):
    """A message that is not a feed event naming a transaction."""


@dataclass(frozen=True)
class ChangeNotice:
    provider: str
    payment_id: str
    version: int
    caused_by_event: bool


def read_notice(body: str) -> ChangeNotice:
    try:
        event = json.loads(body)
        detail = event["detail"]
        transaction = detail["transaction"]
        provider, payment_id, version = transaction["provider"], transaction["id"], detail["version"]
        cause = detail.get("cause")
    except (ValueError, TypeError, KeyError) as exc:
        raise UnreadableNotice(f"not a feed event ({type(exc).__name__})") from None
    if not (isinstance(provider, str) and isinstance(payment_id, str) and type(version) is int):
        raise UnreadableNotice("the feed event names no transaction")
    caused = isinstance(cause, Mapping) and bool(cause.get("event_id")) and event.get("detail-type") != RISK_CAUSED
    return ChangeNotice(provider, payment_id, version, caused)


def assess_batch(event: Mapping[str, Any]) -> dict[str, Any]:
    """Each message's transaction assessed; answers the ids of the messages to retry."""
    failed: list[str] = []
    for record in event.get("Records", []):
        message_id = record["messageId"]
        try:
            notice = read_notice(record["body"])
        except UnreadableNotice as exc:
            log("risk notice unreadable", logging.ERROR, message_id=message_id, reason=str(exc))
            failed.append(message_id)
            continue
        if not notice.caused_by_event:
            continue
        try:
            assessment = wiring.risk_service().assess(notice.provider, notice.payment_id)
        except StorageUnavailable as exc:
            log("risk assessment failed", logging.WARNING, message_id=message_id,
                transaction=f"{notice.provider}/{notice.payment_id}", reason=str(exc))
            failed.append(message_id)
            continue
        log("risk assessed", transaction=f"{notice.provider}/{notice.payment_id}",
            version=notice.version, outcome=assessment.outcome.value,
            risk_level=assessment.risk.level.value if assessment.risk else None)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
