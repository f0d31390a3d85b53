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
- a Query on an index walks every item of the table, whatever its key, so its cost grows
  with the table; DynamoDB reads only the entries under the queried key (developer guide,
  "Query"). Here, on a table with a stream (every write passes through it), the items
  that have held each key value are kept as the table is written, and the query walks
  those (moto's own loop still checks each one);
- it also deep-copies and sizes whole table items, and so cuts its pages at 1 MB of whole
  items. DynamoDB reads an index's own entries (only the projected attributes) and counts
  the 1 MB page limit on those (developer guide, "Global secondary indexes": an index is a
  table of projected entries); the index is queried here over entries projected the same
  way, kept until the table is next written (its stream's next sequence number moves on
  every write);
- SendMessage (from SNS and EventBridge too) and ReceiveMessage (once per message it
  considers) read a setting of their queue through a property that first counts every
  message waiting, so a consumer's backlog makes every send, and quadratically every
  receive, dearer; while they run, that property skips the counts.

None of these changes which items an answer holds or their attributes; querying an
index's projected entries changes where its pages end, to where DynamoDB ends them. Everything else is the project's
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


def _index_hash_attribute(index: Any) -> str | None:
    keys = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
    return keys[0] if len(keys) == 1 else None


def _members(table: Any, index: Any) -> dict[Any, set[tuple[Any, Any]]]:
    """The primary keys of the items that have held each value of the index's hash key: a
    superset of those holding it now (moto's own query loop then checks each item). Built
    from the whole table once, then kept by every write, since each write of a table with a
    stream passes through StreamShard.add, and a cancelled transaction only puts back a
    version that was itself written through it."""
    kept = table.__dict__.setdefault("_index_members", {})
    if index.name not in kept:
        from moto.dynamodb.models.table import Table

        attribute = _index_hash_attribute(index)
        members: dict[Any, set[tuple[Any, Any]]] = {}
        for item in Table.all_items(table):
            if attribute in item.attrs:
                members.setdefault(item.attrs[attribute], set()).add((item.hash_key, item.range_key))
        kept[index.name] = (attribute, members)
    return kept[index.name][1]


def index_members_kept_on_write() -> None:
    from moto.dynamodb.models.table import StreamShard

    generic = StreamShard.add

    def add(self: Any, old: Any, new: Any) -> None:
        generic(self, old, new)
        if new is not None:
            for attribute, members in self.table.__dict__.get("_index_members", {}).values():
                if attribute in new.attrs:
                    members.setdefault(new.attrs[attribute], set()).add((new.hash_key, new.range_key))

    StreamShard.add = add  # type: ignore[method-assign]


def _stored(table: Any, keys: set[tuple[Any, Any]]) -> list[Any]:
    found = []
    for hash_key, range_key in keys:
        under_hash = table.items.get(hash_key)
        item = under_hash.get(range_key) if table.range_key_attr and under_hash is not None else under_hash
        if item is not None:
            found.append(item)
    return found


def _queried_key(table: Any, index: Any, arguments: dict[str, Any]) -> Any:
    """The index hash key value a Query asks for, when the items holding it are kept (a
    table with a stream); None when the query must walk every item."""
    attribute = _index_hash_attribute(index)
    if table.stream_shard is None or attribute is None:
        return None
    return dict(arguments.get("hash_key_conditions") or {}).get(attribute)


_ENTRIES: dict[tuple[int, str, Any], tuple[tuple[int, int], list[Any]]] = {}


def _projected(table: Any, index: Any, candidates: list[Any] | None, wanted: Any) -> list[Any]:
    """The index's own entries for the candidates, kept until the table is next written."""
    from moto.dynamodb.models.table import Table

    names = list(dict.fromkeys(index.table_key_attrs + index.schema_key_attrs
                               + index.projection.get("NonKeyAttributes", [])))
    shard = table.stream_shard
    generation = (id(shard), len(shard.items) + shard.starting_sequence_number) if shard is not None else None
    cached = _ENTRIES.get((id(table), index.name, wanted))
    if generation is not None and cached is not None and cached[0] == generation:
        return cached[1]
    entries = [_entry(item, names) for item in (Table.all_items(table) if candidates is None else candidates)]
    if generation is not None:
        _ENTRIES[(id(table), index.name, wanted)] = (generation, entries)
    return entries


def strings_compared_directly() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    generic = DynamoType.cast_value.fget

    def cast_value(self: DynamoType) -> Any:
        return self.value if self.type == "S" else generic(self)

    DynamoType.cast_value = property(cast_value)  # type: ignore[method-assign,assignment]


def index_queries_by_key() -> None:
    """A Query on an index reads the entries under its hash key, and on a KEYS_ONLY or
    INCLUDE index those entries' projected attributes only."""
    from moto.dynamodb.models.table import Table

    generic = Table.query
    signature = inspect.signature(generic)

    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        index_name = arguments.get("index_name")
        index = self.get_index(index_name) if index_name else None
        if index is None:
            return generic(self, *args, **kwargs)
        wanted = _queried_key(self, index, arguments)
        candidates = None if wanted is None else _stored(self, _members(self, index).get(wanted, set()))
        if (index.projection or {}).get("ProjectionType", "ALL") != "ALL":
            candidates = _projected(self, index, candidates, wanted)
        if candidates is None:
            return generic(self, *args, **kwargs)
        self.all_items = lambda: candidates  # type: ignore[method-assign] # one request at a time (the emulator's lock)
        try:
            return generic(self, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]


_COUNTS = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
           "ApproximateNumberOfMessagesNotVisible")


def sends_and_receives_without_counting() -> None:
    """SendMessage and ReceiveMessage (for every message it considers) read a setting of
    their queue through a property that first counts every message waiting in it; while
    they run, the property answers every attribute but those counts."""
    from moto.sqs.models import Queue, SQSBackend

    every_attribute = Queue.attributes.fget
    uncounted = [False]

    def attributes(self: Queue) -> dict[str, Any]:
        if not uncounted[0]:
            return every_attribute(self)
        self.BASE_ATTRIBUTES = [name for name in Queue.BASE_ATTRIBUTES if name not in _COUNTS]
        try:
            return every_attribute(self)
        finally:
            del self.BASE_ATTRIBUTES

    def without_counting(generic: Any) -> Any:
        def call(self: SQSBackend, *args: Any, **kwargs: Any) -> Any:
            uncounted[0] = True  # one request at a time (the emulator's lock)
            try:
                return generic(self, *args, **kwargs)
            finally:
                uncounted[0] = False
        return call

    Queue.attributes = property(attributes)  # type: ignore[assignment,method-assign]
    SQSBackend.send_message = without_counting(SQSBackend.send_message)  # type: ignore[method-assign]
    SQSBackend.receive_message = without_counting(SQSBackend.receive_message)  # type: ignore[method-assign]


def cheap_reads() -> None:
    fast_query_responses()
    items_sized_once()
    strings_compared_directly()
    top_level_projections()
    index_members_kept_on_write()
    index_queries_by_key()
    sends_and_receives_without_counting()


if __name__ == "__main__":
    cheap_reads()
    from local.emulator import main

    main()
