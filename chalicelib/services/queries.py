"""Reading the record: one transaction, a merchant's or customer's transactions, one event."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import sortable
from chalicelib.domain.transaction import Transaction
from chalicelib.errors import NotFound
from chalicelib.services.cursor import CursorCodec
from chalicelib.services.ports import EventReader, TransactionReader
from chalicelib.storage.events import StoredEvent

EARLIEST = "0000"
LATEST = "9999"


@dataclass(frozen=True)
class TransactionQuery:
    merchant_id: str | None
    customer_id: str | None
    status: Status | None
    created_from: datetime | None
    created_to: datetime | None
    limit: int
    cursor: str | None

    def identity(self) -> dict[str, object]:
        """What a cursor is bound to: everything but the cursor and the page size."""
        return {
            "merchant_id": self.merchant_id, "customer_id": self.customer_id,
            "status": self.status.value if self.status else None,
            "from": self.created_from, "to": self.created_to,
        }


@dataclass(frozen=True)
class TransactionList:
    items: list[Transaction]
    next_cursor: str | None


class QueryService:
    def __init__(
        self, transactions: TransactionReader, events: EventReader, cursors: CursorCodec,
    ) -> None:
        self._transactions = transactions
        self._events = events
        self._cursors = cursors

    def transaction(self, provider: str, payment_id: str) -> Transaction:
        found = self._transactions.get(provider, payment_id)
        if found is None:
            raise NotFound(f"no transaction {provider}/{payment_id}")
        return found

    def event(self, provider: str, event_id: str) -> StoredEvent:
        found = self._events.get(provider, event_id)
        if found is None:
            raise NotFound(f"no event {provider}/{event_id}")
        return found

    def transactions(self, query: TransactionQuery) -> TransactionList:
        owner_field, owner_id = (
            ("merchant_id", query.merchant_id) if query.merchant_id is not None
            else ("customer_id", query.customer_id)
        )
        start_key = (
            self._cursors.decode(query.cursor, query.identity()) if query.cursor else None
        )
        page = self._transactions.list_by(
            owner_field=owner_field, owner_id=owner_id or "",
            created_from=sortable(query.created_from) if query.created_from else EARLIEST,
            created_to=sortable(query.created_to) if query.created_to else LATEST,
            status=query.status, customer_id=query.customer_id, limit=query.limit,
            start_key=start_key,
        )
        next_cursor = (
            self._cursors.encode(page.last_key, query.identity()) if page.last_key else None
        )
        return TransactionList(page.items, next_cursor)
