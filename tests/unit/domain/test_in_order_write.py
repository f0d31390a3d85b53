"""The single-request write equals the merge, for every event the providers can produce.

`in_order_write` is a blind update that storage applies only under its conditions (see
`InOrderWrite`); when they hold, the stored result must be exactly `merge_event`'s. Here
the update is applied as storage applies it (`applied`, a model of the UpdateItem built
in chalicelib/storage/in_order_update.py) to states reached by merging random histories
of real provider payloads, parsed by the providers' own code."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.events import CanonicalEvent, PaymentFacts
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import InOrderWrite, MergeState, Transaction, in_order_write, merge_event
from chalicelib.providers import adyen, generic, square, stripe
from chalicelib.providers.payload import Fields

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
RECEIVED = T0 + timedelta(days=1)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def applied(current: Transaction | None, write: InOrderWrite) -> Transaction | None:
    """The transaction after storage applies `write`, or None when its condition fails."""
    if current is None:
        if not write.may_create:
            return None
    else:
        if not (current.merge.frontier < write.order_key and current.last_event_at < write.occurred_at):
            return None
        if "created_at" in write.sets and current.archived is not None:
            return None
        if write.refunded_at_most is not None and current.amount_refunded > write.refunded_at_most:
            return None
    stored: dict[str, Any] = current.model_dump() if current is not None else {}
    stored.update({name: value for name, value in write.set_if_absent.items()
                   if name != "first_event_at" and name not in stored})
    stored.update(write.sets)
    base = current.merge if current is not None else None
    stored["merge"] = MergeState(
        frontier=write.merge_sets["frontier"], frontier_status=write.merge_sets["frontier_status"],
        frontier_refund=write.merge_sets["frontier_refund"],
        first_event_at=base.first_event_at if base is not None else write.set_if_absent["first_event_at"],
        sources={**(base.sources if base is not None else {}), **write.sources},
    )
    stored["events"] = (*(current.events if current is not None else ()), write.record)
    stored["version"] = (current.version if current is not None else 0) + 1
    return Transaction.model_validate(stored)


# --- payloads as the providers send them, on one payment per provider ---------------------

minutes = st.integers(0, 6)
amounts = st.sampled_from([0, 500, 2000, 2500])


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


@st.composite
def stripe_events(draw: Any) -> CanonicalEvent:
    kind = draw(st.sampled_from(["intent", "refund", "dispute"]))
    created = int(at(draw(minutes)).timestamp())
    if kind == "intent":
        event_type = draw(st.sampled_from(sorted(stripe._PAYMENT_INTENT_STATUS)))
        obj: dict[str, Any] = {"id": "pi_1", "amount": draw(amounts), "currency": "usd",
                               "customer": draw(st.sampled_from([None, "cus_1"]))}
        if draw(st.booleans()):
            obj["created"] = int(T0.timestamp())
    elif kind == "refund":
        event_type = "charge.refunded"
        obj = {"id": "ch_1", "payment_intent": "pi_1", "amount": draw(amounts),
               "amount_refunded": draw(amounts), "currency": "usd"}
    else:
        event_type = draw(st.sampled_from(["charge.dispute.created", "charge.dispute.closed"]))
        obj = {"id": "dp_1", "payment_intent": "pi_1", "currency": "usd",
               "status": draw(st.sampled_from(["won", "lost", "needs_response"]))}
    return stripe.canonical_event({"id": f"evt_{draw(st.integers(0, 30))}", "type": event_type,
                                   "created": created, "data": {"object": obj}})


@st.composite
def adyen_events(draw: Any) -> CanonicalEvent:
    code = draw(st.sampled_from(sorted(adyen._STATUS_ON_SUCCESS)))
    psp = "PSP_1" if code in ("AUTHORISATION",) else f"MOD_{draw(st.integers(0, 3))}"
    item = {"pspReference": psp, "eventCode": code, "success": draw(st.sampled_from(["true", "true", "false"])),
            "eventDate": at(draw(minutes)).isoformat(), "merchantAccountCode": "Acme",
            "amount": {"value": draw(amounts), "currency": "EUR"}}
    if psp != "PSP_1":
        item["originalReference"] = "PSP_1"
    return adyen.canonical_event(Fields(item, ""), None)


@st.composite
def square_events(draw: Any) -> CanonicalEvent:
    kind = draw(st.sampled_from(["payment", "payment", "refund", "dispute"]))
    envelope = {"event_id": f"sq_{draw(st.integers(0, 30))}", "created_at": at(draw(minutes)).isoformat(),
                "merchant_id": "M1"}
    if kind == "payment":
        payment: dict[str, Any] = {
            "id": "P1", "status": draw(st.sampled_from(sorted(square._PAYMENT_STATUS))),
            "amount_money": {"amount": draw(amounts), "currency": "USD"},
            "version": draw(st.integers(0, 3))}
        if draw(st.booleans()):
            payment["refunded_money"] = {"amount": draw(amounts), "currency": "USD"}
        if draw(st.booleans()):
            payment["created_at"] = T0.isoformat()
        document = {**envelope, "type": "payment.updated", "data": {"object": {"payment": payment}}}
    elif kind == "refund":
        refund = {"id": f"R{draw(st.integers(0, 2))}", "payment_id": "P1", "status": "COMPLETED",
                  "amount_money": {"amount": draw(amounts), "currency": "USD"}}
        document = {**envelope, "type": "refund.updated", "data": {"object": {"refund": refund}}}
    else:
        dispute = {"disputed_payment": {"payment_id": "P1"}, "state": draw(st.sampled_from(["WON", "LOST"]))}
        document = {**envelope, "type": draw(st.sampled_from(["dispute.created", "dispute.state.updated"])),
                    "data": {"object": {"dispute": dispute}}}
    return square.canonical_event(Fields(document, ""))


@st.composite
def generic_events(draw: Any) -> CanonicalEvent:
    status = draw(st.sampled_from(list(Status)))
    amount = draw(amounts)
    data: dict[str, Any] = {"id": "ord-1", "amount": amount, "currency": "EUR", "status": status.value,
                            "amount_refunded": draw(st.integers(0, amount))}
    if draw(st.booleans()):
        data["created_at"] = T0.isoformat()
    body = {"type": f"payment.{status.value}", "timestamp": at(draw(minutes)).isoformat(), "data": data}
    return generic.canonical_event(json.dumps(body).encode(), f"msg_{draw(st.integers(0, 30))}")


def histories(events: st.SearchStrategy[CanonicalEvent]) -> st.SearchStrategy[list[CanonicalEvent]]:
    return st.lists(events, min_size=1, max_size=8)


def check(history: list[CanonicalEvent]) -> None:
    current: Transaction | None = None
    for event in history:
        if not event.describes_payment:
            continue
        merged = merge_event(current, event, RECEIVED).transaction
        write = in_order_write(event, RECEIVED)
        fast = applied(current, write) if write is not None else None
        if fast is not None:
            assert fast == merged, event
        current = merged


@PROPERTY
@given(histories(st.one_of(stripe_events(), adyen_events(), square_events(), generic_events())))
def test_the_single_request_write_equals_the_merge_on_every_provider_event(history) -> None:
    by_provider: dict[str, list[CanonicalEvent]] = {}
    for event in history:
        by_provider.setdefault(event.provider, []).append(event)
    for events in by_provider.values():
        check(events)


def test_a_refund_stating_the_amount_but_no_refunded_total_is_left_to_the_merge() -> None:
    """Its status depends on the stored total, which the blind write does not read."""
    paid = CanonicalEvent(provider="stripe", event_id="e1", type="t", occurred_at=at(0), payment_id="pi_1",
                          status=Status.SUCCEEDED, facts=PaymentFacts(amount=2000, currency="USD", created_at=T0,
                                                                      amount_refunded=None))
    total = CanonicalEvent(provider="stripe", event_id="e2", type="t", occurred_at=at(1), payment_id="pi_1",
                           status=Status.PARTIALLY_REFUNDED, refund_by_amount=True,
                           facts=PaymentFacts(amount=2000, currency="USD", amount_refunded=2000))
    refund = CanonicalEvent(provider="stripe", event_id="e3", type="t", occurred_at=at(2), payment_id="pi_1",
                            status=Status.PARTIALLY_REFUNDED, refund_by_amount=True,
                            facts=PaymentFacts(amount=2000, currency="USD"))
    assert in_order_write(refund, RECEIVED) is None
    check([paid, total, refund])
