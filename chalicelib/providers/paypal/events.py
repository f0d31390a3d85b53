"""PayPal webhook events (v2 payments resources) as canonical events (contract section 12).

- `PAYMENT.CAPTURE.COMPLETED` succeeded, `.PENDING` pending, `.DENIED` / `.DECLINED`
  failed: the resource is the capture, whose id is the transaction id; it states the
  payment's amount, currency, creation time and merchant (`payee.merchant_id`).
- `PAYMENT.CAPTURE.REFUNDED`: the resource is the refund; its `up` link names the
  capture. Refunded or partially refunded by the refunded total
  (`seller_payable_breakdown.total_refunded_amount`, when given) against the capture's
  amount; the refund is also counted by its id, so a refund event without the total
  still adds up. A refund PayPal reports as not completed (pending, failed, cancelled)
  moved no money yet: `ignored`.
- `PAYMENT.CAPTURE.REVERSED` (PayPal took the money back): refunded, whatever the amount.
- `CUSTOMER.DISPUTE.CREATED` disputed, on `disputed_transactions[0].seller_transaction_id`
  (a dispute names the captures it is about; PayPal's disputes name one). The disputed
  amount is not the payment's: only its currency is a fact.
- Any other type is stored and `ignored`.

Amounts are decimal strings converted exactly to minor units by the currency's exponent;
more decimals than the currency has is `400 invalid_payload`. Events are ordered by the
event's `create_time`; the event id is its `id`, which a redelivery repeats."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.currencies import InvalidAmount, to_minor_units
from chalicelib.domain.events import CanonicalEvent, PaymentFacts, RefundFact
from chalicelib.domain.status import Status
from chalicelib.errors import InvalidPayload
from chalicelib.providers.payload import MAX_AMOUNT, Fields, build_event

PROVIDER_NAME = "paypal"

_CAPTURE_STATUS = {
    "PAYMENT.CAPTURE.COMPLETED": Status.SUCCEEDED,
    "PAYMENT.CAPTURE.PENDING": Status.PENDING,
    "PAYMENT.CAPTURE.DENIED": Status.FAILED,
    "PAYMENT.CAPTURE.DECLINED": Status.FAILED,
}
REFUNDED = "PAYMENT.CAPTURE.REFUNDED"
REVERSED = "PAYMENT.CAPTURE.REVERSED"
DISPUTE_CREATED = "CUSTOMER.DISPUTE.CREATED"
_CAPTURE_PATH = "/v2/payments/captures/"
_MONEY_MOVED = ("COMPLETED", None)


def canonical_event(root: Fields) -> CanonicalEvent:
    """One PayPal webhook event (already JSON-decoded) as a canonical event."""
    envelope: dict[str, Any] = dict(
        provider=PROVIDER_NAME,
        event_id=root.identifier("id"),
        type=root.text("event_type", required=True),
        occurred_at=root.timestamp("create_time", required=True),
    )
    event_type = envelope["type"]
    if event_type in _CAPTURE_STATUS:
        return _capture_event(envelope, root.object("resource"), _CAPTURE_STATUS[event_type])
    if event_type in (REFUNDED, REVERSED):
        return _refund_event(envelope, root.object("resource"), reversed_=event_type == REVERSED)
    if event_type == DISPUTE_CREATED:
        return _dispute_event(envelope, root.object("resource"))
    return build_event(envelope)


def _capture_event(envelope: dict[str, Any], capture: Fields, status: Status) -> CanonicalEvent:
    amount, currency = money(capture, "amount")
    payee = capture.optional_object("payee")
    return build_event(
        envelope,
        payment_id=capture.identifier("id"),
        status=status,
        facts=PaymentFacts(
            amount=amount,
            currency=currency,
            merchant_id=payee.text("merchant_id") if payee is not None else None,
            created_at=capture.timestamp("create_time"),
        ),
    )


def _refund_event(envelope: dict[str, Any], refund: Fields, *, reversed_: bool) -> CanonicalEvent:
    if not reversed_ and refund.text("status") not in _MONEY_MOVED:
        return build_event(envelope)
    amount, currency = money(refund, "amount")
    breakdown = refund.optional_object("seller_payable_breakdown")
    total = breakdown.optional_object("total_refunded_amount") if breakdown is not None else None
    return build_event(
        envelope,
        payment_id=refunded_capture_id(refund),
        status=Status.REFUNDED if reversed_ else Status.PARTIALLY_REFUNDED,
        refund_by_amount=not reversed_,
        facts=PaymentFacts(
            currency=currency,
            amount_refunded=money(breakdown, "total_refunded_amount")[0] if total is not None else None,
            refund=RefundFact(id=refund.identifier("id"), amount=amount),
        ),
    )


def _dispute_event(envelope: dict[str, Any], dispute: Fields) -> CanonicalEvent:
    disputed = dispute.objects("disputed_transactions")[0]
    seller = disputed.optional_object("seller")
    dispute_amount = dispute.optional_object("dispute_amount")
    return build_event(
        envelope,
        payment_id=disputed.identifier("seller_transaction_id"),
        status=Status.DISPUTED,
        facts=PaymentFacts(
            currency=dispute_amount.currency("currency_code") if dispute_amount is not None else None,
            merchant_id=seller.text("merchant_id") if seller is not None else None,
        ),
    )


def refunded_capture_id(refund: Fields) -> str:
    """The capture a refund belongs to: the last segment of its `up` link."""
    for link in refund.objects("links"):
        href = link.text("href") or ""
        if link.text("rel") == "up" and _CAPTURE_PATH in href:
            capture_id = href.rsplit(_CAPTURE_PATH, 1)[1].split("?", 1)[0].strip("/")
            if capture_id and "/" not in capture_id:
                return capture_id
    raise InvalidPayload(f"{refund.where('links')}: no 'up' link to the refunded capture")


def money(parent: Fields, key: str) -> tuple[int, str]:
    """A PayPal Money object `{"currency_code", "value"}` as (minor units, currency)."""
    money_fields = parent.object(key)
    currency = money_fields.currency("currency_code")
    value = money_fields.text("value", required=True) or ""
    try:
        amount = to_minor_units(value, currency)
    except InvalidAmount as exc:
        raise InvalidPayload(f"{money_fields.where('value')}: {exc}") from None
    if amount > MAX_AMOUNT:
        raise InvalidPayload(f"{money_fields.where('value')}: is out of range")
    return amount, currency
