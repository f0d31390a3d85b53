"""The UpdateItem that applies an `InOrderWrite` to its transaction item in one request.

The expressions depend only on the write's shape (which attributes it sets and how, whether
it may create the item, whether it caps the refunded total), and a provider sends a
handful of shapes, so they are built once per shape and cached: every webhook pays only
for encoding its values. Values that recur are sent once: the event's order key (the
frontier, and the source of every fact the event states) and its time (`last_event_at`,
the `first_event_at` default), which the condition compares too."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from chalicelib.domain.documents import event_record_document
from chalicelib.domain.timestamps import format_iso, sortable
from chalicelib.domain.transaction import InOrderWrite
from chalicelib.storage.codec import to_value
from chalicelib.storage.transaction_items import (
    ARCHIVE_SHARD, SOURCE_PREFIX, archive_shard, created_key, encode_value, transaction_pk,
)

_CONSTANTS = {":empty": to_value([]), ":zero": to_value(0), ":one": to_value(1)}
_KEY, _AT = ":key", ":at"


@dataclass(frozen=True)
class _Expressions:
    update: str
    condition: str
    names: dict[str, str]


def in_order_update(table: str, write: InOrderWrite) -> dict[str, Any]:
    """The `Update` of a TransactWriteItems (also valid as UpdateItem parameters)."""
    pk = transaction_pk(write.sets["provider"], write.sets["id"])
    sets = {**write.sets, **write.merge_sets}
    if "created_at" in write.sets:
        sets["created_key"] = created_key(sortable(write.sets["created_at"]), pk)
        sets[ARCHIVE_SHARD] = archive_shard(pk)
    key, at = write.order_key, write.occurred_at
    # Which recurring attributes hold their role's value is part of the shape: as a rule all.
    roles = (sets["frontier"] == key, sets["last_event_at"] == at,
             write.set_if_absent.get("first_event_at") == at,
             *(source == key for source in write.sources.values()))
    plan = _plan(tuple(sets), tuple(write.sources), tuple(write.set_if_absent), roles,
                 write.may_create, write.refunded_at_most is not None)
    values: dict[str, Any] = {
        **_CONSTANTS, ":record": {"L": [to_value(event_record_document(write.record))]},
        _KEY: {"S": key}, _AT: {"S": format_iso(at)},
    }
    for token, attribute in plan.set_values:
        values[token] = to_value(encode_value(attribute, sets[attribute]))
    for token, fact in plan.source_values:
        values[token] = {"S": write.sources[fact]}
    for token, attribute in plan.default_values:
        values[token] = to_value(encode_value(attribute, write.set_if_absent[attribute]))
    if write.refunded_at_most is not None:
        values[":cap"] = to_value(write.refunded_at_most)
    return {
        "TableName": table,
        "Key": {"pk": {"S": pk}},
        "UpdateExpression": plan.expressions.update,
        "ConditionExpression": plan.expressions.condition,
        "ExpressionAttributeNames": dict(plan.expressions.names),
        "ExpressionAttributeValues": values,
    }


@dataclass(frozen=True)
class _Plan:
    """A shape's expressions and which value placeholder each attribute's value fills."""

    expressions: _Expressions
    set_values: tuple[tuple[str, str], ...]
    source_values: tuple[tuple[str, str], ...]
    default_values: tuple[tuple[str, str], ...]


@lru_cache(maxsize=256)
def _plan(
    sets: tuple[str, ...], sources: tuple[str, ...], defaults: tuple[str, ...],
    roles: tuple[bool, ...], may_create: bool, caps_refunded: bool,
) -> _Plan:
    """`roles`: whether frontier, last_event_at, first_event_at and each source (in that
    order) hold the value of their role placeholder, which is then used instead."""
    frontier_is_key, last_is_at, first_is_at, *source_is_key = roles
    role_of = {"frontier": _KEY if frontier_is_key else None,
               "last_event_at": _AT if last_is_at else None,
               "first_event_at": _AT if first_is_at else None}
    tokens = (f":v{n}" for n in itertools.count())

    def placeholders(attributes: tuple[str, ...], role: list[str | None]) -> tuple[list, list]:
        pairs, valued = [], []
        for attribute, fixed in zip(attributes, role):
            token = fixed or next(tokens)
            pairs.append((attribute, token))
            if fixed is None:
                valued.append((token, attribute))
        return pairs, valued

    set_pairs, set_values = placeholders(sets, [role_of.get(a) for a in sets])
    source_pairs, source_values = placeholders(
        sources, [_KEY if is_key else None for is_key in source_is_key])
    default_pairs, default_values = placeholders(defaults, [role_of.get(a) for a in defaults])
    expressions = _expressions(
        tuple(set_pairs) + tuple((SOURCE_PREFIX + fact, token) for fact, token in source_pairs),
        tuple(default_pairs), may_create, "created_at" in sets, caps_refunded)
    return _Plan(expressions, tuple(set_values), tuple(source_values), tuple(default_values))


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
