"""POST /admin/replay (docs/api.md section 11): every stored event of a provider received
in a range, replayed through the merge rule; dry runs write nothing; bounded requests
continue with a cursor; bad requests are 400 naming the field."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import wiring
from chalicelib.services.bulk_replay import BulkReplay
from tests.support.signing import payment_intent, stripe_event, stripe_headers

JAN_1 = 1767261600
RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def received_at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Webhooks from now on are received at `moment` (the ingest service's clock)."""
    monkeypatch.setattr(wiring, "utc_now", lambda: moment)
    wiring.reset()


def post(client, event_id: str, intent: str, at: datetime) -> None:
    body = stripe_event(event_id, "payment_intent.succeeded", JAN_1, payment_intent(intent, "succeeded"))
    headers = stripe_headers(body, timestamp=int(at.timestamp()))  # signed when it is received
    assert client.http.post("/webhooks/stripe", headers=headers, body=body).status_code == 200


def lose_transaction(aws, intent: str) -> None:
    """The effect of an event lost (a mapping bug, say): what a replay after the fix repairs."""
    aws.client("dynamodb").delete_item(TableName=aws.outputs["TransactionsTableName"],
                                       Key={"pk": {"S": f"stripe#{intent}"}})


def replay(client, **body) -> tuple[int, dict]:
    import json

    response = client.http.post("/admin/replay", headers={"Content-Type": "application/json"},
                                body=json.dumps(body).encode())
    return response.status_code, response.json_body


def table_items(aws) -> dict[str, list]:
    ddb = aws.client("dynamodb")
    return {name: sorted(map(str, ddb.scan(TableName=aws.outputs[name], ConsistentRead=True)["Items"]))
            for name in ("TransactionsTableName", "EventsTableName")}


@pytest.fixture
def stored(aws, client, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four stripe events received across the range, two of whose effects were lost, and
    one received a day later (outside it)."""
    for minute, n in ((0, 1), (10, 2), (20, 3), (30, 4)):
        received_at(monkeypatch, RECEIVED + timedelta(minutes=minute))
        post(client, f"evt_bulk_{n}", f"pi_bulk_{n}", RECEIVED + timedelta(minutes=minute))
    received_at(monkeypatch, RECEIVED + timedelta(days=1))
    post(client, "evt_bulk_late", "pi_bulk_late", RECEIVED + timedelta(days=1))
    lose_transaction(aws, "pi_bulk_2")
    lose_transaction(aws, "pi_bulk_4")
    lose_transaction(aws, "pi_bulk_late")


RANGE = {"provider": "stripe", "from": "2026-03-01T11:59:00Z", "to": "2026-03-01T12:40:00Z"}


def test_a_replay_over_a_range_applies_the_lost_events_and_finds_the_rest_stale(aws, client, stored) -> None:
    assert replay(client, **RANGE) == (200, {"matched": 4, "applied": 2, "stale": 2, "complete": True})
    assert client.http.get("/transactions/stripe/pi_bulk_2").status_code == 200
    assert client.http.get("/transactions/stripe/pi_bulk_4").status_code == 200
    assert client.http.get("/transactions/stripe/pi_bulk_late").status_code == 404  # outside the range
    assert replay(client, **RANGE) == (200, {"matched": 4, "applied": 0, "stale": 4, "complete": True})


def test_a_dry_run_counts_what_a_replay_would_do_and_writes_nothing(aws, client, stored) -> None:
    before = table_items(aws)
    assert replay(client, **RANGE, dry_run=True) == (200, {"matched": 4, "applied": 2, "stale": 2, "complete": True})
    assert table_items(aws) == before


def test_a_request_out_of_time_continues_with_its_cursor_to_the_same_totals(aws, stored) -> None:
    from chalicelib.services.bulk_replay import BulkReplayService
    from chalicelib.services.cursor import CursorCodec

    ticks = iter(range(10**6))
    service = BulkReplayService(  # each clock read is a second later; a request may take 2.5
        wiring.providers().get, wiring.events(), wiring.replay_service(), CursorCodec(lambda: [b"k" * 32]),
        budget_seconds=2.5, monotonic=lambda: float(next(ticks)))
    request = BulkReplay("stripe", RECEIVED - timedelta(minutes=1), RECEIVED + timedelta(minutes=40), False)
    totals, requests = {"matched": 0, "applied": 0, "stale": 0}, 0
    while True:
        report = service.run(request)
        requests += 1
        for field in totals:
            totals[field] += getattr(report, field)
        if report.complete:
            break
        request = BulkReplay(request.provider, request.start, request.end, False, report.cursor)
    assert totals == {"matched": 4, "applied": 2, "stale": 2} and requests > 1


@pytest.mark.parametrize("body, field", [
    ({"provider": "stripe", "from": "2026-03-01T13:00:00Z", "to": "2026-03-01T12:00:00Z"}, "to"),
    ({"provider": "stripe", "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:01Z"}, "to"),
    ({"provider": "stripe", "to": "2026-03-01T12:00:00Z"}, "from"),
    ({"provider": "stripe", "from": "2026-03-01T12:00:00+02:00", "to": "2026-03-01T13:00:00Z"}, "from"),
    ({"provider": "stripe", "from": "yesterday", "to": "2026-03-01T13:00:00Z"}, "from"),
    ({"from": "2026-03-01T12:00:00Z", "to": "2026-03-01T13:00:00Z"}, "provider"),
    ({**RANGE, "dry_run": "yes"}, "dry_run"),
    ({**RANGE, "since": "x"}, "since"),
    ({**RANGE, "cursor": "forged.cursor"}, "cursor"),
], ids=["to before from", "more than 31 days", "no from", "not UTC", "not a timestamp", "no provider",
        "dry_run not a boolean", "unknown field", "forged cursor"])
def test_a_bad_replay_request_is_400_naming_the_field(client, body: dict, field: str) -> None:
    status, answer = replay(client, **body)
    assert (status, answer["error"]) == (400, "invalid_request")
    assert answer["message"].startswith(f"{field}:")


def test_a_body_that_is_not_json_is_400(client) -> None:
    response = client.http.post("/admin/replay", headers={"Content-Type": "application/json"}, body=b"{nope")
    assert response.status_code == 400 and response.json_body["message"].startswith("body:")


def test_an_unknown_provider_is_404(client) -> None:
    status, answer = replay(client, **{**RANGE, "provider": "acme"})
    assert (status, answer["error"]) == (404, "unknown_provider")


def test_exactly_31_days_is_allowed(client) -> None:
    status, answer = replay(client, provider="stripe", **{"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"})
    assert (status, answer) == (200, {"matched": 0, "applied": 0, "stale": 0, "complete": True})
