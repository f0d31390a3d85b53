"""Payment statuses and their precedence when two events carry the same time."""
from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """Contract section 2. Declaration order is precedence: on equal event times the later
    status wins, so a refund or dispute is never undone by a `succeeded` of the same time."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    DISPUTED = "disputed"

    @property
    def precedence(self) -> int:
        return _PRECEDENCE[self]

    @property
    def captured(self) -> bool:
        """Money moved to the merchant at some point (counts in gross volume)."""
        return self in _CAPTURED


_PRECEDENCE = {status: rank for rank, status in enumerate(Status)}
_CAPTURED = frozenset(
    {Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED, Status.DISPUTED}
)


def refund_status(amount_refunded: int, amount: int | None) -> Status:
    """A cumulative refund total read against the payment's amount.

    Until the payment's amount is known the refund can only be called partial; the status
    is resolved again whenever the amount arrives (see `merge_event`)."""
    if amount is not None and amount_refunded >= amount:
        return Status.REFUNDED
    return Status.PARTIALLY_REFUNDED
