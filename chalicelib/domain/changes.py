"""A change of one transaction, as the transactions table's change stream reports it.

Every consumer of the stream (daily analytics first) receives these, never stream records:
what the transaction was before and what it is after, as the canonical `Transaction`, and
the stream sequence number that identifies the change when a consumer reports it failed.
Pure: no I/O."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.transaction import Transaction

SEQUENCE_WIDTH = 40
"""DynamoDB stream sequence numbers are decimal strings of at most 40 digits."""


@dataclass(frozen=True)
class TransactionChange:
    """`before` is None when the change created the transaction (or the item held only its
    key so far); both are None for a removal, which is not a business event (archival
    rewrites an item, it never deletes one) but still has its place in the stream."""

    before: Transaction | None
    after: Transaction | None
    sequence: str

    @property
    def position(self) -> str:
        """The sequence number zero-padded to a fixed width: within one shard, string order
        of positions is stream order (and DynamoDB compares stored positions as strings)."""
        return self.sequence.zfill(SEQUENCE_WIDTH)
