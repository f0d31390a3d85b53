"""The canonical transaction and the merge rule that makes its state independent of the
order in which a provider delivers events (contract section 2).

A transaction's state is a join of its events' contributions, each a semilattice:
- status comes from the event with the greatest `order_key` (the *frontier*);
- each payment fact (amount, currency, merchant, ...) comes from the greatest event that
  states it, so the merge keeps, per fact, the order key of the event it came from;
- `amount_refunded` is the largest refunded total any event reported or, for providers
  that report refund by refund, the sum of those refunds kept by refund id (per id the
  largest amount, so a redelivered or updated refund is not counted twice), whichever is
  larger: `max` of two monotone quantities is again a join;
- `created_at` is the stated creation time, else the earliest event time seen.
Joins are commutative, associative and idempotent, so any permutation of the same events,
with any redeliveries, ends in the same state. The merge needs only the summary and this
bookkeeping, not the event list, which is what lets an archived record (no events) keep
taking late refunds and disputes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from chalicelib.domain.events import CanonicalEvent, Outcome
from chalicelib.domain.risk_assessment import RiskAssessment
from chalicelib.domain.status import Status, refund_status

FACT_FIELDS = ("amount", "currency", "merchant_id", "customer_id", "payment_method", "live")
"""Facts taken from the greatest event that states them (`created_at` is handled apart)."""

SUMMARY_FIELDS = (
    "status", "amount", "currency", "amount_refunded", "merchant_id", "customer_id",
    "payment_method", "live", "created_at", "last_event_at",
)
"""The fields whose change makes an event `applied` rather than `stale`."""


class EventRecord(BaseModel):
    """An event as its transaction lists it (`GET /transactions/...` `events`)."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    type: str
    occurred_at: datetime
    received_at: datetime
    outcome: Outcome


class MergeState(BaseModel):
    """Bookkeeping of the join; stored with the transaction, never shown to callers."""

    model_config = ConfigDict(frozen=True)

    frontier: str
    frontier_status: Status
    frontier_refund: bool = False
    first_event_at: datetime
    sources: dict[str, str] = {}


class ArchivePointer(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    object: str


class Transaction(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: str
    id: str
    status: Status
    amount: int | None = None
    currency: str | None = None
    amount_refunded: int = 0
    merchant_id: str | None = None
    customer_id: str | None = None
    payment_method: str | None = None
    live: bool | None = None
    created_at: datetime
    updated_at: datetime
    last_event_at: datetime
    events: tuple[EventRecord, ...] = ()
    refunds: dict[str, int] = {}
    merge: MergeState
    version: int = 0
    """+1 on every write of the item (ingest, archival, a risk write that changes the level),
    so it increases strictly from one change to the next: the optimistic lock of
    read-merge-write and the change feed's order (docs/api.md section 7)."""
    archived: ArchivePointer | None = None
    risk: RiskAssessment | None = None

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.id}"

    def summary(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SUMMARY_FIELDS}


@dataclass(frozen=True)
class MergeResult:
    transaction: Transaction
    outcome: Outcome


def merge_event(
    current: Transaction | None, event: CanonicalEvent, received_at: datetime,
    replay: bool = False,
) -> MergeResult:
    """Join one payment event into a transaction (or start one). Pure and deterministic.

    With `replay`, an event the transaction already lists is not listed a second time."""
    if not event.describes_payment:
        raise ValueError("only events that describe a payment can be merged")
    key = event.order_key
    base = current.merge if current is not None else None
    facts = event.facts.known()

    if base is None or key > base.frontier:
        frontier, frontier_status = key, event.status
        frontier_refund = event.refund_by_amount
    else:
        frontier, frontier_status = base.frontier, base.frontier_status
        frontier_refund = base.frontier_refund

    sources = dict(base.sources) if base is not None else {}
    values: dict[str, Any] = {
        name: getattr(current, name) if current is not None else None for name in FACT_FIELDS
    }
    values["created_at"] = (
        current.created_at if current is not None and "created_at" in sources else None
    )
    for name in (*FACT_FIELDS, "created_at"):
        if name in facts and (name not in sources or key > sources[name]):
            values[name], sources[name] = facts[name], key

    first_event_at = event.occurred_at if base is None else min(base.first_event_at, event.occurred_at)
    last_event_at = event.occurred_at if current is None else max(current.last_event_at, event.occurred_at)
    refunds = _with_refund(current.refunds if current is not None else {}, event)
    refunded = max(current.amount_refunded if current is not None else 0,
                   event.facts.amount_refunded or 0, sum(refunds.values()))
    status = refund_status(refunded, values["amount"]) if frontier_refund else frontier_status
    assert status is not None  # describes_payment guarantees the frontier has one  # nosec B101 # an invariant for the type checker; Lambda never runs python -O

    merged_fields = dict(
        values,
        created_at=values["created_at"] or first_event_at,
        status=status,
        amount_refunded=refunded,
        last_event_at=last_event_at,
    )
    changed = current is None or refunds != current.refunds or any(
        merged_fields[name] != getattr(current, name) for name in SUMMARY_FIELDS
    )
    outcome = Outcome.APPLIED if changed else Outcome.STALE
    record = EventRecord(
        event_id=event.event_id, type=event.type, occurred_at=event.occurred_at,
        received_at=received_at, outcome=outcome,
    )
    merged = Transaction(
        provider=event.provider,
        id=event.payment_id,  # type: ignore[arg-type]  # describes_payment checked above
        updated_at=received_at if changed or current is None else current.updated_at,
        events=_listed(current.events if current is not None else (), record, replay),
        refunds=refunds,
        merge=MergeState(
            frontier=frontier, frontier_status=frontier_status,
            frontier_refund=frontier_refund, first_event_at=first_event_at, sources=sources,
        ),
        version=(current.version if current is not None else 0) + 1,
        archived=current.archived if current is not None else None,
        risk=current.risk if current is not None else None,
        **merged_fields,
    )
    return MergeResult(merged, outcome)


def _with_refund(refunds: dict[str, int], event: CanonicalEvent) -> dict[str, int]:
    refund = event.facts.refund
    if refund is None or refunds.get(refund.id, -1) >= refund.amount:
        return refunds
    return {**refunds, refund.id: refund.amount}


def _listed(
    events: tuple[EventRecord, ...], record: EventRecord, replay: bool,
) -> tuple[EventRecord, ...]:
    if replay and any(listed.event_id == record.event_id for listed in events):
        return events
    return (*events, record)


@dataclass(frozen=True)
class InOrderWrite:
    """A blind write that is equal to `merge_event` *if* the event is newer than everything
    the stored transaction reflects. Storage applies it under the conditions below in a
    single request and falls back to read-merge-write when they do not hold.

    Conditions: the stored frontier is below `order_key`, the stored `last_event_at` is
    strictly before `occurred_at` (so the event really changes the summary and `applied` is
    the true outcome) and, when `amount_refunded` is set, the stored total is not larger.
    The item may be created only when the event states `created_at` (`may_create`)."""

    order_key: str
    occurred_at: datetime
    sets: dict[str, Any]
    sources: dict[str, str]
    merge_sets: dict[str, Any]
    record: EventRecord
    may_create: bool
    refunded_at_most: int | None = None
    set_if_absent: dict[str, Any] = field(default_factory=dict)


def in_order_write(event: CanonicalEvent, received_at: datetime) -> InOrderWrite | None:
    """The single-request write for an in-order event, or None when the event's effect
    depends on state it does not carry: a refund whose status needs the payment amount or
    the refunded total already stored (a refund by amount must state both), or one refund
    of several whose sum needs the refunds already recorded."""
    if not event.describes_payment or event.facts.refund is not None:
        return None
    facts = event.facts.known()
    if event.refund_by_amount and not ("amount" in facts and "amount_refunded" in facts):
        return None
    refunded = facts.pop("amount_refunded", None)
    status = (
        refund_status(refunded or 0, facts["amount"]) if event.refund_by_amount else event.status
    )
    key = event.order_key
    sets: dict[str, Any] = dict(
        facts, provider=event.provider, id=event.payment_id, status=status,
        last_event_at=event.occurred_at, updated_at=received_at,
    )
    set_if_absent: dict[str, Any] = {}
    if refunded is not None:
        sets["amount_refunded"] = refunded
    else:
        set_if_absent["amount_refunded"] = 0
    return InOrderWrite(
        order_key=key,
        occurred_at=event.occurred_at,
        sets=sets,
        sources={name: key for name in facts},
        merge_sets={
            "frontier": key, "frontier_status": event.status,
            "frontier_refund": event.refund_by_amount,
        },
        record=EventRecord(
            event_id=event.event_id, type=event.type, occurred_at=event.occurred_at,
            received_at=received_at, outcome=Outcome.APPLIED,
        ),
        may_create="created_at" in facts,
        refunded_at_most=refunded,
        set_if_absent=dict(set_if_absent, first_event_at=event.occurred_at),
    )
