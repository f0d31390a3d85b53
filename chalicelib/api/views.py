"""JSON shapes of the contract, built from domain objects."""
from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.domain.documents import transaction_document
from chalicelib.domain.timestamps import format_iso
from chalicelib.domain.transaction import Transaction
from chalicelib.services.ingest import Receipt
from chalicelib.services.queries import TransactionList
from chalicelib.services.replay import ReplayResult
from chalicelib.storage.events import StoredEvent


def receipt(result: Receipt) -> dict[str, Any] | Response:
    """The contract's JSON receipt, or the provider's own plain-text acknowledgement (Adyen
    retries a notification until it reads `[accepted]`)."""
    if result.acknowledgement is not None:
        return Response(body=result.acknowledgement, status_code=200,
                        headers={"Content-Type": "text/plain"})
    return {
        "received": len(result.events),
        "events": [
            {"event_id": e.event_id, "transaction": e.transaction, "outcome": e.outcome.value}
            for e in result.events
        ],
    }


def transaction(txn: Transaction) -> dict[str, Any]:
    return transaction_document(txn)


def transaction_list(result: TransactionList) -> dict[str, Any]:
    return {
        "items": [transaction_document(txn, with_events=False) for txn in result.items],
        "next_cursor": result.next_cursor,
    }


def event(stored: StoredEvent) -> dict[str, Any]:
    return {
        "provider": stored.provider, "event_id": stored.event_id, "type": stored.type,
        "occurred_at": format_iso(stored.occurred_at),
        "received_at": format_iso(stored.received_at), "outcome": stored.outcome.value,
        "transaction": stored.transaction,
    }


def replay(result: ReplayResult) -> dict[str, Any]:
    return {"event_id": result.event_id, "outcome": result.outcome.value}
