"""GET /admin/alerts (docs/api.md section 9): the most recent alerts, newest first, with a
validated limit."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import wiring
from chalicelib.domain.alerts import PaymentAlert

START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def raise_alerts(count: int) -> None:
    for n in range(count):
        view = {"provider": "stripe", "id": f"pi_{n}", "status": "failed", "amount": 100, "currency": "USD"}
        wiring.alert_raiser().raise_alert(PaymentAlert(
            "payment_failed", f"stripe/pi_{n}", f"Payment stripe/pi_{n} became failed",
            START + timedelta(seconds=n), view, "stripe", None))


def test_alerts_are_listed_newest_first_in_the_contract_shape(client) -> None:
    raise_alerts(3)
    wiring.alert_raiser().raise_alert(PaymentAlert(
        "reconciliation_mismatch", "legacy-2026-12-01.csv", "2 mismatched", START + timedelta(hours=1)))
    response = client.http.get("/admin/alerts?limit=3")
    assert response.status_code == 200
    assert response.json_body == {"items": [
        {"kind": "reconciliation_mismatch", "key": "legacy-2026-12-01.csv", "summary": "2 mismatched",
         "at": "2026-12-01T10:00:00Z", "transaction": None},
        {"kind": "payment_failed", "key": "stripe/pi_2", "summary": "Payment stripe/pi_2 became failed",
         "at": "2026-12-01T09:00:02Z", "transaction": "stripe/pi_2"},
        {"kind": "payment_failed", "key": "stripe/pi_1", "summary": "Payment stripe/pi_1 became failed",
         "at": "2026-12-01T09:00:01Z", "transaction": "stripe/pi_1"},
    ]}


def test_without_a_limit_the_fifty_most_recent_are_listed(client) -> None:
    raise_alerts(52)
    items = client.http.get("/admin/alerts").json_body["items"]
    assert [i["key"] for i in items] == [f"stripe/pi_{n}" for n in range(51, 1, -1)]
    assert len(client.http.get("/admin/alerts?limit=200").json_body["items"]) == 52


def test_no_alerts_yet_is_an_empty_list(client) -> None:
    assert client.http.get("/admin/alerts").json_body == {"items": []}


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc", "limit=-1", "limit=%C2%B2", "limit=",
                                   "cursor=x"])
def test_a_bad_limit_or_an_unknown_parameter_is_an_invalid_request(client, query: str) -> None:
    response = client.http.get(f"/admin/alerts?{query}")
    assert response.status_code == 400
    assert response.json_body["error"] == "invalid_request"
    assert response.json_body["message"].split(":")[0] in {"limit", "cursor"}
