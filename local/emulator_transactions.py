"""TransactWriteItems in the local emulator: costs what the transaction writes, honours
ClientRequestToken. A patch of moto 5.2.5 (local/emulator.py refuses any other version).

Why: moto 5.2.5 deep-copies every table a transaction names (items and stream records) to
put the copy back if the transaction is cancelled. Every webhook is one transaction over
the events and transactions tables, so each one cost time and garbage in proportion to all
that was stored before it. Here the same loop saves, just before each write, the previous
version of the one item it is about to write and where each stream ended, and a
cancellation undoes exactly those. The loop is otherwise moto's own, so the checks, the
errors and the cancellation reasons (one per item, in order) are moto's.

This is atomic only because nothing else touches moto meanwhile: the emulator dispatches
one request at a time (local/emulator.py).

moto also ignores `ClientRequestToken`, which botocore fills in once per call and repeats
on its retries. DynamoDB answers a repeat of a completed transaction within 10 minutes
with success and applies nothing twice, and a different request under the same token with
IdempotentParameterMismatchException. Without that, a retry after a slow first attempt
that did commit is cancelled by our own conditions and the webhook is answered
`duplicate` on its first delivery. A cancelled transaction wrote nothing, so its token is
not remembered and a retry runs again.
"""
from __future__ import annotations

import copy
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ERROR_TYPE_PREFIX,
    ConditionalCheckFailed,
    DynamodbException,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)

TOKEN_WINDOW_SECONDS = 600.0
_LEDGER_ATTRIBUTE = "_client_request_tokens"


class TransactionUndo:
    """What one transaction changed, enough to take it back: the previous version of each
    item it wrote, in write order, and where each touched table's stream ended."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self._items: list[tuple[Any, Any, Any, Any]] = []
        self._stream_ends: dict[int, tuple[Any, int]] = {}

    def save(self, table_name: str, key: dict[str, Any]) -> None:
        """Call just before writing the item at `key`."""
        table = self._backend.get_table(table_name)
        hash_value, range_value = self._backend.get_keys_value(table, key)
        previous = table.get_item(hash_value, range_value)
        # An Update changes the stored item in place, so keep a copy, not a reference.
        self._items.append((table, hash_value, range_value, copy.deepcopy(previous)))
        shard = table.stream_shard
        if shard is not None and id(shard) not in self._stream_ends:
            self._stream_ends[id(shard)] = (shard, shard.starting_sequence_number + len(shard.items))

    def undo(self) -> None:
        for table, hash_value, range_value, previous in reversed(self._items):
            if range_value is None:
                slot, key = table.items, hash_value
            else:
                slot, key = table.items[hash_value], range_value
            if previous is None:
                slot.pop(key, None)
            else:
                slot[key] = previous
        for shard, end in self._stream_ends.values():
            # By sequence number, not list length: records may have been trimmed meanwhile.
            del shard.items[max(end - shard.starting_sequence_number, 0):]


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's DynamoDBBackend.transact_write_items with the whole-table backup
    replaced by a TransactionUndo; every other line keeps moto's behaviour."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo = TransactionUndo(self)
    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            check_unicity(table_name, key)

            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(condition_expression, names, values)
                if not condition_op.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)

            if op_type != "ConditionCheck":
                undo.save(table_name, key)
            if op_type == "Put":
                self.put_item(table_name, op["Item"], condition_expression=condition_expression,
                              expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(table_name, key, condition_expression=condition_expression,
                                 expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                 condition_expression=condition_expression,
                                 expression_attribute_names=names, expression_attribute_values=values)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            undo.undo()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
        except Exception as e:  # noqa: BLE001 - as moto: any other failure is this item's reason
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

    if any(code is not None for code, _, _ in errors):
        undo.undo()
        raise TransactionCanceledException(errors)


class ClientRequestTokens:
    """Tokens of completed transactions, each with the request it came with, forgotten
    `window` seconds after completion as DynamoDB does."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, window: float = TOKEN_WINDOW_SECONDS) -> None:
        self._clock = clock
        self._window = window
        self._completed: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def completed(self, token: str, request: str) -> bool:
        """Whether this exact request already completed under `token`; raises
        IdempotentParameterMismatch if a different one did."""
        self._forget_expired()
        seen = self._completed.get(token)
        if seen is None:
            return False
        if seen[0] != request:
            raise IdempotentParameterMismatchException()
        return True

    def remember(self, token: str, request: str) -> None:
        self._completed[token] = (request, self._clock())
        self._completed.move_to_end(token)

    def _forget_expired(self) -> None:
        horizon = self._clock() - self._window
        while self._completed:
            token, (_, at) = next(iter(self._completed.items()))
            if at >= horizon:
                return
            del self._completed[token]


class IdempotentParameterMismatchException(DynamodbException):
    def __init__(self) -> None:
        super().__init__(ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
                         message="Request parameters do not match the previous request "
                                 "made with this client request token")


def _request_fingerprint(body: dict[str, Any]) -> str:
    """The request as compared under one token; binary attribute values arrive as bytes."""
    return json.dumps({k: v for k, v in body.items() if k != "ClientRequestToken"}, sort_keys=True, default=repr)


def with_client_request_token(handler_method: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap moto's DynamoHandler.transact_write_items with DynamoDB's token semantics."""

    def transact_write_items(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return handler_method(self)
        backend = self.dynamodb_backend
        tokens = backend.__dict__.setdefault(_LEDGER_ATTRIBUTE, ClientRequestTokens())
        request = _request_fingerprint(self.body)
        if tokens.completed(token, request):
            return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
        result = handler_method(self)
        tokens.remember(token, request)
        return result

    transact_write_items.__wrapped__ = handler_method  # type: ignore[attr-defined]
    return transact_write_items


def install() -> None:
    """Patch moto in this process (idempotent). Call before serving requests."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    DynamoDBBackend.transact_write_items = transact_write_items
    if not hasattr(DynamoHandler.transact_write_items, "__wrapped__"):
        DynamoHandler.transact_write_items = with_client_request_token(DynamoHandler.transact_write_items)
