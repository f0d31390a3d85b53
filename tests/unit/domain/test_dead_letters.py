"""Reading Lambda's dead letters: a stream consumer's on-failure record and a scheduled
job's failed invocation. Pure."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chalicelib.domain.dead_letters import (
    StreamFailure, UnreadableLetter, arrival_window, failed_job, incident_key, stream_failure,
    stream_failure_record,
)

PREFIX = "payment-webhooks-prod-"
ARN = "arn:aws:lambda:eu-west-1:111122223333:function:payment-webhooks-prod-update_daily_analytics"
FAILURE = StreamFailure("update_daily_analytics", "arn:aws:dynamodb:eu-west-1:111122223333:table/t/stream/x",
                        "shardId-1", "100", "104")


def test_an_on_failure_record_names_its_consumer_and_range() -> None:
    body = json.dumps(stream_failure_record(FAILURE, ARN, 5, "RetryAttemptsExhausted", "2026-01-01T00:00:00Z"))
    assert stream_failure(body, PREFIX) == FAILURE
    assert stream_failure(body.replace("update_daily_analytics", "update_daily_analytics:$LATEST", 1), PREFIX) == FAILURE


@pytest.mark.parametrize("body", [
    "not json", "[]", json.dumps({"requestContext": {"functionArn": ARN}}),
    json.dumps(stream_failure_record(FAILURE, ARN.replace("-prod-", "-dev-"), 1, "x", "t")),
    json.dumps(stream_failure_record(StreamFailure("f", "s", "sh", "9", "1"), ARN, 1, "x", "t")),
    json.dumps(stream_failure_record(FAILURE, "arn:aws:sqs:eu-west-1:1:q", 1, "x", "t")),
], ids=["not json", "not an object", "no batch info", "another stage", "descending range", "not a function"])
def test_a_letter_that_does_not_say_what_to_redrive_is_unreadable(body: str) -> None:
    with pytest.raises(UnreadableLetter):
        stream_failure(body, PREFIX)


def test_a_failed_scheduled_run_names_its_job_by_its_rule() -> None:
    event = {"source": "aws.events", "resources": [
        "arn:aws:events:eu-west-1:111122223333:rule/payment-webhooks-prod-archive_transactions-event"]}
    assert failed_job(json.dumps(event), PREFIX) == ("archive_transactions", event)
    with pytest.raises(UnreadableLetter):
        failed_job(json.dumps({"resources": ["arn:aws:events:x:1:rule/other-event"]}), PREFIX)


def test_an_incident_key_is_the_queue_and_when_it_opened() -> None:
    assert incident_key("stream-failures", "2026-01-01T10:00:00Z") == "stream-failures/2026-01-01T10:00:00Z"


def test_an_on_failure_record_says_when_its_records_reached_the_stream() -> None:
    record = stream_failure_record(FAILURE, ARN, 5, "RetryAttemptsExhausted", "2026-01-01T00:00:00Z")
    record["DDBStreamBatchInfo"]["approximateArrivalOfLastRecord"] = "2026-01-01T00:00:07.250Z"  # Lambda's form
    assert arrival_window(json.dumps(record)) == (datetime(2026, 1, 1, tzinfo=timezone.utc),
                                                 datetime(2026, 1, 1, 0, 0, 7, 250000, tzinfo=timezone.utc))
    del record["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"]
    with pytest.raises(UnreadableLetter):
        arrival_window(json.dumps(record))
