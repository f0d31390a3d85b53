"""Every write path keeps the sparse archivable index right (emulator)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain.events import CanonicalEvent, Outcome, PaymentFacts
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import ArchivePointer, in_order_write, merge_event
from chalicelib.storage.errors import PreconditionFailed
from chalicelib.storage.events import event_item
from chalicelib.storage.transaction_items import ARCHIVE_SHARD, archive_shard

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)
FAR = date(2100, 1, 1)


def event(event_id: str, at: datetime, status: Status = Status.SUCCEEDED, created_at: datetime | None = T0,
          **facts: object) -> CanonicalEvent:
    return CanonicalEvent(provider="stripe", event_id=event_id, type="payment_intent.succeeded",
                          occurred_at=at, payment_id="pi_1", status=status,
                          facts=PaymentFacts(amount=500, currency="USD", created_at=created_at, **facts))


def fast(services, e: CanonicalEvent) -> None:
    services.ledger().record_in_order(event_item(e, b"{}", e.occurred_at, Outcome.APPLIED, timedelta(days=90)),
                                      in_order_write(e, e.occurred_at))


def indexed(services) -> dict[str, str]:
    """pk -> created_key of everything in the index."""
    return {f"{c.transaction.provider}#{c.transaction.id}": c.created_key
            for c in services.archivable().created_before(FAR)}


def raw_item(services) -> dict:
    return services.aws_client("dynamodb").get_item(
        TableName=services.get_settings().transactions_table, Key={"pk": {"S": "stripe#pi_1"}})["Item"]


def archive(services) -> None:
    txn = services.transactions().get("stripe", "pi_1")
    pointer = ArchivePointer(at=T0 + timedelta(days=40), object="s3://b/transactions/k")
    assert services.archivable().replace_with_archived("stripe", "pi_1", txn.version, pointer).replaced


def test_a_transaction_created_by_the_single_request_path_is_indexed_by_its_creation_time(services) -> None:
    fast(services, event("e1", T0))
    assert indexed(services) == {"stripe#pi_1": "2026-01-10T12:00:00.000000Z#stripe#pi_1"}
    assert raw_item(services)[ARCHIVE_SHARD] == {"S": archive_shard("stripe#pi_1")}


def test_the_index_follows_created_at_to_another_day_on_either_write_path(services) -> None:
    fast(services, event("e1", T0))
    fast(services, event("e2", T0 + timedelta(hours=1), created_at=T0 - timedelta(days=3)))
    assert indexed(services)["stripe#pi_1"].startswith("2026-01-07T12:00")

    current = services.transactions().get("stripe", "pi_1")
    newer = event("e3", T0 + timedelta(hours=2), created_at=T0 - timedelta(days=9))
    services.ledger().record_merged(None, merge_event(current, newer, T0).transaction, current.version)
    assert indexed(services)["stripe#pi_1"].startswith("2026-01-01T12:00")


def test_an_archived_record_taking_late_events_never_reenters_the_index(services) -> None:
    fast(services, event("e1", T0))
    archive(services)
    assert indexed(services) == {}

    # In order and stating created_at: the single-request write refuses, read-merge-write applies.
    with pytest.raises(PreconditionFailed):
        fast(services, event("e2", T0 + timedelta(days=50), created_at=T0))
    current = services.transactions().get("stripe", "pi_1")
    late = event("e2", T0 + timedelta(days=50), status=Status.DISPUTED)
    services.ledger().record_merged(None, merge_event(current, late, T0).transaction, current.version)
    # In order without created_at: the single-request write applies, and adds no index key.
    fast(services, event("e3", T0 + timedelta(days=51), status=Status.DISPUTED, created_at=None))

    stored = services.transactions().get("stripe", "pi_1")
    assert stored.archived is not None and stored.status is Status.DISPUTED
    assert [e.event_id for e in stored.events] == ["e2", "e3"]
    assert ARCHIVE_SHARD not in raw_item(services) and indexed(services) == {}
