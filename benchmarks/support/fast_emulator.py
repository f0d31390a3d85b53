"""Benchmark-only launcher: local/emulator.py with moto's read paths made cheap where they
cost far more than DynamoDB's would, and index pages sized as DynamoDB sizes them.

moto 5.2.5, measured on this machine (benchmarks/reconcile.py prints the plain cost beside):
- its generic response serializer costs ~9 ms per item of a Query page or BatchGetItem
  answer; those results are already wire JSON, so they are dumped as is;
- projecting an item (a ProjectionExpression, or a KEYS_ONLY index) deserialises and
  deep-copies the WHOLE item first, ~10 ms a stored transaction; when every projected path
  is a top-level attribute, the same attributes are picked directly;
- building an item re-sizes the whole item at every attribute it adds (quadratic in its
  attributes, ~5 ms a stored transaction, most of a BatchWriteItem); the item is sized
  once, against the same 400 KB limit;
- comparing or hashing two values (every key lookup, every sort of a Query) goes through
  a generic cast; a string is its own value, and is compared as such;
- a Query on an index walks, deep-copies and sizes whole table items, and so cuts its
  pages at 1 MB of whole items. DynamoDB reads an index's own entries (only the projected
  attributes) and counts the 1 MB page limit on those (developer guide, "Query" and
  "Global secondary indexes": an index is a table of projected entries); the index is
  queried here over entries projected the same way, kept until the table is next written
  (its stream's next sequence number moves on every write).

None of these changes which items an answer holds or their attributes; the third changes
where index pages end, to where DynamoDB ends them. Everything else is the project's
emulator (`local.emulator.main`), unchanged.

    python -m benchmarks.support.fast_emulator --host 127.0.0.1 --port 0
"""
from __future__ import annotations

import copy
import inspect
import json
from typing import Any

_DIRECT = ("Query", "BatchGetItem")


def fast_query_responses() -> None:
    from moto.dynamodb.responses import DynamoHandler

    generic = DynamoHandler.serialized

    def serialized(self: Any, action_result: Any) -> Any:
        if isinstance(action_result.result, dict) and self._get_action() in _DIRECT:
            return 200, {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}, \
                json.dumps(action_result.result)
        return generic(self, action_result)

    DynamoHandler.serialized = serialized


def top_level_projections() -> None:
    """`Item.project` picks top-level attributes directly instead of round-tripping the item."""
    from moto.dynamodb.models.dynamo_type import Item

    generic = Item.project

    def project(self: Item, projection_expressions: list[list[str]]) -> Item:
        if not all(len(path) == 1 and "[" not in path[0] for path in projection_expressions):
            return generic(self, projection_expressions)  # nested paths: moto's own walk
        names = dict.fromkeys(path[0] for path in projection_expressions)
        return Item(self.hash_key, self.range_key,
                    {name: copy.deepcopy(self.attrs[name]) for name in names if name in self.attrs})

    Item.project = project  # type: ignore[method-assign]


def items_sized_once() -> None:
    """`Item(...)` checks the item's size once, not once per attribute."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    checked = LimitedSizeDict.__setitem__

    def init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
        self.hash_key, self.range_key = hash_key, range_key
        self.attrs = LimitedSizeDict()
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if values:
            *rest, (last, value) = values.items()
            dict.update(self.attrs, rest)
            checked(self.attrs, last, value)  # moto's own check, over the whole item

    Item.__init__ = init  # type: ignore[method-assign]


def _entry(item: Any, names: list[str]) -> Any:
    """An index entry sharing the item's values: read only (the query deep-copies its results)."""
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    entry = Item.__new__(Item)
    entry.hash_key, entry.range_key = item.hash_key, item.range_key
    entry.attrs = LimitedSizeDict()
    dict.update(entry.attrs, {name: item.attrs[name] for name in names if name in item.attrs})
    return entry


_ENTRIES: dict[tuple[int, str], tuple[tuple[int, int], list[Any]]] = {}


def _entries(table: Any, index_name: str, names: list[str]) -> list[Any]:
    shard = table.stream_shard
    generation = (id(shard), len(shard.items) + shard.starting_sequence_number) if shard is not None else None
    cached = _ENTRIES.get((id(table), index_name))
    if generation is not None and cached is not None and cached[0] == generation:
        return cached[1]
    from moto.dynamodb.models.table import Table

    entries = [_entry(item, names) for item in Table.all_items(table)]
    if generation is not None:
        _ENTRIES[(id(table), index_name)] = (generation, entries)
    return entries


def strings_compared_directly() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    generic = DynamoType.cast_value.fget

    def cast_value(self: DynamoType) -> Any:
        return self.value if self.type == "S" else generic(self)

    DynamoType.cast_value = property(cast_value)  # type: ignore[method-assign,assignment]


def index_queries_over_entries() -> None:
    """A Query on a KEYS_ONLY or INCLUDE index reads that index's projected entries."""
    from moto.dynamodb.models.table import Table

    generic = Table.query
    signature = inspect.signature(generic)

    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        index_name = signature.bind(self, *args, **kwargs).arguments.get("index_name")
        index = self.get_index(index_name) if index_name else None
        if index is None or (index.projection or {}).get("ProjectionType", "ALL") == "ALL":
            return generic(self, *args, **kwargs)
        names = list(dict.fromkeys(index.table_key_attrs + index.schema_key_attrs
                                   + index.projection.get("NonKeyAttributes", [])))
        entries = _entries(self, index.name, names)
        self.all_items = lambda: entries  # type: ignore[method-assign] # one request at a time (the emulator's lock)
        try:
            return generic(self, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]


def cheap_reads() -> None:
    fast_query_responses()
    items_sized_once()
    strings_compared_directly()
    top_level_projections()
    index_queries_over_entries()


if __name__ == "__main__":
    cheap_reads()
    from local.emulator import main

    main()
