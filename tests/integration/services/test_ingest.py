"""Ingest against the emulator: dedupe, concurrency, failure, and requests per webhook."""
from __future__ import annotations

import itertools
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from chalicelib.domain.transaction import merge_event
from chalicelib.errors import StorageUnavailable
from chalicelib.providers.base import WebhookRequest
from chalicelib.providers.registry import ProviderRegistry
from chalicelib.providers.stripe import StripeProvider
from tests.support.signing import payment_intent, stripe_event, stripe_headers


def receive(services, body: bytes):
    return services.ingest_service().receive("stripe", body, stripe_headers(body))


def outcome(services, body: bytes) -> str:
    return receive(services, body).events[0].outcome.value


def count_requests(services) -> Counter:
    counts: Counter = Counter()
    services.aws_client("dynamodb").meta.events.register(
        "before-call.dynamodb", lambda model, **_: counts.update([model.name]))
    return counts


def lifecycle(intent: str) -> list[bytes]:
    """A realistic history: created, failed attempt, succeeded, partial then full refund."""
    t = 1767261600
    return [
        stripe_event(f"{intent}-1", "payment_intent.created", t, payment_intent(intent, "requires_payment_method")),
        stripe_event(f"{intent}-2", "payment_intent.payment_failed", t + 30, payment_intent(intent, "requires_payment_method")),
        stripe_event(f"{intent}-3", "payment_intent.succeeded", t + 60, payment_intent(intent, "succeeded")),
        stripe_event(f"{intent}-4", "charge.refunded", t + 600, {
            "id": "ch_1", "object": "charge", "amount": 2000, "amount_refunded": 500, "currency": "usd",
            "payment_intent": intent, "created": t + 59, "payment_method_details": {"type": "card"}}),
        stripe_event(f"{intent}-5", "charge.refunded", t + 900, {
            "id": "ch_1", "object": "charge", "amount": 2000, "amount_refunded": 2000, "currency": "usd",
            "payment_intent": intent, "created": t + 59, "payment_method_details": {"type": "card"}}),
    ]


def test_a_conditional_put_dedupes_a_redelivered_event(services) -> None:
    body = lifecycle("pi_d")[0]
    assert [outcome(services, body) for _ in range(3)] == ["applied", "duplicate", "duplicate"]
    assert len(services.transactions().get("stripe", "pi_d").events) == 1


def test_sixteen_concurrent_deliveries_of_one_event_apply_it_exactly_once(services) -> None:
    body = lifecycle("pi_c")[2]
    with ThreadPoolExecutor(16) as pool:
        outcomes = Counter(pool.map(lambda _: outcome(services, body), range(16)))
    assert outcomes == Counter({"applied": 1, "duplicate": 15})
    assert len(services.transactions().get("stripe", "pi_c").events) == 1


def test_concurrent_different_events_of_one_payment_all_land(services) -> None:
    bodies = lifecycle("pi_m")
    with ThreadPoolExecutor(len(bodies)) as pool:
        list(pool.map(lambda body: receive(services, body), bodies))
    stored = services.transactions().get("stripe", "pi_m")
    assert sorted(r.event_id for r in stored.events) == [f"pi_m-{n}" for n in range(1, 6)]
    assert (stored.status.value, stored.amount_refunded) == ("refunded", 2000)


@pytest.mark.parametrize("seed", range(4))
def test_stored_state_matches_the_pure_merge_whatever_the_arrival_order(services, seed: int) -> None:
    bodies = lifecycle(f"pi_o{seed}")
    order = list(itertools.permutations(bodies))[seed * 29 % 120]
    for body in order:
        receive(services, body)
    provider = StripeProvider()
    expected = None
    for body in bodies:
        expected = merge_event(expected, _parse(provider, body), datetime.now(timezone.utc)).transaction
    assert services.transactions().get("stripe", f"pi_o{seed}").summary() == expected.summary()


def _parse(provider: StripeProvider, body: bytes):
    from chalicelib.providers.base import WebhookRequest

    return provider.parse(WebhookRequest.of(body, {}))[0].event


def test_a_new_in_order_event_costs_one_request_and_a_stale_one_falls_back(services) -> None:
    bodies = lifecycle("pi_r")
    counts = count_requests(services)
    receive(services, bodies[0])
    receive(services, bodies[2])
    assert counts == Counter({"TransactWriteItems": 2})
    counts.clear()
    receive(services, bodies[2])
    assert counts == Counter({"TransactWriteItems": 1})
    counts.clear()
    receive(services, bodies[1])
    assert counts == Counter({"TransactWriteItems": 2, "GetItem": 1})


def test_a_storage_failure_is_unavailable_and_stores_nothing(services) -> None:
    from botocore.awsrequest import AWSResponse

    def fail(model, **_):
        return (AWSResponse("", 500, {}, None), {"Error": {"Code": "InternalServerError", "Message": "injected"},
                                       "ResponseMetadata": {"HTTPStatusCode": 500}})

    client = services.aws_client("dynamodb")
    client.meta.events.register("before-call.dynamodb.TransactWriteItems", fail, unique_id="fail")
    body = lifecycle("pi_f")[0]
    with pytest.raises(StorageUnavailable):
        receive(services, body)
    client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="fail")
    assert services.events().get("stripe", "pi_f-1") is None
    assert services.transactions().get("stripe", "pi_f") is None
    assert outcome(services, body) == "applied"  # the provider's retry then lands


def test_unreachable_storage_is_unavailable(services, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    services.reset()
    with pytest.raises(StorageUnavailable):
        receive(services, lifecycle("pi_u")[0])


def test_an_event_accepted_as_verified_is_merged_as_its_webhook_would_be_and_dedupes_against_it(services) -> None:
    delivered, fetched_only = lifecycle("pi_a")[:2]
    assert outcome(services, delivered) == "applied"
    ingest, stripe = services.ingest_service(), ProviderRegistry().get("stripe")

    def accept(body: bytes) -> str:
        parsed = stripe.parse(WebhookRequest.of(body, {}))
        return ingest.accept_verified(parsed, dedupe_forever=stripe.dedupe_forever)[0].outcome.value

    assert accept(delivered) == "duplicate"  # the provider's own id: the webhook already stored it
    assert accept(fetched_only) == "applied"
    assert outcome(services, fetched_only) == "duplicate"  # its webhook arriving late
    assert len(services.transactions().get("stripe", "pi_a").events) == 2
