"""Payment alerts (docs/api.md section 9): what an alert is, and which feed events raise one.

An alert is one incident worth a person's attention, named by `kind` and `key`: the same
(kind, key) is one incident however often the events behind it are redelivered or
replayed, so the key is what makes an alert once-only. For a transaction the key is
`<provider>/<id>`; reconciliation uses the export's name, dead letters the queue's.

Pure: the caller passes `now`; nothing here reads a clock, the environment or AWS."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.timestamps import format_iso

DISPUTE = "dispute"
PAYMENT_FAILED = "payment_failed"
RISK_HIGH = "risk_high"
RECONCILIATION_MISMATCH = "reconciliation_mismatch"
DEAD_LETTER = "dead_letter"
ALERT_KINDS: tuple[str, ...] = (DISPUTE, PAYMENT_FAILED, RISK_HIGH, RECONCILIATION_MISMATCH, DEAD_LETTER)

# The feed's detail-types (docs/api.md section 7) that can raise a transaction's alert.
FEED_ALERTS: dict[str, str] = {
    "payment.disputed": DISPUTE,
    "payment.failed": PAYMENT_FAILED,
    "payment.risk_flagged": RISK_HIGH,
}
_BECAME = {DISPUTE: "disputed", PAYMENT_FAILED: "failed"}


@dataclass(frozen=True)
class PaymentAlert:
    """`transaction` is the GET /transactions view without `events` when the alert is
    about one transaction, else None; `provider` and `merchant_id` become the message
    attributes subscribers filter on, so they are given only where known."""

    kind: str
    key: str
    summary: str
    at: datetime
    transaction: Mapping[str, Any] | None = None
    provider: str | None = None
    merchant_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ALERT_KINDS:
            raise ValueError(f"unknown alert kind {self.kind!r}")
        if not self.key:
            raise ValueError("an alert needs a key")
        if self.at.utcoffset() != timedelta(0):  # naive datetimes have None
            raise ValueError("an alert's time must be an aware UTC datetime")

    @property
    def transaction_ref(self) -> str | None:
        """`<provider>/<id>` of the transaction it is about, as GET /admin/alerts lists it."""
        if self.transaction is None:
            return None
        return transaction_key(self.transaction)


def transaction_key(view: Mapping[str, Any]) -> str:
    return f"{view['provider']}/{view['id']}"


def message_body(alert: PaymentAlert) -> dict[str, Any]:
    """The SNS message body, in the contract's key order."""
    return {
        "kind": alert.kind, "key": alert.key, "summary": alert.summary,
        "transaction": dict(alert.transaction) if alert.transaction is not None else None,
        "at": format_iso(alert.at),
    }


def message_attributes(alert: PaymentAlert) -> dict[str, str]:
    """`kind` always; `provider` and `merchant_id` only where known (SNS refuses empty
    attribute values, and a filter on an absent attribute simply does not match)."""
    attributes = {"kind": alert.kind}
    if alert.provider:
        attributes["provider"] = alert.provider
    if alert.merchant_id:
        attributes["merchant_id"] = alert.merchant_id
    return attributes


def alerts_for_feed_event(detail_type: str, detail: Mapping[str, Any], now: datetime) -> list[PaymentAlert]:
    """The alerts one change-feed event raises: a transaction that became `disputed` or
    `failed` (the change set that status: its detail-type says so, and `previous` shows it
    was not that already), or whose risk level became `high` (`payment.risk_flagged`).
    Every other event raises nothing. Redeliveries raise the same alerts again; the
    (kind, key) dedupe downstream makes them one incident."""
    kind = FEED_ALERTS.get(detail_type)
    view = detail.get("transaction")
    if kind is None or not isinstance(view, Mapping):
        return []
    if kind in _BECAME:
        previous = detail.get("previous") or {}
        if view.get("status") != _BECAME[kind] or previous.get("status") == _BECAME[kind]:
            return []
    elif (view.get("risk") or {}).get("level", "high") != "high":
        return []
    key = transaction_key(view)
    return [PaymentAlert(
        kind=kind, key=key, summary=_summary(kind, key, view), at=now, transaction=view,
        provider=view.get("provider"), merchant_id=view.get("merchant_id"),
    )]


def _summary(kind: str, key: str, view: Mapping[str, Any]) -> str:
    money = f"{view.get('amount')} {view.get('currency')}" if view.get("currency") else "amount unknown"
    merchant = f", merchant {view['merchant_id']}" if view.get("merchant_id") else ""
    if kind == RISK_HIGH:
        reasons = ", ".join(r.get("rule", "?") for r in (view.get("risk") or {}).get("reasons", []))
        return f"Payment {key} ({money}{merchant}) is high risk" + (f": {reasons}" if reasons else "")
    return f"Payment {key} ({money}{merchant}) became {_BECAME[kind]}"
