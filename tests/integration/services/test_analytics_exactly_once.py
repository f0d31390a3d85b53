"""Exactly once, as a property: whatever the delivery does, the daily figures equal those
computed directly from the final transactions.

Random transaction histories become stream records (with moto's quirks: a keys-only INSERT
before the full one, an identical re-put as a MODIFY), spread over two shards whose sequence
numbers have different widths. A simulated Lambda feeds them to the service in random
batches, with duplicated records, old slices delivered again, bucket writes that fail before
or after DynamoDB applied them, and invocations that die half way; it retries the way Lambda
does (from the earliest reported failure, or the whole batch after a crash).

In-process `mock_aws` (AWS_ENDPOINT_URL unset) rather than the emulator: the property needs
DynamoDB's conditional-update semantics, not the stream, and hundreds of examples must stay
fast. The real stream is covered by test_analytics_stream.py.
"""
from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from chalicelib.domain.events import Outcome
from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import parse_iso
from chalicelib.domain.transaction import ArchivePointer, EventRecord, MergeState, Transaction
from chalicelib.services.analytics import AnalyticsService, DailyQuery
from chalicelib.storage.analytics import AnalyticsRepository
from chalicelib.storage.codec import to_attributes
from chalicelib.storage.transaction_items import to_item
from chalicelib.storage.transaction_stream import read_batch
from tests.support.emulator import REPO_ROOT

CAPTURED = {"succeeded", "partially_refunded", "refunded", "disputed"}
STATUSES = ["pending", "succeeded", "failed", "canceled", "refunded", "partially_refunded", "disputed"]
SHARDS = {"shardId-a": 95, "shardId-b": 1100000000017454423009}  # first sequence number of each
CREATED = ["2026-01-31T23:59:59.5Z", "2026-02-01T00:00:00Z"]  # either side of midnight UTC
# moto parses each UpdateItem expression in ~15 ms: example counts keep the module near 20 s.
PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the world: DynamoDB in-process, one fresh analytics table per example --------------

@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as env:
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        env.delenv("AWS_PROFILE", raising=False)
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}.items():
            env.setenv(name, value)
        with mock_aws():
            yield boto3.client("dynamodb", region_name="us-east-1")


_tables = itertools.count()
_TABLE = json.loads((REPO_ROOT / "infra" / "resources.json").read_text())["Resources"]["AnalyticsTable"]["Properties"]


@contextmanager
def fresh_table(client: Any) -> Iterator[str]:
    """The template's analytics table definition, under a new name, for one example."""
    name = f"analytics-{next(_tables)}"
    client.create_table(TableName=name, KeySchema=_TABLE["KeySchema"],
                        AttributeDefinitions=_TABLE["AttributeDefinitions"], BillingMode=_TABLE["BillingMode"])
    try:
        yield name
    finally:
        client.delete_table(TableName=name)


# --- histories and their stream records -----------------------------------------------

images = st.fixed_dictionaries({
    "status": st.sampled_from(STATUSES),
    "amount": st.tuples(st.sampled_from([True, True, True, False]), st.integers(0, 5000)).map(
        lambda known_amount: known_amount[1] if known_amount[0] else None),
    "currency": st.sampled_from(["USD", "USD", "EUR", None]),
    "amount_refunded": st.integers(0, 5000),
    "created_at": st.sampled_from(CREATED),
    "updated_at": st.sampled_from(["2026-02-02T10:00:00Z", "2026-02-02T11:00:00Z"]),  # analytics must not see it
    "archived": st.booleans(),
})
TRANSACTIONS = 4


@st.composite
def steps(draw: Any) -> list[tuple[int, Any]]:
    """Each transaction's own history, interleaved at random (as the stream interleaves them)."""
    own = [draw(st.lists(images, min_size=int(n < 2), max_size=6)) for n in range(TRANSACTIONS)]
    for history in own:
        if history and draw(st.sampled_from([False, False, False, True]), label="removed at the end"):
            history.append("remove")
    order = draw(st.permutations([n for n, history in enumerate(own) for _ in history]))
    taken = [0] * TRANSACTIONS
    interleaved = []
    for n in order:
        interleaved.append((n, own[n][taken[n]]))
        taken[n] += 1
    return interleaved


def shard_of(n: int) -> str:
    return "shardId-b" if n % 2 else "shardId-a"


def item(n: int, image: dict) -> dict:
    """The item the service would store for this state (the real layout, through `to_item`)."""
    provider = "stripe" if n == 3 else "generic"  # generic transactions on both shards
    created, updated = parse_iso(image["created_at"]), parse_iso(image["updated_at"])
    txn = Transaction(
        provider=provider, id=f"t{n}", status=Status(image["status"]), amount=image["amount"],
        currency=image["currency"], amount_refunded=image["amount_refunded"], created_at=created,
        updated_at=updated, last_event_at=updated,
        merge=MergeState(frontier="f", frontier_status=Status(image["status"]), first_event_at=created),
        events=() if image["archived"] else (EventRecord(event_id="e", type="t", occurred_at=created,
                                                         received_at=updated, outcome=Outcome.APPLIED),),
        archived=ArchivePointer(at=updated, object="s3://archive/part-00000.jsonl.gz") if image["archived"] else None,
    )
    return {name: value for name, value in to_item(txn).items() if value is not None}


def record(seq: int, name: str, old: dict | None, new: dict | None) -> dict:
    stream = {"SequenceNumber": str(seq), "SizeBytes": 1, "StreamViewType": "NEW_AND_OLD_IMAGES",
              "ApproximateCreationDateTime": 1767261600, "Keys": {"pk": {"S": (old or new)["pk"]}}}
    if old is not None:
        stream["OldImage"] = to_attributes(old)
    if new is not None:
        stream["NewImage"] = to_attributes(new)
    return {"eventID": f"ev{seq}", "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1", "eventSourceARN": "arn:stream", "dynamodb": stream}


def stream_of(history: list[tuple[int, Any]]) -> tuple[dict[str, list[dict]], dict[int, dict]]:
    """Per shard, the records moto would emit; and each transaction's final item."""
    current: dict[int, dict] = {}
    removed: set[int] = set()
    shards: dict[str, list[dict]] = {shard: [] for shard in SHARDS}
    for n, step in history:
        if n in removed:
            continue  # a removed transaction does not come back
        shard = shard_of(n)
        records = shards[shard]
        seq = lambda: SHARDS[shard] + len(records)  # noqa: E731 - +1 per record, as moto
        old = current.get(n)
        if step == "remove":
            if old is not None:
                records.append(record(seq(), "REMOVE", old, None))
                removed.add(n)
            continue
        new = item(n, step)
        if old is None:
            records.append(record(seq(), "INSERT", None, {"pk": new["pk"]}))  # moto: keys first
            records.append(record(seq(), "INSERT", None, new))
        else:
            records.append(record(seq(), "MODIFY", old, new))  # identical re-puts included
        current[n] = new
    return shards, current


def expected_rows(final_items: dict[int, dict]) -> dict[tuple[str, str, str], dict]:
    """The contract's figures straight from the final transactions."""
    rows: dict[tuple[str, str, str], dict] = {}
    for txn in final_items.values():
        if txn.get("amount") is None or txn.get("currency") is None:
            continue  # not counted until its amount and currency are known
        day = _utc_day(txn["created_at"])
        row = rows.setdefault((day, txn["provider"], txn["currency"]),
                              {"count": 0, "by_status": Counter(), "gross": 0, "refunded": 0})
        row["count"] += 1
        row["by_status"][txn["status"]] += 1
        row["gross"] += txn["amount"] if txn["status"] in CAPTURED else 0
        row["refunded"] += txn["amount_refunded"]
    return {key: {**row, "by_status": dict(row["by_status"])} for key, row in rows.items()}


def _utc_day(text: str) -> str:
    from datetime import datetime, timezone

    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc).date().isoformat()


# --- a Lambda that fails in every way it can ------------------------------------------

class Crash(BaseException):
    """The invocation dies (timeout, out of memory): nothing after this point runs."""


@dataclass
class Faults:
    """A finite budget of faults, drawn by hypothesis, so every run ends."""

    plan: list[str]
    used: int = 0

    def next(self) -> str:
        fault = self.plan[self.used] if self.used < len(self.plan) else "none"
        self.used += 1
        return fault


@dataclass
class FlakyDynamoDB:
    """The real client, but a write can fail before it is applied, be applied and then look
    failed (the answer lost), or kill the invocation after it was applied."""

    client: Any
    faults: Faults
    writes: int = field(default=0)

    def update_item(self, **request: Any) -> Any:
        fault = self.faults.next()
        if fault == "fail-before":
            raise _server_error()
        self.writes += 1
        answer = self.client.update_item(**request)
        if fault == "fail-after":
            raise _server_error()
        if fault == "crash-after":
            raise Crash()
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def _server_error() -> ClientError:
    return ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "UpdateItem")


def run_lambda(service: AnalyticsService, shards: dict[str, list[dict]], data: st.DataObject) -> None:
    """Each shard read in order from its checkpoint, the shards interleaved at random."""
    checkpoint = {shard: 0 for shard in shards}
    while any(checkpoint[s] < len(shards[s]) for s in shards):
        shard = data.draw(st.sampled_from([s for s in shards if checkpoint[s] < len(shards[s])]))
        records, start = shards[shard], checkpoint[shard]
        batch = records[start:start + data.draw(st.integers(1, 12), label="batch size")]
        batch = batch + data.draw(st.lists(st.sampled_from(batch), max_size=2), label="duplicates")
        event = {"Records": data.draw(st.permutations(batch)), "shardId": shard}
        try:
            failed = service.apply(read_batch(event))
        except Crash:
            continue  # Lambda retries the whole batch
        if failed:
            checkpoint[shard] = min(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed)
        else:
            checkpoint[shard] = start + len(set(r["dynamodb"]["SequenceNumber"] for r in batch))
        if data.draw(st.booleans(), label="deliver an old slice again") and checkpoint[shard]:
            first = data.draw(st.integers(0, checkpoint[shard] - 1))
            try:
                service.apply(read_batch({"Records": records[first:checkpoint[shard]], "shardId": shard}))
            except Crash:
                pass


def stored_rows(repository: AnalyticsRepository) -> dict[tuple[str, str, str], dict]:
    from datetime import date

    rows = {}
    for bucket, figures in repository.daily(date(2025, 12, 1), date(2026, 2, 28)):
        key = (bucket.day.isoformat(), bucket.provider, bucket.currency)
        rows[key] = {"count": figures.count, "by_status": {s.value: n for s, n in figures.by_status.items()},
                     "gross": figures.gross_volume, "refunded": figures.refunded_volume}
    return rows


fault_plans = st.lists(st.sampled_from(["none", "none", "fail-before", "fail-after", "crash-after"]), max_size=10)


@PROPERTY
@given(history=steps(), plan=fault_plans, data=st.data())
def test_retries_duplicates_and_partial_failures_leave_exactly_the_figures_of_the_final_transactions(
        dynamodb: Any, history: list, plan: list[str], data: st.DataObject) -> None:
    shards, final_items = stream_of(history)
    with fresh_table(dynamodb) as table:
        repository = AnalyticsRepository(FlakyDynamoDB(dynamodb, Faults(plan)), table)
        run_lambda(AnalyticsService(repository, sleep=lambda _: None), shards, data)
        stored = stored_rows(repository)
    expected = expected_rows(final_items)
    assert {k: v for k, v in stored.items() if v["count"]} == expected
    leftovers = [v for k, v in stored.items() if k not in expected]
    assert all(v == {"count": 0, "by_status": {}, "gross": 0, "refunded": 0} for v in leftovers)


@settings(PROPERTY, max_examples=25)
@given(history=steps(), data=st.data())
def test_without_faults_a_batch_writes_once_per_bucket_its_records_change(
        dynamodb: Any, history: list, data: st.DataObject) -> None:
    shards, _ = stream_of(history)
    client = FlakyDynamoDB(dynamodb, Faults([]))
    with fresh_table(dynamodb) as table:
        check_writes_per_batch(AnalyticsService(AnalyticsRepository(client, table)), client, shards, data)


def check_writes_per_batch(service: AnalyticsService, client: FlakyDynamoDB, shards: dict, data: st.DataObject) -> None:
    for shard, records in shards.items():
        start = 0
        while start < len(records):
            batch = read_batch({"Records": records[start:start + data.draw(st.integers(1, 20))], "shardId": shard})
            start += len(batch.changes) + len(batch.unreadable)
            buckets = _changed_buckets(batch)
            before = client.writes
            assert service.apply(batch) == []
            assert client.writes - before == len(buckets)


def _changed_buckets(batch: Any) -> set:
    from chalicelib.domain.analytics import change_delta, counted_transaction

    return {bucket for change in batch.changes
            for bucket in change_delta(counted_transaction(change.before), counted_transaction(change.after))}


def test_a_bucket_of_an_unknown_query_range_is_empty(dynamodb: Any) -> None:
    from datetime import date

    with fresh_table(dynamodb) as table:
        service = AnalyticsService(AnalyticsRepository(dynamodb, table))
        assert service.daily(DailyQuery(date(2024, 1, 1), date(2024, 12, 31))) == []


# --- the cases the property must never miss, spelled out --------------------------------

def image(created: str = "2026-01-31T10:00:00Z", currency: str = "USD", status: str = "succeeded") -> dict:
    return {"status": status, "amount": 1000, "currency": currency, "amount_refunded": 0,
            "created_at": created, "updated_at": "2026-02-02T10:00:00Z", "archived": False}


def test_a_transaction_passing_through_a_bucket_within_one_batch_is_not_counted_again_on_retry(dynamodb) -> None:
    """Its +1 and -1 in the EUR bucket cancel out, but the bucket must still record that it
    took both: the batch is retried from the -1 (its USD write failed) and must not apply it."""
    history = [(2, image(currency="EUR")), (2, image(currency="USD"))]
    shards, final_items = stream_of(history)
    records = shards[shard_of(2)]
    with fresh_table(dynamodb) as table:
        faults = Faults(["none", "fail-before"])  # buckets in order: EUR, then USD fails
        repository = AnalyticsRepository(FlakyDynamoDB(dynamodb, faults), table)
        service = AnalyticsService(repository, sleep=lambda _: None)
        failed = service.apply(read_batch({"Records": records, "shardId": "shardId-a"}))
        assert failed == [records[-1]["dynamodb"]["SequenceNumber"]]
        assert service.apply(read_batch({"Records": records[-1:], "shardId": "shardId-a"})) == []
        assert stored_rows(repository) == {
            **{k: v for k, v in expected_rows(final_items).items()},
            ("2026-01-31", "generic", "EUR"): {"count": 0, "by_status": {}, "gross": 0, "refunded": 0},
        }


def test_each_shard_keeps_its_own_mark_whatever_its_sequence_numbers(dynamodb) -> None:
    """Shard b's numbers are far above shard a's; b is read first. A single mark per bucket
    would make a's records look already applied."""
    history = [(0, image()), (1, image())]  # generic/t0 on shard a, generic/t1 on shard b
    shards, final_items = stream_of(history)
    with fresh_table(dynamodb) as table:
        repository = AnalyticsRepository(dynamodb, table)
        service = AnalyticsService(repository)
        for shard in ("shardId-b", "shardId-a"):
            assert service.apply(read_batch({"Records": shards[shard], "shardId": shard})) == []
        assert stored_rows(repository) == expected_rows(final_items)
        assert stored_rows(repository)[("2026-01-31", "generic", "USD")]["count"] == 2
