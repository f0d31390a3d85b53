"""The nightly validation on the emulator: every export under reconciliation/incoming/
reported, moved and alerted once, whatever step a run is killed at, and stopped before
the Lambda timeout."""
from __future__ import annotations

import json

import pytest

from tests.support.archival import CallLog, Crash, plenty
from tests.support.reconciliation import as_csv, as_json_lines, deliver, record

DIFFERING = as_csv([record("g-1"), record("g-2", amount=999), record("g-missing")])
MATCHING = as_json_lines([record("g-1"), record("g-2")])
MALFORMED = as_csv([record("g-1"), record("g-2", status="paid")])


@pytest.fixture
def bucket(services):
    deliver(services, "g-1")
    deliver(services, "g-2")
    s3, name = services.aws_client("s3"), services.get_settings().archive_bucket

    def place(key: str, body: bytes) -> None:
        s3.put_object(Bucket=name, Key=f"reconciliation/incoming/{key}", Body=body)

    def keys(prefix: str) -> list[str]:
        listed = s3.list_objects_v2(Bucket=name, Prefix=f"reconciliation/{prefix}")
        return sorted(o["Key"][len(f"reconciliation/{prefix}"):] for o in listed.get("Contents", []))

    def report(export: str) -> dict:
        return json.loads(s3.get_object(Bucket=name, Key=f"reconciliation/reports/{export}.json")["Body"].read())

    place.keys, place.report = keys, report  # type: ignore[attr-defined]
    return place


@pytest.fixture
def publishes(services):
    """SNS publishes of payment alerts, counted as they are sent."""
    sent: list[str] = []
    sns = services.aws_client("sns")
    sns.meta.events.register("before-parameter-build.sns.Publish", lambda params, **_: sent.append(params["Message"]),
                             unique_id="publishes")
    yield sent
    sns.meta.events.unregister("before-parameter-build.sns.Publish", unique_id="publishes")


def test_every_waiting_export_is_reported_moved_and_alerted_once_if_it_differs(services, bucket, publishes) -> None:
    bucket("2026-11-20-legacy.csv", DIFFERING)
    bucket("2026-11-21-legacy.jsonl", MATCHING)
    bucket("2026-11-22-legacy.csv", MALFORMED)

    run = services.scheduled_validation().run(plenty)

    assert run.as_dict() == {
        "reconciled": ["2026-11-20-legacy.csv", "2026-11-21-legacy.jsonl"],
        "with_differences": ["2026-11-20-legacy.csv"], "rejected": ["2026-11-22-legacy.csv"],
        "alerts_sent": 2, "complete": True}
    assert bucket.keys("incoming/") == []
    assert bucket.keys("processed/") == ["2026-11-20-legacy.csv", "2026-11-21-legacy.jsonl"]
    assert bucket.keys("rejected/") == ["2026-11-22-legacy.csv"]
    assert bucket.keys("reports/") == ["2026-11-20-legacy.csv.json", "2026-11-21-legacy.jsonl.json"]
    differing = bucket.report("2026-11-20-legacy.csv")
    assert (differing["source"], differing["checked"], differing["matched"]) == ("2026-11-20-legacy.csv", 3, 1)
    assert differing["missing"] == [{"provider": "generic", "id": "g-missing"}]
    alerts = [json.loads(message) for message in publishes]
    assert [(a["kind"], a["key"]) for a in alerts] == [
        ("reconciliation_mismatch", "2026-11-20-legacy.csv"), ("reconciliation_mismatch", "2026-11-22-legacy.csv")]
    assert "line 3: status" in alerts[1]["summary"]
    assert services.scheduled_validation().run(plenty).as_dict()["reconciled"] == []  # nothing left


CRASHES = {
    "while reading the export": lambda op, params, nth: op == "BatchGetItem",
    "before the report is written": lambda op, params, nth: op == "PutObject",
    "after the report, before the alert": lambda op, params, nth: op == "PutItem",
    "after the alert, before the move": lambda op, params, nth: op == "CopyObject",
    "between the copy and the delete": lambda op, params, nth: op == "DeleteObject",
}


def test_a_run_killed_at_any_step_and_run_again_gives_the_same_report_and_one_alert(
        services, bucket, publishes) -> None:
    """Each step gets its own export (its own report and alert key), killed there once."""
    calls = CallLog(services)
    try:
        for number, (step, crashes) in enumerate(CRASHES.items()):
            name = f"2026-11-{number + 10}-legacy.csv"
            bucket(name, DIFFERING)
            calls.crash_when(crashes)
            with pytest.raises(Crash):
                services.scheduled_validation().run(plenty)
            calls.crash_when(None)
            services.scheduled_validation().run(plenty)
            report = bucket.report(name)
            assert (report["checked"], report["matched"], report["missing"], len(report["mismatched"])) == (
                3, 1, [{"provider": "generic", "id": "g-missing"}], 1), step
            assert [json.loads(m)["key"] for m in publishes].count(name) == 1, step
    finally:
        calls.remove()
    assert bucket.keys("incoming/") == []
    assert bucket.keys("processed/") == [f"2026-11-{n + 10}-legacy.csv" for n in range(len(CRASHES))]


def test_the_run_stops_before_the_lambda_timeout_and_the_next_one_continues(services, bucket) -> None:
    bucket("2026-11-20-legacy.csv", DIFFERING)
    bucket("2026-11-21-legacy.jsonl", MATCHING)
    remaining = iter([900_000, 30_000])  # the first export is started; then under the margin
    first = services.scheduled_validation().run(lambda: next(remaining, 30_000))
    assert (first.reconciled, first.complete) == (["2026-11-20-legacy.csv"], False)
    assert bucket.keys("incoming/") == ["2026-11-21-legacy.jsonl"]
    second = services.scheduled_validation().run(plenty)
    assert (second.reconciled, second.complete) == (["2026-11-21-legacy.jsonl"], True)

    # an export whose reading outlives the budget is abandoned whole, and started again
    bucket("2026-11-22-legacy.csv", as_csv([record(f"g-{n}") for n in range(150)]))
    remaining = iter([900_000, 30_000])  # started; the margin is reached after the first batch
    stopped = services.scheduled_validation().run(lambda: next(remaining, 30_000))
    assert (stopped.reconciled, stopped.complete) == ([], False)
    assert "2026-11-22-legacy.csv.json" not in bucket.keys("reports/")
    assert bucket.keys("incoming/") == ["2026-11-22-legacy.csv"]
    assert services.scheduled_validation().run(plenty).reconciled == ["2026-11-22-legacy.csv"]
