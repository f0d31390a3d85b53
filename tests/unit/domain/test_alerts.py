"""Which change-feed events raise which payment alert, and the message each becomes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.domain.alerts import (
    ALERT_KINDS, PaymentAlert, alerts_for_feed_event, message_attributes, message_body,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def view(status: str = "failed", merchant_id: str | None = "acct_1", risk: dict | None = None) -> dict[str, Any]:
    return {"provider": "stripe", "id": "pi_1", "status": status, "amount": 2000, "currency": "USD",
            "amount_refunded": 0, "merchant_id": merchant_id, "customer_id": "cus_9",
            "payment_method": "card", "created_at": "2026-12-01T11:00:00Z", "risk": risk}


def detail(status: str = "failed", previous: str | None = "pending", **fields: Any) -> dict[str, Any]:
    return {"id": "stripe/pi_1/3", "version": 3, "transaction": view(status, **fields),
            "previous": {"status": previous, "amount_refunded": 0} if previous else None,
            "cause": {"event_id": "evt_1", "type": "payment_intent.payment_failed"}}


HIGH = {"score": 90, "level": "high", "reasons": [{"rule": "amount_over_threshold", "detail": "…"}],
        "assessed_at": "2026-12-01T11:00:01Z"}


@pytest.mark.parametrize(("detail_type", "status", "kind"), [
    ("payment.failed", "failed", "payment_failed"),
    ("payment.disputed", "disputed", "dispute"),
])
def test_a_transaction_that_became_failed_or_disputed_raises_its_alert_keyed_by_transaction(
        detail_type: str, status: str, kind: str) -> None:
    [alert] = alerts_for_feed_event(detail_type, detail(status), NOW)
    assert (alert.kind, alert.key, alert.at) == (kind, "stripe/pi_1", NOW)
    assert (alert.provider, alert.merchant_id, alert.transaction_ref) == ("stripe", "acct_1", "stripe/pi_1")
    assert status in alert.summary and "stripe/pi_1" in alert.summary


def test_the_first_change_of_a_transaction_can_raise_an_alert() -> None:
    assert [a.kind for a in alerts_for_feed_event("payment.failed", detail(previous=None), NOW)] == ["payment_failed"]


def test_a_risk_level_that_became_high_raises_risk_high_naming_its_rules() -> None:
    [alert] = alerts_for_feed_event("payment.risk_flagged", detail("succeeded", risk=HIGH), NOW)
    assert alert.kind == "risk_high" and alert.key == "stripe/pi_1"
    assert "amount_over_threshold" in alert.summary


@pytest.mark.parametrize("detail_type", ["payment.succeeded", "payment.refunded", "payment.updated",
                                         "payment.canceled", "payment.pending", "something.else"])
def test_other_changes_raise_no_alert(detail_type: str) -> None:
    assert alerts_for_feed_event(detail_type, detail("failed", risk=HIGH), NOW) == []


def test_a_change_to_a_transaction_that_was_failed_already_raises_nothing_again() -> None:
    assert alerts_for_feed_event("payment.failed", detail("failed", previous="failed"), NOW) == []


def test_a_detail_type_that_disagrees_with_the_status_raises_nothing() -> None:
    assert alerts_for_feed_event("payment.disputed", detail("succeeded"), NOW) == []
    assert alerts_for_feed_event("payment.risk_flagged", detail("succeeded", risk={**HIGH, "level": "review"}), NOW) == []


def test_an_event_without_a_transaction_raises_nothing() -> None:
    assert alerts_for_feed_event("payment.failed", {"id": "x", "transaction": None}, NOW) == []


def test_the_message_body_has_the_contract_keys_in_order_with_the_view() -> None:
    [alert] = alerts_for_feed_event("payment.failed", detail(), NOW)
    body = message_body(alert)
    assert list(body) == ["kind", "key", "summary", "transaction", "at"]
    assert body["transaction"] == view() and body["at"] == "2026-12-01T12:00:00Z"


def test_message_attributes_carry_kind_and_provider_and_merchant_only_where_known() -> None:
    [alert] = alerts_for_feed_event("payment.failed", detail(), NOW)
    assert message_attributes(alert) == {"kind": "payment_failed", "provider": "stripe", "merchant_id": "acct_1"}
    [anonymous] = alerts_for_feed_event("payment.failed", detail(merchant_id=None), NOW)
    assert message_attributes(anonymous) == {"kind": "payment_failed", "provider": "stripe"}
    report = PaymentAlert("reconciliation_mismatch", "legacy-2026-12-01.csv", "3 differ", NOW)
    assert message_attributes(report) == {"kind": "reconciliation_mismatch"}
    assert message_body(report)["transaction"] is None and report.transaction_ref is None


def test_the_kinds_are_the_five_of_the_contract() -> None:
    assert ALERT_KINDS == ("dispute", "payment_failed", "risk_high", "reconciliation_mismatch", "dead_letter")


@pytest.mark.parametrize("bad", [
    {"kind": "fraud"}, {"key": ""}, {"at": datetime(2026, 12, 1)},
    {"at": datetime(2026, 12, 1, tzinfo=timezone(timedelta(hours=1)))},
])
def test_an_alert_refuses_an_unknown_kind_an_empty_key_or_a_time_not_in_utc(bad: dict[str, Any]) -> None:
    fields: dict[str, Any] = {"kind": "dead_letter", "key": "stream-failures", "summary": "2 records", "at": NOW}
    with pytest.raises(ValueError):
        PaymentAlert(**{**fields, **bad})
