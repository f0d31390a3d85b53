"""The archival job against the emulator: exactly once, whatever step it dies at."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.domain.events import CanonicalEvent, PaymentFacts
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import merge_event
from chalicelib.storage.archive.bucket import ArchiveIntegrityError
from chalicelib.storage.archive.lease import ArchiveLease
from tests.support.archival import (
    NOW, CallLog, Crash, archival, archive_contents, assert_archived_exactly_once,
    is_replacement, plenty, seed,
)

# Two days of Stripe (3 parts and 1 at two lines a part), one of generic, two recent.
SPEC = {("stripe", 40): 5, ("stripe", 35): 1, ("generic", 40): 2}


@pytest.fixture
def calls(services):
    log = CallLog(services)
    yield log
    log.remove()


def part_key(operation: str, params: dict) -> bool:
    return params.get("Key", "").endswith(".jsonl.gz")


def manifest_key(operation: str, params: dict) -> bool:
    return params.get("Key", "").endswith("/_manifest.json")


CRASH_POINTS = {
    "after an upload, before its verification":
        lambda op, params, nth: op == "GetObject" and part_key(op, params),
    "after the second part's verification, before its manifest":
        lambda op, params, nth: op == "PutObject" and manifest_key(op, params) and nth >= 3,
    "after the manifest, before any replacement":
        lambda op, params, nth: is_replacement(op, params),
    "midway through a part's replacements":
        lambda op, params, nth: is_replacement(op, params) and nth == 2,
    "midway through the replacements of a later part":
        lambda op, params, nth: is_replacement(op, params) and nth == 5,
}


@pytest.mark.parametrize("crash_point", list(CRASH_POINTS))
def test_a_rerun_after_a_crash_archives_each_transaction_exactly_once(services, calls, crash_point) -> None:
    data = seed(services, SPEC)
    calls.crash_when(CRASH_POINTS[crash_point])
    with pytest.raises(Crash):
        archival(services).run(plenty)
    calls.crash_when(None)

    report = archival(services).run(plenty)

    assert report.complete
    assert_archived_exactly_once(services, data)


def test_a_crash_at_any_call_then_a_rerun_loses_and_duplicates_nothing(services, calls, emulator) -> None:
    """Every call the job makes is, in turn, the one it dies before."""
    spec = {("stripe", 40): 3, ("generic", 36): 1}
    seed(services, spec, recent=1)
    calls.crash_when(None)
    archival(services, workers=1).run(plenty)
    total = len(calls.calls)
    assert total > 20
    for crash_at in range(1, total + 1):
        emulator.fresh_state()
        data = seed(services, spec, recent=1)
        calls.crash_when(lambda op, params, nth, counter=iter(range(1, total + 1)), at=crash_at:
                         next(counter) == at)
        with pytest.raises(Crash):
            archival(services, workers=1).run(plenty)
        calls.crash_when(None)
        # A run that died holding the lease blocks others until the lease expires.
        assert archival(services, later=timedelta(minutes=21)).run(plenty).complete
        assert_archived_exactly_once(services, data)


def test_only_transactions_older_than_the_cutoff_move_and_recent_ones_are_untouched(services) -> None:
    data = seed(services, SPEC, recent=2)
    edge = seed(services, {("stripe", 30): 1}, recent=0)  # created today minus 30: stays

    report = archival(services).run(plenty)

    assert (report.archived, report.items_read, report.changed) == (8, 8, 0)
    assert_archived_exactly_once(services, data)
    (ref, txn), = edge.old.items()
    assert services.transactions().get(*ref).archived is None


def test_the_archive_lines_are_the_transaction_as_get_answers_it(services) -> None:
    data = seed(services, {("generic", 45): 1}, recent=0)
    archival(services).run(plenty)
    (key, line), = archive_contents(services)["lines"]
    assert key.startswith("transactions/provider=generic/dt=")
    assert set(line) == {"provider", "id", "status", "amount", "currency", "amount_refunded",
                         "merchant_id", "customer_id", "payment_method", "live", "created_at",
                         "updated_at", "last_event_at", "risk", "events"}
    assert [e["event_id"] for e in line["events"]] == [e.event_id for e in next(iter(data.old.values())).events]


def test_an_item_changed_between_read_and_replace_stays_live_and_is_archived_again(services, calls) -> None:
    data = seed(services, {("stripe", 40): 3}, recent=0)
    target = ("stripe", "st-40-1")
    refund = CanonicalEvent(
        provider="stripe", event_id="evt-late-refund", type="charge.refunded",
        occurred_at=NOW - timedelta(days=1), payment_id=target[1], status=Status.REFUNDED,
        facts=PaymentFacts(amount_refunded=1000),
    )

    def late_refund(op: str, params: dict, nth: int) -> bool:
        if is_replacement(op, params) and params["Key"]["pk"]["S"] == "stripe#st-40-1":
            calls.crash_when(None)  # once; the write below goes through the same client
            current = services.transactions().get(*target)
            services.ledger().record_merged(None, merge_event(current, refund, NOW).transaction,
                                            current.version)
        return False

    calls.crash_when(late_refund)
    first = archival(services, max_lines=10).run(plenty)

    assert (first.archived, first.changed) == (2, 1)
    live = services.transactions().get(*target)
    assert live.archived is None and live.status is Status.REFUNDED
    assert [e.event_id for e in live.events] == ["evt-st-40-1", "evt-late-refund"]

    second = archival(services, max_lines=10).run(plenty)

    assert (second.items_read, second.archived) == (1, 1)
    snapshots = [line for _, line in archive_contents(services)["lines"] if line["id"] == target[1]]
    assert [(s["status"], s["updated_at"] < snapshots[1]["updated_at"]) for s in snapshots] == [
        ("succeeded", True), ("refunded", False)]
    archived = services.transactions().get(*target)
    assert archived.archived.object.endswith("part-00001.jsonl.gz")
    assert archived.summary() == live.summary()


def test_an_archived_record_is_never_read_or_archived_again(services) -> None:
    seed(services, SPEC, recent=0)
    archival(services).run(plenty)
    again = archival(services).run(plenty)
    assert (again.items_read, again.archived, again.parts, again.partitions) == (0, 0, 0, 0)


def test_a_run_near_its_time_limit_stops_cleanly_and_the_next_run_continues(services) -> None:
    data = seed(services, SPEC)
    budget = iter([120_000] * 3 + [1_000] * 100)

    first = archival(services, margin=timedelta(seconds=60)).run(lambda: next(budget))

    assert not first.complete and 0 < first.archived < len(data.old)
    second = archival(services).run(plenty)
    assert second.complete and first.archived + second.archived == len(data.old)
    assert_archived_exactly_once(services, data)


def test_a_second_run_while_one_holds_the_lease_does_nothing(services) -> None:
    seed(services, SPEC)
    lease = ArchiveLease(services.aws_client("s3"), services.get_settings().archive_bucket)
    assert lease.acquire("someone-else", NOW)

    report = archival(services).run(plenty)

    assert report.skipped and report.archived == 0
    assert lease.holder() == "someone-else"
    assert not lease.acquire("a-third", NOW + timedelta(minutes=5))
    assert lease.acquire("after-expiry", NOW + timedelta(hours=1))


def test_a_lease_that_cannot_be_released_does_not_fail_a_run_whose_work_is_done(services, capsys) -> None:
    """The lease expires by itself; failing the run would only have its retries skip."""
    from botocore.exceptions import ClientError

    data = seed(services, SPEC)
    s3 = services.aws_client("s3")

    def refused(**params):
        raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "DeleteObject")

    s3.delete_object = refused
    try:
        report = archival(services).run(plenty)
    finally:
        del s3.delete_object

    assert report.complete
    assert_archived_exactly_once(services, data)
    assert "archival.lease_not_released" in capsys.readouterr().out
    assert archival(services).run(plenty).skipped  # until it expires,
    assert archival(services, later=timedelta(minutes=21)).run(plenty).complete  # then taken over
    assert_archived_exactly_once(services, data)


def test_a_lease_written_whose_answer_was_lost_is_held_by_the_run_that_wrote_it(services) -> None:
    """A read timeout on the lease's write (the SDK's retry then meets its own object's
    condition failing) must not leave the lease standing against every rerun."""
    from botocore.exceptions import ReadTimeoutError

    s3 = services.aws_client("s3")
    lease = ArchiveLease(s3, services.get_settings().archive_bucket)
    answered = s3.put_object

    def written_then_lost(**params):
        answered(**params)
        raise ReadTimeoutError(endpoint_url="https://s3.amazonaws.com/")

    s3.put_object = written_then_lost
    try:
        assert lease.acquire("this-run", NOW)
    finally:
        del s3.put_object
    assert lease.holder() == "this-run"
    assert lease.acquire("this-run", NOW)  # the SDK's retry meeting If-None-Match: still ours
    assert not lease.acquire("another-run", NOW)


def test_a_part_that_is_not_stored_as_written_is_never_relied_on(services, calls) -> None:
    data = seed(services, {("stripe", 40): 2}, recent=0)

    def corrupt(op: str, params: dict, nth: int) -> bool:
        if op == "PutObject" and part_key(op, params):
            params["Body"] = b"not what was hashed"
        return False

    calls.crash_when(corrupt)
    with pytest.raises(ArchiveIntegrityError):
        archival(services).run(plenty)
    calls.crash_when(None)
    assert all(services.transactions().get(*ref).archived is None for ref in data.old)

    archival(services).run(plenty)
    assert_archived_exactly_once(services, data)


def test_replacing_by_the_archived_record_leaves_every_summary_field_of_the_stream_images(services, aws) -> None:
    """What analytics reads (the summary in the stream's old and new images) is unchanged."""
    seed(services, {("stripe", 40): 2}, recent=0)
    archival(services).run(plenty)
    streams = services.aws_client("dynamodbstreams")
    arn = aws.env["TRANSACTIONS_STREAM_ARN"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    replacements = [r["dynamodb"] for r in records
                    if "archived" in r["dynamodb"].get("NewImage", {})
                    and "archived" not in r["dynamodb"].get("OldImage", {})]
    assert len(replacements) == 2
    summary = ("status", "amount", "currency", "amount_refunded", "merchant_id", "created_at",
               "provider", "updated_at", "last_event_at")
    for change in replacements:
        assert {f: change["OldImage"].get(f) for f in summary} == {f: change["NewImage"].get(f) for f in summary}
        assert "events" not in change["NewImage"] and "archive_shard" not in change["NewImage"]


def test_restore_puts_the_archived_events_back_on_the_archived_records(services) -> None:
    data = seed(services, {("stripe", 40): 3}, recent=0)
    archival(services).run(plenty)
    day = (NOW - timedelta(days=40)).date()

    report = services.archive_restore_service().restore("stripe", day)

    assert (report.parts, report.lines, report.outcomes) == (2, 3, {"restored": 3})
    for ref, original in data.old.items():
        restored = services.transactions().get(*ref)
        assert restored.events == original.events and restored.archived is not None
        assert restored.summary() == original.summary()
    assert services.archive_restore_service().restore("stripe", day).outcomes == {"already_restored": 3}
    assert archival(services).run(plenty).items_read == 0
    assert json.loads(json.dumps(report.as_dict()))["restored"] == 3
