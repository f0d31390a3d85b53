"""Which transaction changes the change feed publishes, and as what (docs/api.md section 7).

A change is published when it changes the transaction's business state: what an event
answered `applied` changes (status, amounts, facts, times; refunds recorded one by one),
or a rise of the risk level to `review` or `high`. Everything else that rewrites the item
publishes nothing: archival and audit restores (summary untouched), an event answered
`stale` (listed, nothing else), a risk assessment that leaves the level where it was or
lowers it, the emulator's identical re-puts and keys-only inserts, a removal.

One write changes nothing but the version: a re-announcement, which the dead-letter redrive
makes when the stream no longer holds changes the feed failed to publish (services/
table_redrive.py). It is published as `payment.updated` with the transaction as it is, under
a version never published before, so a subscriber that missed a change catches up and one
that did not sees a newer version of what it has.

The event names its change `<provider>/<id>/<version>`: `version` grows by one on every
write of the item, so it increases strictly from one published change to the next, and a
redelivered stream record yields the very same id (consumers dedupe on it). Pure: no I/O."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.changes import TransactionChange
from chalicelib.domain.documents import transaction_document
from chalicelib.domain.risk_assessment import RiskLevel, risk_level
from chalicelib.domain.transaction import Transaction

SOURCE = "payment-webhooks"
RISK_FLAGGED = "payment.risk_flagged"
UPDATED = "payment.updated"


@dataclass(frozen=True)
class FeedEvent:
    """One event for the bus; `sequence` is the stream record it came from (what a
    publisher reports back when the event could not be put)."""

    detail_type: str
    detail: dict[str, Any]
    sequence: str

    @property
    def id(self) -> str:
        return str(self.detail["id"])


def feed_event(change: TransactionChange) -> FeedEvent | None:
    """The feed event for a change, or None when the change is not a business change."""
    before, after = change.before, change.after
    if after is None or not is_business_change(before, after):
        return None
    detail = {
        "id": f"{after.provider}/{after.id}/{after.version}",
        "version": after.version,
        "transaction": transaction_document(after, with_events=False),
        "previous": None if before is None else {
            "status": before.status.value, "amount_refunded": before.amount_refunded,
        },
        "cause": _cause(before, after),
    }
    return FeedEvent(_detail_type(before, after), detail, change.sequence)


def is_business_change(before: Transaction | None, after: Transaction) -> bool:
    if before is None:
        return True
    if is_reannouncement(before, after):
        return True
    return (
        before.summary() != after.summary() or before.refunds != after.refunds
        or risk_level(after.risk).severity > risk_level(before.risk).severity
    )


def is_reannouncement(before: Transaction, after: Transaction) -> bool:
    """A newer version of the very same transaction (see the module docstring)."""
    return after.version > before.version and before.model_copy(update={"version": after.version}) == after


def _detail_type(before: Transaction | None, after: Transaction) -> str:
    if before is None or before.status is not after.status:
        return f"payment.{after.status.value}"
    if risk_level(after.risk) is RiskLevel.HIGH and risk_level(before.risk) is not RiskLevel.HIGH:
        return RISK_FLAGGED
    return UPDATED


def _cause(before: Transaction | None, after: Transaction) -> dict[str, str] | None:
    """The event this write listed: ingest appends the event it applied to the item's
    events in the same write, so the record new in `after` is the cause. A write that lists
    none (a risk assessment, a replay of a listed event) has no cause to name."""
    listed = {record.event_id for record in before.events} if before is not None else set()
    new = [record for record in after.events if record.event_id not in listed]
    return {"event_id": new[-1].event_id, "type": new[-1].type} if new else None
