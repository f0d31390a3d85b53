"""Analytics fed from the emulator's real transactions stream, through the local poller and
the handler the Lambda runs: moto's stream quirks (a keys-only INSERT before the full one,
an identical re-put as MODIFY, no eventSourceARN) must not change the figures."""
from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from chalicelib.services.analytics import DailyQuery
from tests.support.signing import payment_intent, stripe_event, stripe_headers
from tests.support.streams import consumer_poller

JAN_1 = 1767261600  # 2026-01-01T10:00:00Z


def receive(services, body: bytes) -> str:
    return services.ingest_service().receive("stripe", body, stripe_headers(body)).events[0].outcome.value


def rows(services, first: str = "2026-01-01", last: str = "2026-01-31", **filters) -> list[dict]:
    from chalicelib.api.analytics import daily_view

    query = DailyQuery(date.fromisoformat(first), date.fromisoformat(last), **filters)
    return daily_view(services.analytics_service().daily(query))["days"]


def refund(intent: str, event_id: str, at: int, refunded: int, amount: int = 2000) -> bytes:
    return stripe_event(event_id, "charge.refunded", at, {
        "id": f"ch_{intent}", "object": "charge", "amount": amount, "amount_refunded": refunded,
        "currency": "usd", "payment_intent": intent, "created": JAN_1,
        "payment_method_details": {"type": "card"}})


def test_payments_posted_through_ingest_show_up_in_the_daily_figures(aws, services) -> None:
    receive(services, stripe_event("e1", "payment_intent.succeeded", JAN_1, payment_intent("pi_1", "succeeded")))
    receive(services, stripe_event("e2", "payment_intent.payment_failed", JAN_1 + 5,
                                   payment_intent("pi_2", "requires_payment_method", amount=700)))
    receive(services, refund("pi_1", "e3", JAN_1 + 600, 500))
    assert consumer_poller(aws).poll_once() > 0
    assert rows(services) == [{
        "date": "2026-01-01", "provider": "stripe", "currency": "USD", "count": 2,
        "by_status": {"failed": 1, "partially_refunded": 1}, "gross_volume": 2000,
        "refunded_volume": 500, "net_volume": 1500,
    }]


def test_reading_the_whole_stream_again_from_the_start_changes_nothing(aws, services) -> None:
    for n in range(5):
        receive(services, stripe_event(f"e{n}", "payment_intent.succeeded", JAN_1 + n,
                                       payment_intent(f"pi_{n}", "succeeded", amount=100 * (n + 1))))
    consumer_poller(aws).poll_once()
    before = rows(services)
    assert consumer_poller(aws).poll_once() > 0  # a fresh checkpoint: every record delivered again
    assert rows(services) == before
    assert before[0]["count"] == 5 and before[0]["gross_volume"] == 1500


def test_a_batch_writes_at_most_once_per_bucket_it_changes(aws, services) -> None:
    for n in range(30):
        receive(services, stripe_event(f"e{n}", "payment_intent.succeeded", JAN_1 + 86400 * (n % 3),
                                       payment_intent(f"pi_{n}", "succeeded", created=JAN_1 + 86400 * (n % 3))))
    calls: Counter = Counter()
    services.aws_client("dynamodb").meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    consumer_poller(aws, batch_size=1000).poll_once()
    assert calls == Counter({"UpdateItem": 3})
    assert [(r["date"], r["count"]) for r in rows(services)] == [
        ("2026-01-01", 10), ("2026-01-02", 10), ("2026-01-03", 10)]


def test_a_handler_failure_is_retried_from_the_failed_record_without_double_counting(aws, services) -> None:
    for n in range(4):
        receive(services, stripe_event(f"e{n}", "payment_intent.succeeded", JAN_1 + 86400 * n,
                                       payment_intent(f"pi_{n}", "succeeded", created=JAN_1 + 86400 * n)))
    client = services.aws_client("dynamodb")
    writes = Counter()

    def fail_the_third_bucket_write(model, **_):
        if model.name == "UpdateItem":
            writes["n"] += 1
            if writes["n"] == 3:
                return ({"ResponseMetadata": {"HTTPStatusCode": 400}},
                        {"Error": {"Code": "ValidationException", "Message": "injected"}})
        return None

    client.meta.events.register("before-call.dynamodb.UpdateItem", fail_the_third_bucket_write)
    clock = [0.0]
    feeder = consumer_poller(aws, clock=lambda: clock[0])
    feeder.poll_once()
    assert [r["date"] for r in rows(services)] == ["2026-01-01", "2026-01-02", "2026-01-04"]
    clock[0] += 60  # past the retry backoff: records from the 3rd day's on come again
    feeder.poll_once()
    assert [(r["date"], r["count"]) for r in rows(services)] == [
        ("2026-01-01", 1), ("2026-01-02", 1), ("2026-01-03", 1), ("2026-01-04", 1)]


@pytest.mark.parametrize("query, expected", [
    ({"provider": "generic"}, []),
    ({"currency": "EUR"}, []),
    ({"provider": "stripe", "currency": "USD"}, [("2026-01-01", "USD")]),
])
def test_rows_can_be_filtered_by_provider_and_currency(aws, services, query, expected) -> None:
    receive(services, stripe_event("e1", "payment_intent.succeeded", JAN_1, payment_intent("pi_1", "succeeded")))
    consumer_poller(aws).poll_once()
    assert [(r["date"], r["currency"]) for r in rows(services, **query)] == expected
