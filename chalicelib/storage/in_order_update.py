"""The UpdateItem that applies an `InOrderWrite` to its transaction item in one request.

Built top to bottom for each write: the bookkeeping every event changes, then each
attribute the event sets, then the defaults for a new item, then the conditions. The
event's order key and its time recur (the frontier and every fact's source carry the key;
`last_event_at` and the `first_event_at` default carry the time, which the condition
compares too), so each is sent once, as `:key` and `:at`."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.documents import event_record_document
from chalicelib.domain.timestamps import format_iso, sortable
from chalicelib.domain.transaction import InOrderWrite
from chalicelib.storage.codec import to_attributes, to_value
from chalicelib.storage.transaction_items import (
    ARCHIVE_SHARD, SOURCE_PREFIX, archive_shard, created_key, encode_value, transaction_pk,
)


def in_order_update(table: str, write: InOrderWrite) -> dict[str, Any]:
    """The `Update` of a TransactWriteItems (also valid as UpdateItem parameters)."""
    pk = transaction_pk(write.sets["provider"], write.sets["id"])
    key, at = write.order_key, format_iso(write.occurred_at)
    names = {"#pk": "pk", "#events": "events", "#version": "version"}
    values = {
        ":key": to_value(key), ":at": to_value(at), ":empty": to_value([]),
        ":record": to_value([event_record_document(write.record)]),
        ":zero": to_value(0), ":one": to_value(1),
    }

    def value(plain: Any) -> str:
        if plain == key:
            return ":key"
        if plain == at:
            return ":at"
        token = f":v{len(values)}"
        values[token] = to_value(plain)
        return token

    update = ("SET #events = list_append(if_not_exists(#events, :empty), :record), "
              "#version = if_not_exists(#version, :zero) + :one")
    sets = {**write.sets, **write.merge_sets}
    if "created_at" in write.sets:
        sets["created_key"] = created_key(sortable(write.sets["created_at"]), pk)
        sets[ARCHIVE_SHARD] = archive_shard(pk)
    sets.update({SOURCE_PREFIX + fact: source for fact, source in write.sources.items()})
    for attribute, plain in sets.items():
        names[f"#{attribute}"] = attribute
        update += f", #{attribute} = {value(encode_value(attribute, plain))}"
    for attribute, plain in write.set_if_absent.items():
        names[f"#{attribute}"] = attribute
        update += f", #{attribute} = if_not_exists(#{attribute}, {value(encode_value(attribute, plain))})"

    newer = "#frontier < :key AND #last_event_at < :at"
    if "created_at" in write.sets:
        # The archivable index follows created_at, but an archived record must never
        # re-enter it: that case fails here and takes read-merge-write (`to_item`).
        names["#archived"] = "archived"
        newer += " AND attribute_not_exists(#archived)"
    if write.refunded_at_most is not None:
        values[":cap"] = to_value(write.refunded_at_most)
        newer += " AND (attribute_not_exists(#amount_refunded) OR #amount_refunded <= :cap)"
    condition = (f"attribute_not_exists(#pk) OR ({newer})" if write.may_create
                 else f"attribute_exists(#pk) AND {newer}")
    return {
        "TableName": table,
        "Key": to_attributes({"pk": pk}),
        "UpdateExpression": update,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
