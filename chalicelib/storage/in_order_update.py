"""The UpdateItem that applies an `InOrderWrite` to its transaction item in one request.

The expressions depend only on the write's shape (which attributes it sets and how, whether
it may create the item, whether it caps the refunded total), and a provider sends a
handful of shapes, so they are built once per shape and cached: every webhook pays only
for encoding its values. Values that recur are sent once: the event's order key (the
frontier, and the source of every fact the event states) and its time (`last_event_at`,
the `first_event_at` default), which the condition compares too."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from chalicelib.domain.timestamps import format_iso, sortable
from chalicelib.domain.transaction import InOrderWrite
from chalicelib.storage.codec import to_value
from chalicelib.storage.transaction_items import (
    ARCHIVE_SHARD, SOURCE_PREFIX, archive_shard, created_key, encode_value, record_to_item,
    transaction_pk,
)

_CONSTANTS = {":empty": to_value([]), ":zero": to_value(0), ":one": to_value(1)}
_KEY, _AT = ":key", ":at"
_RECURRING = {"frontier": _KEY, SOURCE_PREFIX: _KEY, "last_event_at": _AT, "first_event_at": _AT}
"""Attributes that usually hold the event's order key or time (`SOURCE_PREFIX`: any source)."""


@dataclass(frozen=True)
class _Expressions:
    update: str
    condition: str
    names: dict[str, str]


def in_order_update(table: str, write: InOrderWrite) -> dict[str, Any]:
    """The `Update` of a TransactWriteItems (also valid as UpdateItem parameters)."""
    pk = transaction_pk(write.sets["provider"], write.sets["id"])
    at = format_iso(write.occurred_at)
    values: dict[str, Any] = {
        **_CONSTANTS, ":record": {"L": [to_value(record_to_item(write.record))]},
        _KEY: {"S": write.order_key}, _AT: {"S": at},
    }

    recurring = {_KEY: write.order_key, _AT: write.occurred_at}

    def placeholder(attribute: str, plain: Any) -> str:
        role = _RECURRING.get(attribute)
        if role is not None and plain == recurring[role]:
            return role
        token = f":v{len(values)}"
        values[token] = to_value(encode_value(attribute, plain))
        return token

    sets = {**write.sets, **write.merge_sets}
    if "created_at" in write.sets:
        sets["created_key"] = created_key(sortable(write.sets["created_at"]), pk)
        sets[ARCHIVE_SHARD] = archive_shard(pk)
    set_tokens = [(attribute, placeholder(attribute, plain)) for attribute, plain in sets.items()]
    # The event's own facts are sourced from it: all `:key`, as a rule.
    set_tokens += [
        (SOURCE_PREFIX + fact, _KEY if key == write.order_key else placeholder(SOURCE_PREFIX, key))
        for fact, key in write.sources.items()]
    default_tokens = tuple(
        (attribute, placeholder(attribute, plain)) for attribute, plain in write.set_if_absent.items())
    if write.refunded_at_most is not None:
        values[":cap"] = to_value(write.refunded_at_most)
    expressions = _expressions(tuple(set_tokens), default_tokens, write.may_create,
                               "created_at" in write.sets, write.refunded_at_most is not None)
    return {
        "TableName": table,
        "Key": {"pk": {"S": pk}},
        "UpdateExpression": expressions.update,
        "ConditionExpression": expressions.condition,
        "ExpressionAttributeNames": dict(expressions.names),
        "ExpressionAttributeValues": values,
    }


@lru_cache(maxsize=256)
def _expressions(
    sets: tuple[tuple[str, str], ...], defaults: tuple[tuple[str, str], ...],
    may_create: bool, sets_created: bool, caps_refunded: bool,
) -> _Expressions:
    """`sets` and `defaults` pair each attribute with its value placeholder."""
    names: dict[str, str] = {}

    def name(attribute: str) -> str:
        names[f"#{attribute}"] = attribute
        return f"#{attribute}"

    assignments = [
        f"{name('events')} = list_append(if_not_exists(#events, :empty), :record)",
        f"{name('version')} = if_not_exists(#version, :zero) + :one",
        *(f"{name(attribute)} = {value}" for attribute, value in sets),
        *(f"{name(attribute)} = if_not_exists(#{attribute}, {value})" for attribute, value in defaults),
    ]
    newer = f"{name('frontier')} < {_KEY} AND {name('last_event_at')} < {_AT}"
    if sets_created:
        # The archivable index follows created_at, but an archived record must never
        # re-enter it: that case fails here and takes read-merge-write (`to_item`).
        newer += f" AND attribute_not_exists({name('archived')})"
    if caps_refunded:
        refunded = name("amount_refunded")
        newer += f" AND (attribute_not_exists({refunded}) OR {refunded} <= :cap)"
    condition = (
        f"attribute_not_exists({name('pk')}) OR ({newer})" if may_create
        else f"attribute_exists({name('pk')}) AND {newer}"
    )
    return _Expressions("SET " + ", ".join(assignments), condition, names)
