"""The change feed (docs/api.md section 7) from the emulator's real transactions stream,
through the local poller and the handler the Lambda runs, to the bus, read back as a
downstream team reads it: a rule on the bus targeting its own SQS queue."""
from __future__ import annotations

import itertools
import json
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support.feed import receive_feed, subscribe_queue
from tests.support.signing import payment_intent, stripe_event, stripe_headers
from tests.support.streams import consumer_poller

PUBLISHER = "publish_payment_changes"
T0 = 1767261600  # 2026-01-01T10:00:00Z


def refund(intent: str, event_id: str, at: int, refunded: int) -> bytes:
    return stripe_event(event_id, "charge.refunded", at, {
        "id": f"ch_{intent}", "object": "charge", "amount": 2000, "amount_refunded": refunded,
        "currency": "usd", "payment_intent": intent, "created": T0,
        "payment_method_details": {"type": "card"}})


def lifecycle(intent: str) -> list[bytes]:
    """Created, succeeded, refunded in part, refunded in full: four business changes in order."""
    return [
        stripe_event(f"{intent}_created", "payment_intent.created", T0,
                     payment_intent(intent, "requires_payment_method")),
        stripe_event(f"{intent}_succeeded", "payment_intent.succeeded", T0 + 10,
                     payment_intent(intent, "succeeded")),
        refund(intent, f"{intent}_refund_1", T0 + 600, 500),
        refund(intent, f"{intent}_refund_2", T0 + 1200, 2000),
    ]


def receive(services: Any, body: bytes) -> str:
    return services.ingest_service().receive("stripe", body, stripe_headers(body)).events[0].outcome.value


@pytest.fixture
def feed(aws: Any) -> str:
    """A consumer's queue subscribed to every feed event on the local bus."""
    return subscribe_queue(aws.client("events"), aws.client("sqs"), aws.outputs["ChangeFeedBusName"], "feed-test")


def read(aws: Any, url: str) -> list[dict[str, Any]]:
    return receive_feed(aws.client("sqs"), url)


def view(services: Any, intent: str) -> dict[str, Any]:
    from chalicelib.api.views import transaction

    document = transaction(services.query_service().transaction("stripe", intent))
    document.pop("events")
    return document


def test_a_lifecycle_in_every_order_ends_with_the_final_state_at_the_highest_version(aws, services, feed) -> None:
    applied: Counter = Counter()
    for n, order in enumerate(itertools.permutations(range(3))):
        bodies = lifecycle(f"pi_{n}")[:3]
        for index in order:
            applied[f"pi_{n}"] += receive(services, bodies[index]) == "applied"
    assert consumer_poller(aws, function=PUBLISHER).poll_once() > 0
    by_transaction: dict[str, list[dict]] = {}
    for event in read(aws, feed):
        assert event["source"] == "payment-webhooks"
        by_transaction.setdefault(event["detail"]["transaction"]["id"], []).append(event)
    assert {intent: len(events) for intent, events in by_transaction.items()} == dict(applied)
    for intent, events in by_transaction.items():
        versions = [event["detail"]["version"] for event in events]
        assert versions == sorted(set(versions)), intent  # strictly increasing, as received
        last = events[-1]["detail"]
        assert last["id"] == f"stripe/{intent}/{last['version']}"
        assert last["transaction"] == view(services, intent)
        assert last["transaction"]["status"] == "partially_refunded"
        assert last["transaction"]["amount_refunded"] == 500
        assert events[0]["detail"]["previous"] is None
        assert all(e["detail"]["previous"] is not None for e in events[1:])


def test_each_change_carries_its_detail_type_previous_and_cause(aws, services, feed) -> None:
    for body in lifecycle("pi_1"):
        receive(services, body)
    consumer_poller(aws, function=PUBLISHER).poll_once()
    events = read(aws, feed)
    assert [(e["detail-type"], e["detail"]["previous"], e["detail"]["cause"]) for e in events] == [
        ("payment.pending", None, {"event_id": "pi_1_created", "type": "payment_intent.created"}),
        ("payment.succeeded", {"status": "pending", "amount_refunded": 0},
         {"event_id": "pi_1_succeeded", "type": "payment_intent.succeeded"}),
        ("payment.partially_refunded", {"status": "succeeded", "amount_refunded": 0},
         {"event_id": "pi_1_refund_1", "type": "charge.refunded"}),
        ("payment.refunded", {"status": "partially_refunded", "amount_refunded": 500},
         {"event_id": "pi_1_refund_2", "type": "charge.refunded"}),
    ]
    assert all("events" not in e["detail"]["transaction"] for e in events)


def test_a_redelivered_or_replayed_event_publishes_nothing_new_and_a_stream_retry_the_same_ids(
        aws, services, feed) -> None:
    bodies = lifecycle("pi_1")
    for body in bodies[:2]:
        receive(services, body)
    poller = consumer_poller(aws, function=PUBLISHER)
    poller.poll_once()
    first = [e["detail"]["id"] for e in read(aws, feed)]
    assert first == ["stripe/pi_1/1", "stripe/pi_1/2"]
    assert receive(services, bodies[1]) == "duplicate"
    assert services.replay_service().replay("stripe", "pi_1_succeeded").outcome.value == "stale"
    assert receive(services, bodies[0]) == "duplicate"
    poller.poll_once()
    assert read(aws, feed) == []
    consumer_poller(aws, function=PUBLISHER).poll_once()  # a fresh checkpoint: Lambda's retry
    assert [e["detail"]["id"] for e in read(aws, feed)] == first  # for consumers to drop


def test_archival_publishes_nothing(aws, services, feed) -> None:
    for body in lifecycle("pi_1")[:2]:
        receive(services, body)
    poller = consumer_poller(aws, function=PUBLISHER)
    poller.poll_once()
    read(aws, feed)
    txn = services.transactions().get("stripe", "pi_1")
    from chalicelib.domain.transaction import ArchivePointer

    result = services.archivable().replace_with_archived(
        "stripe", "pi_1", txn.version, ArchivePointer(at=txn.updated_at, object="transactions/x.jsonl.gz"))
    assert result.replaced
    assert poller.poll_once() > 0
    assert read(aws, feed) == []


OK = SimpleNamespace(status_code=200, headers={})
"""The HTTP side of a response a `before-call` handler answers in place of the bus."""


def entries_of(params: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(params["body"])["Entries"]


def test_entries_the_bus_refuses_are_put_again(aws, services, feed) -> None:
    """The first PutEvents takes all entries but the first (a throttled entry, as the bus
    reports it); the publisher puts that one again, and every change arrives once."""
    for body in lifecycle("pi_1"):
        receive(services, body)
    client = services.aws_client("events")
    plain = aws.client("events")
    calls: list[int] = []

    def refuse_the_first_entry_once(params: dict[str, Any], **_: Any) -> Any:
        entries = entries_of(params)
        calls.append(len(entries))
        if len(calls) > 1:
            return None
        taken = plain.put_events(Entries=entries[1:])["Entries"]
        return (OK, {"FailedEntryCount": 1, "Entries": [
                    {"ErrorCode": "ThrottlingException", "ErrorMessage": "injected"}, *taken]})

    client.meta.events.register("before-call.eventbridge.PutEvents", refuse_the_first_entry_once)
    consumer_poller(aws, function=PUBLISHER).poll_once()
    assert calls == [4, 1]
    assert sorted(e["detail"]["version"] for e in read(aws, feed)) == [1, 2, 3, 4]


def test_an_entry_the_bus_keeps_refusing_goes_back_to_lambda_from_its_record_on(aws, services, feed) -> None:
    for body in lifecycle("pi_1"):
        receive(services, body)
    client = services.aws_client("events")
    plain = aws.client("events")
    refusing = [True]

    def refuse_version_3(params: dict[str, Any], **_: Any) -> Any:
        entries = entries_of(params)
        if not refusing[0]:
            return None
        results = []
        for entry in entries:
            if json.loads(entry["Detail"])["version"] == 3:
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "injected"})
            else:
                results.extend(plain.put_events(Entries=[entry])["Entries"])
        failed = sum("ErrorCode" in r for r in results)
        return (OK, {"FailedEntryCount": failed, "Entries": results})

    client.meta.events.register("before-call.eventbridge.PutEvents", refuse_version_3)
    clock = [0.0]
    poller = consumer_poller(aws, function=PUBLISHER, clock=lambda: clock[0])
    handler, answers = poller.handler, []
    poller.handler = lambda event, context: answers.append(handler(event, context)) or answers[-1]
    poller.poll_once()
    records = sequence_numbers(aws)
    assert answers[0]["batchItemFailures"] == [{"itemIdentifier": records["stripe#pi_1", 3]}]
    assert sorted(e["detail"]["version"] for e in read(aws, feed)) == [1, 2, 4]
    refusing[0] = False
    clock[0] += 60  # past the redelivery delay: the stream delivers version 3's record on
    poller.poll_once()
    assert answers[-1]["batchItemFailures"] == []
    assert sorted(e["detail"]["version"] for e in read(aws, feed)) == [3, 4]  # 4 again: same id


def sequence_numbers(aws: Any) -> dict[tuple[str, int], str]:
    """(pk, version) -> the sequence number of the stream record that wrote it."""
    streams = aws.client("dynamodbstreams")
    arn = aws.outputs["TransactionsStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    found = {}
    for record in streams.get_records(ShardIterator=iterator)["Records"]:
        image = record["dynamodb"].get("NewImage", {})
        if "version" in image:
            found[image["pk"]["S"], int(image["version"]["N"])] = record["dynamodb"]["SequenceNumber"]
    return found
