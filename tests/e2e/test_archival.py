"""Archival through the app: the scheduled handler, then the API and late webhooks
(contract sections 2 and 4)."""
from __future__ import annotations

import time
from functools import partial

import chalice.test
import pytest
from chalice.local import LambdaContext

from tests.support.signing import fixture_bytes, payment_intent, stripe_event, stripe_headers

PI = "pi_3QkAcmeKit7Zx1aP3RjdmSlP"  # created 2026-01-01: long past the 30 days


@pytest.fixture(autouse=True)
def lambda_timeout(monkeypatch) -> None:
    """The test client's Lambda context allows 3 s; the deployed function has 900 s."""
    monkeypatch.setattr(chalice.test, "LambdaContext", partial(LambdaContext, max_runtime_ms=900_000))


def post_stripe(client, body: bytes) -> str:
    response = client.http.post("/webhooks/stripe", headers=stripe_headers(body), body=body)
    assert response.status_code == 200, response.body
    return response.json_body["events"][0]["outcome"]


def run_archival(client) -> dict:
    event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    return client.lambda_.invoke("archive_transactions", event).payload


def test_an_archived_transaction_still_answers_and_late_refunds_and_disputes_update_it(client) -> None:
    assert post_stripe(client, fixture_bytes("stripe", "payment_intent.succeeded")) == "applied"
    recent = stripe_event("evt_recent", "payment_intent.succeeded", int(time.time()) - 60,
                          payment_intent("pi_recent", "succeeded", created=int(time.time()) - 120))
    assert post_stripe(client, recent) == "applied"
    before = client.http.get(f"/transactions/stripe/{PI}").json_body

    report = run_archival(client)

    assert (report["archived"], report["items_read"], report["complete"]) == (1, 1, True)
    archived = client.http.get(f"/transactions/stripe/{PI}").json_body
    assert archived["archived"]["object"].endswith(
        "/transactions/provider=stripe/dt=2026-01-01/part-00000.jsonl.gz")
    assert archived["events"] == []
    assert {k: v for k, v in archived.items() if k not in ("events", "archived")} == {
        k: v for k, v in before.items() if k != "events"}
    assert "archived" not in client.http.get("/transactions/stripe/pi_recent").json_body

    assert post_stripe(client, fixture_bytes("stripe", "charge.refunded")) == "applied"
    refunded = client.http.get(f"/transactions/stripe/{PI}").json_body
    assert (refunded["status"], refunded["amount_refunded"]) == ("refunded", 2000)
    assert [e["type"] for e in refunded["events"]] == ["charge.refunded"]
    assert refunded["archived"] == archived["archived"]

    dispute = fixture_bytes("stripe", "charge.dispute.created").replace(
        b"pi_3QkAcmeKit7Zx3aAUvFMZ44k", PI.encode())
    assert post_stripe(client, dispute) == "applied"
    disputed = client.http.get(f"/transactions/stripe/{PI}").json_body
    assert disputed["status"] == "disputed" and disputed["archived"] == archived["archived"]

    again = run_archival(client)
    assert (again["items_read"], again["archived"]) == (0, 0)
    listed = client.http.get("/transactions?customer_id=cus_cat9ag498dyT5b").json_body["items"]
    assert [(t["id"], t["status"], "archived" in t) for t in listed] == [(PI, "disputed", True)]


def test_analytics_are_unchanged_by_archival_and_reflect_a_late_refund(client, aws) -> None:
    from tests.support.streams import consumer_poller

    poller = consumer_poller(aws)

    def daily() -> list[dict]:
        poller.poll_once()
        return client.http.get("/analytics/daily?from=2026-01-01&to=2026-01-31").json_body["days"]

    post_stripe(client, fixture_bytes("stripe", "payment_intent.succeeded"))
    before = daily()
    assert [(d["count"], d["gross_volume"], d["by_status"]) for d in before] == [(1, 2000, {"succeeded": 1})]

    assert run_archival(client)["archived"] == 1
    assert daily() == before

    post_stripe(client, fixture_bytes("stripe", "charge.refunded"))
    (after,) = daily()
    assert (after["by_status"], after["refunded_volume"], after["net_volume"]) == ({"refunded": 1}, 2000, 0)
