"""A record of another system of record as an event of ours, for the backfill
(docs/api.md section 10).

Its id, `legacy:<provider>:<id>:<status>`, is fixed by the record, so applying the same
record again is a `duplicate`; it is timed at the record's `updated_at` (else its
`created_at`), so a provider's webhook about a later moment still wins the merge, as any
newer event does. The event's raw bytes are the record itself as JSON, which
`parse_legacy_event` reads back, so a stored legacy event can be replayed like any other."""
from __future__ import annotations

import json

from chalicelib.domain.events import CanonicalEvent, ParsedEvent, PaymentFacts
from chalicelib.domain.ledger_export import LedgerRecord, ledger_record
from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import format_iso

LEGACY_PREFIX = "legacy:"
TYPE_PREFIX = "legacy."
_REFUND_STATUSES = (Status.REFUNDED, Status.PARTIALLY_REFUNDED)


def legacy_event_id(record: LedgerRecord) -> str:
    return f"{LEGACY_PREFIX}{record.provider}:{record.id}:{record.status.value}"


def is_legacy_event(event_id: str) -> bool:
    return event_id.startswith(LEGACY_PREFIX)


def legacy_event(record: LedgerRecord) -> ParsedEvent:
    document = {"provider": record.provider, "id": record.id, "amount": record.amount,
                "currency": record.currency, "status": record.status.value,
                "created_at": format_iso(record.created_at)}
    for name in ("amount_refunded", "merchant_id", "customer_id"):
        if getattr(record, name) is not None:
            document[name] = getattr(record, name)
    if record.updated_at is not None:
        document["updated_at"] = format_iso(record.updated_at)
    return ParsedEvent(_event(record), json.dumps(document, sort_keys=True).encode())


def parse_legacy_event(raw: bytes, provider: str) -> CanonicalEvent:
    """A stored legacy event read back (replay)."""
    return _event(ledger_record(json.loads(raw), 1, {provider}, text_fields=False))


def _event(record: LedgerRecord) -> CanonicalEvent:
    refunded = record.amount_refunded if record.status in _REFUND_STATUSES else None
    return CanonicalEvent(
        provider=record.provider, event_id=legacy_event_id(record),
        type=TYPE_PREFIX + record.status.value, occurred_at=record.updated_at or record.created_at,
        payment_id=record.id, status=record.status,
        facts=PaymentFacts(
            amount=record.amount, currency=record.currency, amount_refunded=refunded,
            merchant_id=record.merchant_id, customer_id=record.customer_id,
            created_at=record.created_at,
        ),
    )
