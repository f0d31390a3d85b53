"""Provider sync against the emulator: events fetched by the providers' SDKs from a local
stand-in of their events APIs, several pages, some of them already delivered as webhooks."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from chalicelib.domain.transaction import merge_event
from chalicelib.providers.registry import ProviderRegistry
from chalicelib.providers.base import WebhookRequest
from local.provider_events.square_events import SquareEvents
from local.provider_events.stripe_events import StripeEvents
from tests.support.provider_api import ProviderApi, serving
from tests.support.signing import fixture_bytes, square_headers, stripe_event, stripe_headers
from tests.unit.local.test_provider_events import SQUARE_KEY, STRIPE_KEY
from tests.integration.services.test_ingest import lifecycle

SINCE = datetime(2026, 1, 1, tzinfo=timezone.utc)
STRIPE_FIXTURES = ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded",
                   "charge.dispute.created")


def stripe_history() -> list[bytes]:
    """Ten events of three payments, one of them not about a payment at all."""
    ignored = stripe_event("evt_customer", "customer.created", 1767261700, {"id": "cus_1", "object": "customer"})
    return [*(fixture_bytes("stripe", name) for name in STRIPE_FIXTURES), *lifecycle("pi_sync"), ignored]


def run(services, source, provider: str):
    pages: list[int] = []
    report = services.provider_sync_service().sync(
        provider, source.pages(SINCE), on_page=lambda progress: pages.append(progress.page))
    return report, pages


def expected_state(provider: str, bodies: list[bytes]) -> dict:
    """Each payment as the pure merge makes it from all its events, whatever their order."""
    parser = ProviderRegistry().get(provider)
    merged: dict = {}
    for body in bodies:
        event = parser.parse(WebhookRequest.of(body, {}))[0].event
        if event.describes_payment:
            merged[event.payment_id] = merge_event(
                merged.get(event.payment_id), event, datetime.now(timezone.utc)).transaction
    return {payment: txn.summary() for payment, txn in merged.items()}


def test_a_stripe_sync_over_several_pages_stores_what_is_missing_and_doubles_nothing(services) -> None:
    history = stripe_history()
    delivered = [history[0], history[4], history[6]]  # arrived as webhooks before the sync
    for body in delivered:
        services.ingest_service().receive("stripe", body, stripe_headers(body))
    served = ProviderApi({"stripe": STRIPE_KEY}, {"stripe": [json.loads(body) for body in history]}, page_size=3)
    with serving(served) as server:
        source = StripeEvents(STRIPE_KEY, base_url=server.base_url, page_size=3)
        report, pages = run(services, source, "stripe")
        rerun, _ = run(services, source, "stripe")

    assert pages == [1, 2, 3, 4] and (report.pages, report.events) == (4, 10)
    assert (report.new, report.duplicate, report.ignored, report.refused) == (10 - len(delivered), len(delivered), 1, [])
    assert report.applied > 0 and report.applied + report.stale == report.new - 1
    assert (rerun.events, rerun.duplicate) == (10, 10)
    for payment, summary in expected_state("stripe", history).items():
        stored = services.transactions().get("stripe", payment)
        assert stored.summary() == summary
        assert len(stored.events) == len({r.event_id for r in stored.events})  # nothing doubled
    assert services.events().get("stripe", "evt_customer") is not None


def test_a_webhook_arriving_after_the_sync_is_a_duplicate(services) -> None:
    body = lifecycle("pi_late")[2]
    with serving(ProviderApi({"stripe": STRIPE_KEY}, {"stripe": [json.loads(body)]})) as server:
        report, _ = run(services, StripeEvents(STRIPE_KEY, base_url=server.base_url), "stripe")
    assert (report.new, report.applied) == (1, 1)
    receipt = services.ingest_service().receive("stripe", body, stripe_headers(body))
    assert receipt.events[0].outcome.value == "duplicate"


def test_an_event_the_webhook_path_refuses_is_reported_and_the_others_still_land(services) -> None:
    good, bad = json.loads(lifecycle("pi_ok")[0]), json.loads(lifecycle("pi_bad")[1])
    bad["data"]["object"]["amount"] = "twenty"
    with serving(ProviderApi({"stripe": STRIPE_KEY}, {"stripe": [good, bad]}, page_size=1)) as server:
        report, _ = run(services, StripeEvents(STRIPE_KEY, base_url=server.base_url, page_size=1), "stripe")
    assert (report.new, report.applied) == (1, 1)
    assert report.refused == [{"id": bad["id"], "error": "data.object.amount: must be an integer amount "
                                                          "in minor units, not a string"}]
    assert services.transactions().get("stripe", "pi_bad") is None


def square_history() -> list[bytes]:
    """Square's own examples, and the same payment's later versions under new event ids."""
    created, updated = (json.loads(fixture_bytes("square", name)) for name in ("payment.created", "payment.updated"))
    later = []
    for n in range(3):
        event = json.loads(json.dumps(updated))
        event["event_id"] = f"sq-later-{n}"
        event["created_at"] = f"2020-02-06T21:3{n}:00.000Z"
        event["data"]["object"]["payment"]["version"] = n + 1
        later.append(event)
    refund = json.loads(fixture_bytes("square", "refund.created"))  # PENDING: ignored
    return [json.dumps(e).encode() for e in (created, updated, *later, refund)]


def test_a_square_sync_over_several_pages_dedupes_against_delivered_webhooks(services) -> None:
    history = square_history()
    delivered = history[1]
    services.ingest_service().receive("square", delivered, square_headers(delivered))
    served = ProviderApi({"square": SQUARE_KEY}, {"square": [json.loads(body) for body in history]}, page_size=2)
    since = datetime(2020, 2, 6, tzinfo=timezone.utc)
    with serving(served) as server:
        source = SquareEvents(SQUARE_KEY, base_url=server.base_url, page_size=2)
        report = services.provider_sync_service().sync("square", source.pages(since))
        rerun = services.provider_sync_service().sync("square", source.pages(since))

    assert (report.pages, report.events, report.new, report.duplicate, report.ignored) == (3, 6, 5, 1, 1)
    assert report.applied + report.stale == 4 and report.refused == []
    assert (rerun.events, rerun.duplicate) == (6, 6)
    for payment, summary in expected_state("square", history).items():
        stored = services.transactions().get("square", payment)
        assert stored.summary() == summary and len(stored.events) == 5
