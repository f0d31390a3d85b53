"""The feed publisher's use of a stream batch: only business changes reach the bus, in
stream order, and a record the bus would not take is the one reported back (Lambda then
delivers it and every later record again)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import boto3
from botocore.stub import ANY, Stubber

from chalicelib.domain.changes import TransactionChange
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import ArchivePointer, MergeState, Transaction
from chalicelib.services.feed import FeedPublisher
from chalicelib.storage.event_bus import ChangeFeedBus
from chalicelib.storage.transaction_stream import StreamBatch

AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def txn(payment: str, version: int, status: Status = Status.PENDING, **fields: object) -> Transaction:
    return Transaction(provider="stripe", id=payment, status=status, created_at=AT, updated_at=AT,
                       last_event_at=AT, version=version, **fields,
                       merge=MergeState(frontier="k", frontier_status=status, first_event_at=AT))


def batch(*changes: TransactionChange) -> StreamBatch:
    return StreamBatch(lane="shard-1", changes=list(changes), unreadable=[], windowed=True)


def publisher() -> tuple[FeedPublisher, Stubber]:
    client = boto3.client("events", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return FeedPublisher(ChangeFeedBus(client, "bus", sleep=lambda _: None)), Stubber(client)


def ids(params: dict) -> list[str]:
    return [json.loads(e["Detail"])["id"] for e in params["Entries"]]


def test_only_business_changes_are_put_in_stream_order() -> None:
    service, stub = publisher()
    archived = txn("pi_1", 3, archived=ArchivePointer(at=AT, object="o"))
    changes = batch(
        TransactionChange(None, txn("pi_1", 1), "10"),
        TransactionChange(txn("pi_1", 1), txn("pi_1", 2, Status.SUCCEEDED), "11"),
        TransactionChange(txn("pi_1", 2, Status.SUCCEEDED), archived.model_copy(update={"status": Status.SUCCEEDED}), "12"),
        TransactionChange(None, None, "13"),
        TransactionChange(None, txn("pi_2", 1), "14"),
    )
    sent: list[list[str]] = []
    stub.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i in range(3)]},
                      {"Entries": ANY})
    client = stub.client
    client.meta.events.register("before-parameter-build.events.PutEvents",
                                lambda params, **_: sent.append(ids(params)))
    with stub:
        assert service.publish(changes) == []
    assert sent == [["stripe/pi_1/1", "stripe/pi_1/2", "stripe/pi_2/1"]]


def test_a_batch_without_business_changes_calls_nothing() -> None:
    service, stub = publisher()
    same = txn("pi_1", 2)
    with stub:
        assert service.publish(batch(TransactionChange(same, same, "10"))) == []


def test_the_first_event_the_bus_will_not_take_is_reported_by_its_record() -> None:
    service, stub = publisher()
    refused = {"ErrorCode": "InternalFailure", "ErrorMessage": "no"}
    stub.add_response("put_events", {"FailedEntryCount": 1, "Entries": [{"EventId": "a"}, refused, {"EventId": "c"}]},
                      {"Entries": ANY})
    for _ in range(4):
        stub.add_response("put_events", {"FailedEntryCount": 1, "Entries": [refused]}, {"Entries": ANY})
    changes = batch(*(TransactionChange(None, txn(f"pi_{n}", 1), str(20 + n)) for n in range(3)))
    with stub:
        assert service.publish(changes) == ["21"]
