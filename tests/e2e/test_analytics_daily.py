"""`GET /analytics/daily` end to end (contract section 3): webhooks posted through the app,
the stream fed to the app's own handler by the local poller, the figures read back."""
from __future__ import annotations

from tests.support.signing import fixture_bytes, generic_headers, payment_intent, stripe_event, stripe_headers
from tests.support.streams import consumer_poller

JAN_1 = 1767261600  # 2026-01-01T10:00:00Z


def post_stripe(client, body: bytes) -> None:
    assert client.http.post("/webhooks/stripe", headers=stripe_headers(body), body=body).status_code == 200


def feed_stream(aws) -> int:
    return consumer_poller(aws).poll_once()


def test_posted_payments_are_counted_per_day_provider_and_currency(client, aws) -> None:
    post_stripe(client, fixture_bytes("stripe", "payment_intent.succeeded"))    # 2000 USD, 2026-01-01
    post_stripe(client, fixture_bytes("stripe", "charge.refunded"))            # the same payment, refunded
    post_stripe(client, stripe_event("e-2", "payment_intent.succeeded", JAN_1 + 86400,
                                     payment_intent("pi_2", "succeeded", amount=500, created=JAN_1 + 86400)))
    body = fixture_bytes("generic", "payment.succeeded")                        # 12550 EUR, 2026-11-20
    assert client.http.post("/webhooks/generic", headers=generic_headers(body, "msg_1"), body=body).status_code == 200
    assert feed_stream(aws) > 0

    response = client.http.get("/analytics/daily?from=2026-01-01&to=2026-12-31")
    assert response.status_code == 200
    assert response.json_body == {"days": [
        {"date": "2026-01-01", "provider": "stripe", "currency": "USD", "count": 1,
         "by_status": {"refunded": 1}, "gross_volume": 2000, "refunded_volume": 2000, "net_volume": 0},
        {"date": "2026-01-02", "provider": "stripe", "currency": "USD", "count": 1,
         "by_status": {"succeeded": 1}, "gross_volume": 500, "refunded_volume": 0, "net_volume": 500},
        {"date": "2026-11-20", "provider": "generic", "currency": "EUR", "count": 1,
         "by_status": {"succeeded": 1}, "gross_volume": 12550, "refunded_volume": 0, "net_volume": 12550},
    ]}
    only = client.http.get("/analytics/daily?from=2026-01-02&to=2026-11-20&provider=generic&currency=EUR")
    assert [row["date"] for row in only.json_body["days"]] == ["2026-11-20"]


def test_redelivered_webhooks_and_a_replayed_stream_leave_the_figures_alone(client, aws) -> None:
    body = fixture_bytes("stripe", "payment_intent.succeeded")
    post_stripe(client, body)
    post_stripe(client, body)  # duplicate
    feed_stream(aws)
    feed_stream(aws)  # a poller without its checkpoint reads everything again
    days = client.http.get("/analytics/daily?from=2026-01-01&to=2026-01-01").json_body["days"]
    assert [(d["count"], d["gross_volume"]) for d in days] == [(1, 2000)]


def test_a_range_with_no_transactions_is_an_empty_list(client) -> None:
    response = client.http.get("/analytics/daily?from=2020-01-01&to=2020-12-31")
    assert (response.status_code, response.json_body) == (200, {"days": []})


def test_a_reversed_or_too_long_range_is_a_400_in_the_contract_shape(client) -> None:
    for query in ("from=2026-02-01&to=2026-01-01", "from=2025-01-01&to=2026-01-02", "from=2026-01-01",
                  "from=2026-01-01&to=2026-01-02&provider=worldpay", "from=yesterday&to=2026-01-01"):
        response = client.http.get(f"/analytics/daily?{query}")
        assert response.status_code == 400, query
        assert response.json_body["error"] == "invalid_request" and response.json_body["message"]


def test_the_stream_handler_answers_batch_item_failures_for_an_unreadable_record(client) -> None:
    event = {"Records": [{"eventID": "1", "eventName": "INSERT", "eventVersion": "1.1",
                          "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                          "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
                          "dynamodb": {"ApproximateCreationDateTime": JAN_1, "SequenceNumber": "42",
                                       "SizeBytes": 1, "StreamViewType": "NEW_AND_OLD_IMAGES",
                                       "Keys": {"pk": {"S": "stripe#pi"}},
                                       "NewImage": {"pk": {"S": "stripe#pi"}, "provider": {"S": "stripe"},
                                                    "status": {"S": "lost"}, "amount": {"N": "1"},
                                                    "currency": {"S": "USD"},
                                                    "created_at": {"S": "2026-01-01T00:00:00Z"}}}}]}
    response = client.lambda_.invoke("update_daily_analytics", event)
    assert response.payload == {"batchItemFailures": [{"itemIdentifier": "42"}]}
