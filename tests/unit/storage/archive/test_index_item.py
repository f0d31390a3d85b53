"""The archivable index key in the item layout. Pure."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.domain.events import CanonicalEvent, PaymentFacts
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import ArchivePointer, merge_event
from chalicelib.storage.transaction_items import (
    ARCHIVE_SHARD, ARCHIVE_SHARDS, archive_shard, from_item, to_item,
)

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)


def transaction(created_at: datetime = T0):
    event = CanonicalEvent(provider="stripe", event_id="e1", type="payment_intent.succeeded",
                           occurred_at=T0, payment_id="pi_1", status=Status.SUCCEEDED,
                           facts=PaymentFacts(amount=500, currency="USD", created_at=created_at))
    return merge_event(None, event, T0).transaction


def test_a_live_transaction_carries_its_shard_and_sorts_by_creation_time() -> None:
    item = to_item(transaction())
    assert item[ARCHIVE_SHARD] == archive_shard("stripe#pi_1")
    assert item["created_key"] == "2026-01-10T12:00:00.000000Z#stripe#pi_1"
    assert to_item(transaction(T0 - timedelta(days=2)))["created_key"].startswith("2026-01-08")


def test_an_archived_record_has_no_index_key_and_no_events() -> None:
    archived = transaction().model_copy(update={
        "archived": ArchivePointer(at=T0, object="s3://b/k"), "events": ()})
    item = to_item(archived)
    assert item[ARCHIVE_SHARD] is None and item["events"] is None
    assert from_item({k: v for k, v in item.items() if v is not None}).archived == archived.archived


def test_shards_are_stable_and_spread_over_the_configured_count() -> None:
    shards = {archive_shard(f"stripe#pi_{n}") for n in range(200)}
    assert shards == {str(n) for n in range(ARCHIVE_SHARDS)}
    assert archive_shard("stripe#pi_1") == archive_shard("stripe#pi_1")
