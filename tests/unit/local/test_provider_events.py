"""The providers' official SDKs, run against a local stand-in of their events APIs
(tests/support/provider_api.py): the requests they send, the pages they read, and what
they do with a 429 and a refused key. No AWS here."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from local.provider_events import ProviderApiError, UnusableApiKey, source_for
from local.provider_events.square_events import SquareEvents
from local.provider_events.stripe_events import StripeEvents
from tests.support.provider_api import ProviderApi, serving
from tests.support.signing import fixture_bytes

STRIPE_KEY = "sk_test_sync_0123456789"
SQUARE_KEY = "EAAAl-sync-access-token"
SINCE = datetime(2026, 1, 1, tzinfo=timezone.utc)


def stripe_events(count: int) -> list[dict]:
    template = json.loads(fixture_bytes("stripe", "payment_intent.succeeded"))
    return [dict(template, id=f"evt_sync_{n:02d}", created=template["created"] + n) for n in range(count)]


def square_events(count: int) -> list[dict]:
    template = json.loads(fixture_bytes("square", "payment.updated"))
    return [dict(template, event_id=f"sq-evt-{n:02d}", created_at=f"2026-01-0{1 + n // 3}T10:00:0{n % 3}Z")
            for n in range(count)]


def api(**kwargs) -> ProviderApi:
    return ProviderApi({"stripe": STRIPE_KEY, "square": SQUARE_KEY}, **kwargs)


def test_stripe_is_listed_from_since_page_by_page_with_starting_after() -> None:
    events = stripe_events(7)
    with serving(api(events={"stripe": events}, page_size=3)) as server:
        pages = list(StripeEvents(STRIPE_KEY, base_url=server.base_url, page_size=3).pages(SINCE))
    assert [len(page) for page in pages] == [3, 3, 1]
    newest_first = sorted(events, key=lambda e: -e["created"])
    assert [json.loads(e.raw) for page in pages for e in page] == newest_first
    assert [e.event_id for page in pages for e in page] == [e["id"] for e in newest_first]
    asked = [r.params for r in server.requests_of("stripe")]
    assert all(p["created[gte]"] == str(int(SINCE.timestamp())) and p["limit"] == "3" for p in asked)
    assert [p.get("starting_after") for p in asked] == [None, newest_first[2]["id"], newest_first[5]["id"]]


def test_stripe_events_created_before_since_are_not_fetched() -> None:
    old = dict(stripe_events(1)[0], id="evt_old", created=int(SINCE.timestamp()) - 1)
    with serving(api(events={"stripe": [*stripe_events(2), old]})) as server:
        fetched = [e.event_id for page in StripeEvents(STRIPE_KEY, base_url=server.base_url).pages(SINCE)
                   for e in page]
    assert "evt_old" not in fetched and len(fetched) == 2


def test_a_stripe_429_is_retried_with_backoff_until_the_page_comes() -> None:
    pauses: list[float] = []
    with serving(api(events={"stripe": stripe_events(2)}, rate_limit={"stripe": 2})) as server:
        source = StripeEvents(STRIPE_KEY, base_url=server.base_url, sleep=pauses.append)
        pages = list(source.pages(SINCE))
    assert [len(page) for page in pages] == [2]
    assert len(server.requests_of("stripe")) == 3 and len(pauses) == 2


def test_a_stripe_429_that_never_ends_stops_with_a_clear_error() -> None:
    with serving(api(events={"stripe": stripe_events(1)}, rate_limit={"stripe": 100})) as server:
        source = StripeEvents(STRIPE_KEY, base_url=server.base_url, sleep=lambda _: None)
        with pytest.raises(ProviderApiError, match="still rate limited"):
            list(source.pages(SINCE))


def test_a_stripe_key_without_events_access_says_so_without_quoting_stripes_message() -> None:
    restricted = "rk_test_no_events_access_1234"
    with serving(api(events={"stripe": stripe_events(1)}, keys_without_access={restricted})) as server:
        with pytest.raises(ProviderApiError, match="may not read events") as caught:
            list(StripeEvents(restricted, base_url=server.base_url).pages(SINCE))
    assert "1234" not in str(caught.value) and "rk_test" not in str(caught.value)


@pytest.mark.parametrize("key, problem", [("", "not set"), ("pk_test_publishable", "secret key"),
                                          ("whsec_a_webhook_secret", "secret key")])
def test_a_stripe_key_that_cannot_list_events_is_refused_before_any_request(key: str, problem: str) -> None:
    with pytest.raises(UnusableApiKey, match=problem) as caught:
        StripeEvents(key, base_url="http://127.0.0.1:9")
    assert not key or key not in str(caught.value)


def test_the_stripe_base_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(api(events={"stripe": stripe_events(1)})) as server:
        monkeypatch.setenv("STRIPE_API_BASE", server.base_url)
        assert [len(page) for page in StripeEvents(STRIPE_KEY).pages(SINCE)] == [1]


def test_square_is_searched_from_since_oldest_first_following_the_cursor() -> None:
    events = square_events(5)
    with serving(api(events={"square": events}, page_size=2)) as server:
        pages = list(SquareEvents(SQUARE_KEY, base_url=server.base_url, page_size=2).pages(SINCE))
        asked = [r.params for r in server.requests_of("square")]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [json.loads(e.raw) for page in pages for e in page] == events  # as served, field for field
    query = {"filter": {"created_at": {"start_at": "2026-01-01T00:00:00Z"}}, "sort": {"field": "DEFAULT", "order": "ASC"}}
    assert all(p["query"] == query and p["limit"] == 2 for p in asked)
    assert [bool(p.get("cursor")) for p in asked] == [False, True, True]


def test_a_square_event_keeps_fields_its_sdk_does_not_model() -> None:
    event = dict(square_events(1)[0], future_field={"kept": True})
    with serving(api(events={"square": [event]})) as server:
        [[fetched]] = list(SquareEvents(SQUARE_KEY, base_url=server.base_url).pages(SINCE))
    assert json.loads(fetched.raw) == event and fetched.event_id == event["event_id"]


def test_a_square_429_is_retried_by_the_sdk_as_retry_after_says() -> None:
    with serving(api(events={"square": square_events(1)}, rate_limit={"square": 1}, retry_after="1")) as server:
        pages = list(SquareEvents(SQUARE_KEY, base_url=server.base_url).pages(SINCE))
        assert len(server.requests_of("square")) == 2
    assert [len(page) for page in pages] == [1]


def test_a_square_429_beyond_the_retries_stops_with_a_clear_error() -> None:
    with serving(api(events={"square": square_events(1)}, rate_limit={"square": 100}, retry_after="1")) as server:
        with pytest.raises(ProviderApiError, match="still rate limited"):
            list(SquareEvents(SQUARE_KEY, base_url=server.base_url, max_retries=0).pages(SINCE))


@pytest.mark.parametrize("provider, other_key", [("stripe", "sk_test_not_the_right_one"),
                                                 ("square", "EAAAl-not-the-right-token")])
def test_a_refused_key_is_an_error_that_never_shows_the_key(provider: str, other_key: str) -> None:
    events = stripe_events(1) if provider == "stripe" else square_events(1)
    with serving(api(events={provider: events})) as server:
        with pytest.raises(ProviderApiError, match=f"{provider}: the API key was refused") as caught:
            list(source_for(provider)(other_key, base_url=server.base_url).pages(SINCE))
    assert other_key not in str(caught.value)


def test_a_missing_square_key_is_refused_before_any_request() -> None:
    with pytest.raises(UnusableApiKey, match="square.api_key"):
        SquareEvents("")


def test_each_provider_names_its_own_source() -> None:
    assert source_for("stripe") is StripeEvents and source_for("square") is SquareEvents
    with pytest.raises(KeyError):
        source_for("adyen")
