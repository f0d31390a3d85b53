"""The transactions table's item layout, one mapping in each direction.

Key: `pk` = `<provider>#<id>`. Index keys: `merchant_id` / `customer_id` (absent when
unknown, so the indexes stay sparse) with range `created_key` = sortable created time +
`#` + pk, which orders a listing newest first with ties broken by id. The merge
bookkeeping (`frontier*`, `first_event_at`, `src_<fact>`) is flat so that a single
UpdateItem can set it on an item that may not exist yet. `refunds` maps refund id to amount
for providers that report refund by refund (absent when there are none); it is part of the
merge state, so an archived record keeps it and a late refund is still added correctly.

The `archivable` index (archival, contract section 4) is keyed by `archive_shard` with range
`created_key`. Only live items carry `archive_shard`; an archived record never does, so the
index holds exactly what a future archival run may move and an archived record is never
read, let alone archived, again.

`version` is +1 on every write of the item; `risk` (absent until the first assessment) is
the map `score`, `level`, `reasons` [{`rule`, `detail`}], `assessed_at`, written by the risk
assessment with a condition on the version it assessed (docs/api.md section 8). Ingest's
in-order update leaves `risk` alone and read-merge-write carries it over."""
from __future__ import annotations

import hashlib
from typing import Any

from chalicelib.domain.documents import (
    archive_pointer_document, archive_pointer_from_document, event_record_document,
    event_record_from_document, risk_document, risk_from_document,
)
from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import format_iso, parse_iso, sortable
from chalicelib.domain.transaction import MergeState, Transaction

KEY_ATTRIBUTES = ("pk",)
TIME_FIELDS = ("created_at", "updated_at", "last_event_at", "first_event_at")
SOURCE_PREFIX = "src_"
ARCHIVE_SHARD = "archive_shard"
ARCHIVE_SHARDS = 4
"""Partition keys of the `archivable` index: spreads one day's writes over a few index
partitions. May be raised, never lowered (the archival job queries shards 0..N-1)."""


def transaction_pk(provider: str, payment_id: str) -> str:
    return f"{provider}#{payment_id}"


def created_key(created_at_sortable: str, pk: str) -> str:
    return f"{created_at_sortable}#{pk}"


def archive_shard(pk: str) -> str:
    """A stable shard of the transaction key (the same in every process and release)."""
    digest = hashlib.sha256(pk.encode("utf-8")).digest()
    return str(int.from_bytes(digest[:4], "big") % ARCHIVE_SHARDS)


def to_item(txn: Transaction) -> dict[str, Any]:
    pk = transaction_pk(txn.provider, txn.id)
    item: dict[str, Any] = {
        "pk": pk, "provider": txn.provider, "id": txn.id, "status": txn.status.value,
        "amount": txn.amount, "currency": txn.currency, "amount_refunded": txn.amount_refunded,
        "merchant_id": txn.merchant_id, "customer_id": txn.customer_id,
        "payment_method": txn.payment_method, "live": txn.live,
        "created_at": format_iso(txn.created_at), "updated_at": format_iso(txn.updated_at),
        "last_event_at": format_iso(txn.last_event_at),
        "created_key": created_key(sortable(txn.created_at), pk),
        ARCHIVE_SHARD: archive_shard(pk) if txn.archived is None else None,
        "events": [event_record_document(r) for r in txn.events] if txn.archived is None or txn.events else None,
        "refunds": dict(txn.refunds) or None,
        "version": txn.version,
        "risk": risk_document(txn.risk) if txn.risk is not None else None,
        "frontier": txn.merge.frontier, "frontier_status": txn.merge.frontier_status.value,
        "frontier_refund": txn.merge.frontier_refund,
        "first_event_at": format_iso(txn.merge.first_event_at),
    }
    item.update({SOURCE_PREFIX + name: key for name, key in txn.merge.sources.items()})
    if txn.archived is not None:
        item["archived"] = archive_pointer_document(txn.archived)
    return item


def from_item(item: dict[str, Any]) -> Transaction:
    """Validated strictly: an item that does not fit this layout (an amount stored as text,
    say) is an error, never coerced into a guess."""
    sources = {
        name[len(SOURCE_PREFIX):]: value for name, value in item.items()
        if name.startswith(SOURCE_PREFIX)
    }
    archived = item.get("archived")
    return Transaction.model_validate(dict(
        provider=item["provider"], id=item["id"], status=Status(item["status"]),
        amount=item.get("amount"), currency=item.get("currency"),
        amount_refunded=item.get("amount_refunded", 0),
        merchant_id=item.get("merchant_id"), customer_id=item.get("customer_id"),
        payment_method=item.get("payment_method"), live=item.get("live"),
        created_at=parse_iso(item["created_at"]), updated_at=parse_iso(item["updated_at"]),
        last_event_at=parse_iso(item["last_event_at"]),
        events=tuple(event_record_from_document(r) for r in item.get("events", [])),
        refunds=item.get("refunds") or {},
        merge=MergeState(
            frontier=item["frontier"], frontier_status=Status(item["frontier_status"]),
            frontier_refund=item.get("frontier_refund", False),
            first_event_at=parse_iso(item["first_event_at"]), sources=sources,
        ),
        version=item.get("version", 0),
        archived=archive_pointer_from_document(archived) if archived else None,
        risk=risk_from_document(item["risk"]) if item.get("risk") else None,
    ), strict=True)


def encode_value(name: str, value: Any) -> Any:
    """How one domain value is stored under attribute `name` (used by partial updates)."""
    if name in TIME_FIELDS:
        return format_iso(value)
    if isinstance(value, Status):
        return value.value
    return value
