"""Putting feed events on the bus: requests within PutEvents' limits, refused entries put
again, and the answer a publisher reports from (botocore's Stubber stands in for the bus:
no AWS, every request checked against the service model)."""
from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.domain.feed import FeedEvent
from chalicelib.storage.event_bus import MAX_REQUEST_BYTES, ChangeFeedBus, entry_size

BUS = "payment-webhooks-test"


def event(n: int, padding: int = 0) -> FeedEvent:
    return FeedEvent("payment.updated", {"id": f"stripe/pi_{n}/1", "version": 1, "pad": "x" * padding}, str(100 + n))


def entry(e: FeedEvent) -> dict[str, str]:
    return {"Source": "payment-webhooks", "DetailType": e.detail_type,
            "Detail": json.dumps(e.detail, separators=(",", ":")), "EventBusName": BUS}


def taken(count: int) -> dict[str, Any]:
    return {"FailedEntryCount": 0, "Entries": [{"EventId": f"id-{i}"} for i in range(count)]}


@pytest.fixture
def stubbed() -> tuple[ChangeFeedBus, Stubber, list[float]]:
    client = boto3.client("events", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    pauses: list[float] = []
    return ChangeFeedBus(client, BUS, sleep=pauses.append), Stubber(client), pauses


def test_events_go_in_order_ten_to_a_request(stubbed) -> None:
    bus, stub, _ = stubbed
    events = [event(n) for n in range(23)]
    for start, count in ((0, 10), (10, 10), (20, 3)):
        stub.add_response("put_events", taken(count), {"Entries": [entry(e) for e in events[start:start + count]]})
    with stub:
        assert bus.put(events) == 23
    stub.assert_no_pending_responses()


def test_a_request_never_carries_more_than_256_kb(stubbed) -> None:
    bus, stub, _ = stubbed
    events = [event(n, padding=100_000) for n in range(3)]
    assert sum(entry_size(entry(e)) for e in events[:2]) <= MAX_REQUEST_BYTES < sum(entry_size(entry(e)) for e in events)
    stub.add_response("put_events", taken(2), {"Entries": [entry(e) for e in events[:2]]})
    stub.add_response("put_events", taken(1), {"Entries": [entry(events[2])]})
    with stub:
        assert bus.put(events) == 3


def test_entries_the_bus_refuses_are_put_again_alone_after_a_pause(stubbed) -> None:
    bus, stub, pauses = stubbed
    events = [event(n) for n in range(3)]
    stub.add_response("put_events", {"FailedEntryCount": 1, "Entries": [
        {"EventId": "a"}, {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}, {"EventId": "c"}]},
        {"Entries": [entry(e) for e in events]})
    stub.add_response("put_events", taken(1), {"Entries": [entry(events[1])]})
    with stub:
        assert bus.put(events) == 3
    assert len(pauses) == 1


def test_a_request_that_fails_as_a_whole_is_sent_again(stubbed) -> None:
    bus, stub, _ = stubbed
    events = [event(0)]
    stub.add_client_error("put_events", "InternalException", http_status_code=500)
    stub.add_response("put_events", taken(1), {"Entries": [entry(events[0])]})
    with stub:
        assert bus.put(events) == 1


def test_an_entry_refused_every_time_answers_how_many_came_before_it_and_sends_nothing_after(stubbed) -> None:
    bus, stub, pauses = stubbed
    events = [event(n) for n in range(12)]
    refused = {"ErrorCode": "InternalFailure", "ErrorMessage": "no"}
    stub.add_response("put_events", {"FailedEntryCount": 1, "Entries": [
        *({"EventId": str(i)} for i in range(4)), refused, *({"EventId": str(i)} for i in range(5, 10))]},
        {"Entries": [entry(e) for e in events[:10]]})
    for _ in range(4):
        stub.add_response("put_events", {"FailedEntryCount": 1, "Entries": [refused]}, {"Entries": [entry(events[4])]})
    with stub:
        assert bus.put(events) == 4  # the 11th and 12th events were never sent
    stub.assert_no_pending_responses()
    assert len(pauses) == 4


def test_nothing_to_put_sends_nothing(stubbed) -> None:
    bus, stub, _ = stubbed
    with stub:
        assert bus.put([]) == 0
