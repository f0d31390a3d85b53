"""Reading Lambda's DynamoDB-stream events of the transactions table into changes."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from chalicelib.domain.status import Status
from chalicelib.domain.transaction import ArchivePointer, MergeState, Transaction
from chalicelib.storage.codec import to_attributes
from chalicelib.storage.transaction_items import to_item
from chalicelib.storage.transaction_stream import UnreadableRecord, position, read_batch, transaction

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/payment-webhooks-dev-transactions/stream/2026-01-01T00:00:00.000"
T0 = datetime(2026, 1, 1, 10, tzinfo=timezone.utc)
TXN = Transaction(provider="stripe", id="pi_1", status=Status.SUCCEEDED, amount=2000, currency="USD",
                  created_at=T0, updated_at=T0, last_event_at=T0,
                  merge=MergeState(frontier="f1", frontier_status=Status.SUCCEEDED, first_event_at=T0))
ITEM = {name: value for name, value in to_item(TXN).items() if value is not None}


def record(seq: str, name: str = "MODIFY", old: dict | None = None, new: dict | None = None) -> dict:
    stream: dict = {"Keys": {"pk": {"S": "stripe#pi_1"}}, "SequenceNumber": seq, "SizeBytes": 10,
                    "StreamViewType": "NEW_AND_OLD_IMAGES", "ApproximateCreationDateTime": 1767261600}
    if old is not None:
        stream["OldImage"] = to_attributes(old)
    if new is not None:
        stream["NewImage"] = to_attributes(new)
    return {"eventID": f"id-{seq}", "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1", "dynamodb": stream, "eventSourceARN": ARN}


def test_an_insert_and_a_modify_carry_the_transaction_before_and_after() -> None:
    refunded = TXN.model_copy(update={"status": Status.REFUNDED, "amount_refunded": 2000})
    batch = read_batch({"Records": [record("101", "INSERT", new=ITEM), record("102", old=ITEM, new=to_item(refunded))]})
    assert [(c.sequence, c.before, c.after) for c in batch.changes] == [("101", None, TXN), ("102", TXN, refunded)]
    assert batch.unreadable == [] and batch.windowed is False


def test_an_image_holding_only_the_key_is_no_transaction_yet() -> None:
    assert transaction({"pk": "stripe#pi_1"}) is None  # moto's keys-only first INSERT
    change = read_batch({"Records": [record("5", "INSERT", new={"pk": "stripe#pi_1"})]}).changes[0]
    assert (change.before, change.after) == (None, None)


def test_a_transaction_not_yet_knowing_its_amount_or_currency_reads_without_them() -> None:
    for name in ("amount", "currency"):
        assert getattr(transaction({k: v for k, v in ITEM.items() if k != name}), name) is None
    assert transaction({k: v for k, v in ITEM.items() if k != "amount_refunded"}) == TXN


def test_an_image_lacking_what_every_transaction_has_is_unreadable() -> None:
    for name in ("provider", "id", "status", "created_at", "updated_at", "frontier"):
        with pytest.raises(UnreadableRecord):
            transaction({k: v for k, v in ITEM.items() if k != name})


def test_an_archived_compact_record_reads_as_the_archived_transaction() -> None:
    archived = TXN.model_copy(update={"archived": ArchivePointer(at=T0, object="s3://bucket/key")})
    image = {k: v for k, v in to_item(archived).items() if v is not None}
    assert "events" not in image
    assert transaction(image) == archived


def test_a_remove_is_not_a_business_event_and_has_neither_side() -> None:
    change = read_batch({"Records": [record("7", "REMOVE", old=ITEM)]}).changes[0]
    assert (change.before, change.after) == (None, None)


def test_the_lane_is_the_shard_when_lambda_names_it_else_the_stream() -> None:
    records = [record("1", "INSERT", new=ITEM)]
    windowed = {"Records": records, "shardId": "shardId-0001", "window": {}, "state": {}}
    assert (read_batch(windowed).lane, read_batch(windowed).windowed) == ("shardId-0001", True)
    assert read_batch({"Records": records}).lane == ARN
    assert read_batch({"Records": []}).changes == []


def test_records_come_out_once_each_in_numeric_sequence_order() -> None:
    records = [record("100", new=ITEM), record("99", new=ITEM), record("100", new=ITEM), record("1000", new=ITEM)]
    assert [c.sequence for c in read_batch({"Records": records}).changes] == ["99", "100", "1000"]


def raw_image(**attributes: dict) -> dict:
    bad = record("1", new=ITEM)
    bad["dynamodb"]["NewImage"].update(attributes)
    return bad


@pytest.mark.parametrize("bad", [
    record("1", new={**ITEM, "status": "lost"}),
    record("1", new={**ITEM, "amount": "2000"}),
    record("1", new={**ITEM, "amount": Decimal("20.5")}),
    record("1", new={**ITEM, "amount": True}),
    record("1", new={**ITEM, "created_at": "yesterday"}),
    record("1", "UPSERT", new=ITEM),
    raw_image(amount={"Q": "1"}),
    raw_image(amount={"N": "x"}),
])
def test_an_unreadable_record_is_reported_by_sequence_number_and_the_rest_still_read(bad: dict) -> None:
    batch = read_batch({"Records": [record("0", "INSERT", new=ITEM), bad, record("2", old=ITEM, new=ITEM)]})
    assert batch.unreadable == ["1"]
    assert [c.sequence for c in batch.changes] == ["0", "2"]


def test_a_record_without_a_usable_sequence_number_is_unreadable() -> None:
    no_number = record("1", new=ITEM)
    del no_number["dynamodb"]["SequenceNumber"]
    assert read_batch({"Records": [no_number, record("12a", new=ITEM)]}).unreadable == ["", "12a"]


def test_positions_are_fixed_width_so_string_order_is_numeric_order() -> None:
    assert position("99") < position("100") < position("1" * 40)
    assert len(position("1100000000017454423009")) == 40
    for bad in ("", "-1", "1e5", "1" * 41, "١٢"):
        with pytest.raises(UnreadableRecord):
            position(bad)
