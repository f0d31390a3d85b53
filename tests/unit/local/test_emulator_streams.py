"""Stream records expire after 24 hours in the emulator (local/emulator_streams.py), and
what is kept reads on unchanged: checked on moto's own table and stream objects."""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodbstreams.models import ShardIterator

from local import emulator_streams
from local.emulator_streams import TrimmedDataAccessException, trim_expired

NOW = datetime(2026, 3, 1, 12, 0, 0)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Table:
    monkeypatch.setattr(StreamShard, "add", emulator_streams.trimming_add(StreamShard.add))
    monkeypatch.setattr(StreamShard, "get", emulator_streams.refusing_trimmed(StreamShard.get))
    return Table("t", account_id="123456789012", region="us-east-1",
                 schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                 attr=[{"AttributeName": "pk", "AttributeType": "S"}],
                 streams={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})


def _write(table: Table, pk: str, at: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models import table as moto_table

    monkeypatch.setattr(moto_table, "utcnow", lambda: at)
    table.put_item({"pk": {"S": pk}})


def _keys(records: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]


def test_records_older_than_24_hours_are_trimmed_and_the_rest_keep_their_sequence_numbers(
        table: Table, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(table, "day-old", NOW - timedelta(hours=25), monkeypatch)
    _write(table, "hour-old", NOW - timedelta(hours=1), monkeypatch)
    shard = table.stream_shard
    kept_sequence = shard.items[1].record["dynamodb"]["SequenceNumber"]

    assert trim_expired(shard, NOW) == 1

    assert [r.record["dynamodb"]["SequenceNumber"] for r in shard.items] == [kept_sequence]
    assert str(shard.starting_sequence_number) == kept_sequence


def test_a_write_trims_expired_records_and_numbers_its_own_after_the_last(
        table: Table, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(table, "old", NOW - timedelta(hours=30), monkeypatch)
    _write(table, "older-than-a-day-by-now", NOW - timedelta(hours=24, seconds=1), monkeypatch)
    last = int(table.stream_shard.items[-1].record["dynamodb"]["SequenceNumber"])

    _write(table, "now", NOW, monkeypatch)

    assert _keys([r.record for r in table.stream_shard.items]) == ["now"]
    assert int(table.stream_shard.items[0].record["dynamodb"]["SequenceNumber"]) == last + 1


def test_an_open_iterator_reads_on_after_older_records_are_trimmed(
        table: Table, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(table, "old", NOW - timedelta(hours=24, minutes=1), monkeypatch)
    _write(table, "recent", NOW - timedelta(minutes=5), monkeypatch)
    checkpoint = int(table.stream_shard.items[0].record["dynamodb"]["SequenceNumber"])
    iterator = ShardIterator(SimpleNamespace(shard_iterators={}), table.stream_shard,
                             "AFTER_SEQUENCE_NUMBER", checkpoint)

    _write(table, "new", NOW, monkeypatch)

    assert _keys([r.record for r in table.stream_shard.items]) == ["recent", "new"]
    assert _keys(iterator.get()["Records"]) == ["recent", "new"]


def test_reading_from_before_the_trim_horizon_is_refused_as_trimmed(
        table: Table, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(table, "old", NOW - timedelta(hours=25), monkeypatch)
    trimmed = table.stream_shard.starting_sequence_number
    _write(table, "new", NOW, monkeypatch)

    with pytest.raises(TrimmedDataAccessException):
        table.stream_shard.get(trimmed, 10)
