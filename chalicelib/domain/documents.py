"""The canonical transaction and its event records as JSON documents (contract section 2).

One mapping for three readers that must agree: `GET /transactions/...` answers these
documents, an archive line is exactly the transaction document (contract section 4), and
the transactions item lists its events in the event record document's form. Writing the
mapping once is what keeps an archived line, a stored item and an API answer the same."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.events import Outcome
from chalicelib.domain.risk_assessment import RiskAssessment, RiskLevel, RiskReason
from chalicelib.domain.timestamps import format_iso, parse_iso
from chalicelib.domain.transaction import ArchivePointer, EventRecord, Transaction


def event_record_document(record: EventRecord) -> dict[str, Any]:
    return {
        "event_id": record.event_id, "type": record.type,
        "occurred_at": format_iso(record.occurred_at),
        "received_at": format_iso(record.received_at), "outcome": record.outcome.value,
    }


def event_record_from_document(document: dict[str, Any]) -> EventRecord:
    return EventRecord(
        event_id=document["event_id"], type=document["type"],
        occurred_at=parse_iso(document["occurred_at"]),
        received_at=parse_iso(document["received_at"]), outcome=Outcome(document["outcome"]),
    )


def transaction_document(txn: Transaction, with_events: bool = True) -> dict[str, Any]:
    """Key order is part of the document: an archive line is compared byte for byte."""
    document: dict[str, Any] = {
        "provider": txn.provider, "id": txn.id, "status": txn.status.value,
        "amount": txn.amount, "currency": txn.currency, "amount_refunded": txn.amount_refunded,
        "merchant_id": txn.merchant_id, "customer_id": txn.customer_id,
        "payment_method": txn.payment_method, "live": txn.live,
        "created_at": format_iso(txn.created_at), "updated_at": format_iso(txn.updated_at),
        "last_event_at": format_iso(txn.last_event_at),
    }
    if with_events:
        document["events"] = [event_record_document(record) for record in txn.events]
    if txn.archived is not None:
        document["archived"] = archive_pointer_document(txn.archived)
    return document


def archive_pointer_document(pointer: ArchivePointer) -> dict[str, Any]:
    return {"at": format_iso(pointer.at), "object": pointer.object}


def archive_pointer_from_document(document: dict[str, Any]) -> ArchivePointer:
    return ArchivePointer(at=parse_iso(document["at"]), object=document["object"])


def risk_document(assessment: RiskAssessment) -> dict[str, Any]:
    """Section 8's `risk` object; the transactions item stores the same map as `risk`."""
    return {
        "score": assessment.score, "level": assessment.level.value,
        "reasons": [{"rule": r.rule, "detail": r.detail} for r in assessment.reasons],
        "assessed_at": format_iso(assessment.assessed_at),
    }


def risk_from_document(document: dict[str, Any]) -> RiskAssessment:
    return RiskAssessment(
        score=document["score"], level=RiskLevel(document["level"]),
        reasons=tuple(RiskReason(rule=r["rule"], detail=r["detail"]) for r in document["reasons"]),
        assessed_at=parse_iso(document["assessed_at"]),
    )
