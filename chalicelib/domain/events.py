"""The canonical event every provider's webhook is normalised into."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.currencies import normalise_currency
from chalicelib.domain.identifiers import id_problem
from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import sortable


class Outcome(str, Enum):
    """What receiving an event did (contract section 1)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    IGNORED = "ignored"


MAX_SEQUENCE = 2**63 - 1
_SEQUENCE_WIDTH = len(str(MAX_SEQUENCE))


class RefundFact(BaseModel):
    """One refund reported on its own, by its own id (Adyen REFUND items, Square refunds).

    Stripe reports a running total instead (`amount_refunded`); providers that report refund
    by refund need their refunds added up, and a redelivered or updated refund must not be
    counted twice, so the transaction keeps them by id (see `merge_event`)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=255)
    amount: int = Field(ge=0)


class PaymentFacts(BaseModel):
    """What one event says about the payment itself; `None` means "this event does not say".

    A refund's or dispute's own amount is never put in `amount`: that field is the payment's.
    `amount_refunded` is a refunded total; `refund` is one refund of its own."""

    model_config = ConfigDict(frozen=True)

    amount: int | None = Field(default=None, ge=0)
    currency: str | None = None
    amount_refunded: int | None = Field(default=None, ge=0)
    merchant_id: str | None = None
    customer_id: str | None = None
    payment_method: str | None = None
    created_at: datetime | None = None
    live: bool | None = None
    refund: RefundFact | None = None

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str | None) -> str | None:
        return None if value is None else normalise_currency(value)

    def known(self) -> dict[str, object]:
        """The facts this event actually states, by field name (read from `__dict__`: the
        model has no extra fields, and pydantic's own iteration costs every webhook)."""
        return {name: value for name, value in self.__dict__.items() if value is not None}


class CanonicalEvent(BaseModel):
    """One provider event, normalised.

    `payment_id` is `None` for event types that do not describe a payment (answered
    `ignored`). `refund_by_amount` marks refund events whose status (refunded or partially
    refunded) is only known once the payment's amount is: the status is then resolved by
    the transaction, not by the event. `sequence` is the provider's own revision number of
    the payment (Square's payment `version`), when it gives one: it orders two events that
    carry the same time and status."""

    model_config = ConfigDict(frozen=True)

    provider: str
    event_id: str = Field(min_length=1, max_length=255)
    type: str
    occurred_at: datetime
    payment_id: str | None = Field(default=None, min_length=1, max_length=255)
    status: Status | None = None
    refund_by_amount: bool = False
    sequence: int | None = Field(default=None, ge=0, le=MAX_SEQUENCE)
    facts: PaymentFacts = PaymentFacts()

    @field_validator("event_id", "payment_id")
    @classmethod
    def _storable_id(cls, value: str | None) -> str | None:
        """Ids become DynamoDB keys: bounded in bytes too (see `id_problem`)."""
        problem = None if value is None else id_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @property
    def describes_payment(self) -> bool:
        return self.payment_id is not None and self.status is not None

    @property
    def order_key(self) -> str:
        """One total order over a transaction's events: provider event time, then status
        precedence (later status wins a tie), then the provider's sequence (an event without
        one counts as 0), then event id so that no two events tie. Any permutation of the
        same events therefore folds to the same state. Every part before the event id is
        fixed-width, so string order is this order (storage compares keys as strings)."""
        status = Status.PARTIALLY_REFUNDED if self.refund_by_amount else self.status
        precedence = status.precedence if status is not None else 0
        sequence = f"{self.sequence or 0:0{_SEQUENCE_WIDTH}d}"
        return f"{sortable(self.occurred_at)}|{precedence}|{sequence}|{self.event_id}"

    @property
    def transaction_ref(self) -> str | None:
        return f"{self.provider}/{self.payment_id}" if self.describes_payment else None


@dataclass(frozen=True)
class ParsedEvent:
    """A canonical event together with the exact bytes to keep for replay. A plain
    dataclass: both parts come from our own code, the event already validated."""

    event: CanonicalEvent
    raw: bytes
