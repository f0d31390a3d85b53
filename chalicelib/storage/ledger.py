"""Atomic writes that span the events and transactions tables.

Every write that records a payment event puts the event item (only if its id is new: the
dedupe) and changes the transaction in one TransactWriteItems, so a stored event and its
effect are never seen apart, and a failure stores nothing."""
from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.transaction import InOrderWrite, Transaction
from chalicelib.storage.codec import to_attributes, to_value
from chalicelib.storage.errors import (
    DuplicateEvent, PreconditionFailed, WriteConflict, cancellation_codes, is_code,
    storage_errors,
)
from chalicelib.storage.in_order_update import in_order_update
from chalicelib.storage.transaction_items import to_item

_NEW_EVENT = "attribute_not_exists(pk)"
_CONFLICT_CODES = ("TransactionConflict", "ConditionalCheckFailed")


class PaymentLedger:
    def __init__(self, client: Any, events_table: str, transactions_table: str) -> None:
        self._client = client
        self._events = events_table
        self._transactions = transactions_table

    def record_unmerged(self, event_item: dict[str, Any], seen: dict[str, Any] | None = None) -> None:
        """An event that changes no transaction (`ignored`): the event item alone (with its
        permanent `seen` item, when given, in one transaction)."""
        if seen is not None:
            self._transact(event_item, None, transaction_failure=WriteConflict, seen=seen)
            return
        with storage_errors():
            try:
                self._client.put_item(
                    TableName=self._events, Item=event_item, ConditionExpression=_NEW_EVENT,
                )
            except ClientError as exc:
                if is_code(exc, "ConditionalCheckFailedException"):
                    raise DuplicateEvent() from exc
                raise

    def record_in_order(
        self, event_item: dict[str, Any], write: InOrderWrite, seen: dict[str, Any] | None = None,
    ) -> None:
        """One request: the event and a blind update of its transaction, valid only if the
        event is newer than everything the transaction reflects (see `InOrderWrite`)."""
        self._transact(event_item, {"Update": in_order_update(self._transactions, write)},
                       transaction_failure=PreconditionFailed, seen=seen)

    def record_merged(
        self, event_item: dict[str, Any] | None, txn: Transaction, expected_version: int | None,
        seen: dict[str, Any] | None = None,
    ) -> None:
        """The event (when given, with its `seen` item) and the whole merged transaction,
        if nobody changed the transaction since it was read at `expected_version` (None:
        it did not exist)."""
        if expected_version is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "#version = :version",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":version": to_value(expected_version)},
            }
        put = {"TableName": self._transactions, "Item": to_attributes(to_item(txn)), **condition}
        if event_item is None:
            with storage_errors():
                try:
                    self._client.put_item(**put)
                except ClientError as exc:
                    if is_code(exc, "ConditionalCheckFailedException"):
                        raise WriteConflict() from exc
                    raise
            return
        self._transact(event_item, {"Put": put}, transaction_failure=WriteConflict, seen=seen)

    def _transact(
        self, event_item: dict[str, Any], transaction_op: dict[str, Any] | None,
        transaction_failure: type[Exception], seen: dict[str, Any] | None = None,
    ) -> None:
        """The event's items (each put only if new: either refusing is a duplicate) and the
        transaction's change, in one TransactWriteItems."""
        event_puts = [
            {"Put": {"TableName": self._events, "Item": item, "ConditionExpression": _NEW_EVENT}}
            for item in (event_item, seen) if item is not None
        ]
        items = event_puts + ([transaction_op] if transaction_op is not None else [])
        with storage_errors():
            try:
                self._client.transact_write_items(TransactItems=items)
            except ClientError as exc:
                if not is_code(exc, "TransactionCanceledException"):
                    raise
                codes = cancellation_codes(exc)
                if "ConditionalCheckFailed" in codes[:len(event_puts)]:
                    raise DuplicateEvent() from exc
                if transaction_op is not None and len(codes) == len(items) and codes[-1] in _CONFLICT_CODES:
                    raise transaction_failure() from exc
                if "TransactionConflict" in codes:
                    raise WriteConflict() from exc
                raise
