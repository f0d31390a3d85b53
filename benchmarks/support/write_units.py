"""DynamoDB write request units of the writes a boto3 client actually sends.

Item size follows "DynamoDB item sizes and formats" (developer guide,
CapacityUnitCalculations.html): an attribute is the UTF-8 bytes of its name plus its value;
a string is its UTF-8 bytes, a number about 1 byte per two significant digits plus 1, a
binary its raw bytes (not the base64 sent), null and Boolean 1 byte, a list or map 3 bytes
plus each element's size plus 1 byte per element.

Write units (developer guide, "DynamoDB read and write operations" and "Amazon DynamoDB
Transactions: How it works"): a standard write costs 1 unit per KB of item, rounded up, a
transactional write 2; a Put or Update is sized by the larger of the item before and after,
and a write whose condition fails still costs the units of its item. A global secondary
index (GSI.html, "Provisioned throughput considerations") costs a standard write of the
index entry whenever the write puts an item into it, changes a projected attribute of an
item in it, or takes an item out of it; changing an index key costs two (delete, put).
An index projecting ALL holds the whole item; a KEYS_ONLY index only the table's and its own
key attributes, so a write that changes no key of an item in it costs it nothing. The transaction docs say the
change reaches indexes after the transaction commits, so index writes are counted as
standard writes, not transactional ones.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KB = 1024


def value_size(value: dict[str, Any]) -> int:
    (kind, content), = value.items()
    if kind == "S":
        return len(content.encode("utf-8"))
    if kind == "N":
        return number_size(content)
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in content)
    if kind == "NS":
        return sum(number_size(n) for n in content)
    if kind == "BS":
        return sum(len(b) for b in content)
    if kind == "L":
        return 3 + sum(value_size(element) + 1 for element in content)
    if kind == "M":
        return 3 + sum(len(name.encode("utf-8")) + value_size(element) + 1
                       for name, element in content.items())
    raise ValueError(f"not a DynamoDB attribute value: {value!r}")


def number_size(text: str) -> int:
    digits = text.lstrip("-").split("e")[0].split("E")[0].replace(".", "").strip("0")
    return math.ceil(len(digits) / 2) + 1


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def units(size: int, per_kb: int) -> int:
    """At least one KB: a write of an absent or tiny item still costs a unit."""
    return per_kb * max(1, math.ceil(size / KB))


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projected: tuple[str, ...] | None = None
    """The attributes an entry holds (KEYS_ONLY: table and index keys); None for ALL."""

    def entry(self, image: dict[str, Any] | None) -> dict[str, Any] | None:
        if image is None or self.projected is None:
            return image
        return {name: image[name] for name in self.projected if name in image}


@dataclass
class Write:
    """One item written: its table, and its image before and after the request."""

    table: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    sent: dict[str, Any] | None  # the item of a Put, as sent
    transactional: bool

    def table_units(self) -> int:
        size = max(item_size(self.before), item_size(self.after), item_size(self.sent))
        return units(size, 2 if self.transactional else 1)

    def index_units(self, index: Index) -> int:
        old, new = (_entry(image, index) for image in (self.before, self.after))
        before, after = index.entry(self.before), index.entry(self.after)
        if old is None and new is None or before == after:
            return 0
        if old is None or new is None or old == new:
            return units(item_size(after if new is not None else before), 1)
        return units(item_size(before), 1) + units(item_size(after), 1)


def _entry(image: dict[str, Any] | None, index: Index) -> tuple | None:
    """The item's index key, or None when the item is not in the index (a sparse index)."""
    if image is None or not all(key in image for key in index.keys):
        return None
    return tuple(json.dumps(image[key], sort_keys=True) for key in index.keys)


def table_indexes(template: Path, outputs: dict[str, str]) -> dict[str, list[Index]]:
    """Each table's global secondary indexes from the CloudFormation template, by the table
    name a provisioned stack gave it (the outputs that `Ref` a table)."""
    resources = json.loads(template.read_text())
    tables = {logical: resource["Properties"] for logical, resource in resources["Resources"].items()
              if resource["Type"] == "AWS::DynamoDB::Table"}
    named = {}
    for output, declared in resources["Outputs"].items():
        ref = declared["Value"].get("Ref") if isinstance(declared["Value"], dict) else None
        if ref in tables and output in outputs:
            table_keys = tuple(k["AttributeName"] for k in tables[ref]["KeySchema"])
            named[outputs[output]] = [_index(gsi, table_keys) for gsi in tables[ref].get("GlobalSecondaryIndexes", [])]
    return named


def _index(gsi: dict[str, Any], table_keys: tuple[str, ...]) -> Index:
    keys = tuple(k["AttributeName"] for k in gsi["KeySchema"])
    projection = gsi["Projection"]
    if projection["ProjectionType"] == "ALL":
        return Index(gsi["IndexName"], keys)
    extra = tuple(projection.get("NonKeyAttributes", ())) if projection["ProjectionType"] == "INCLUDE" else ()
    return Index(gsi["IndexName"], keys, tuple(dict.fromkeys(table_keys + keys + extra)))


@dataclass
class WriteMeter:
    """Records every write a client sends (through botocore's events, so what is counted
    is what went out) with the item images around it, read with a second client."""

    client: Any
    reader: Any
    indexes: dict[str, list[Index]]
    writes: list[Write] = field(default_factory=list)
    _pending: list[tuple[str, dict, dict | None, bool, dict | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        events = self.client.meta.events
        events.register("provide-client-params.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        if operation == "TransactWriteItems":
            for action in params["TransactItems"]:
                (kind, request), = action.items()
                if kind in ("Put", "Update", "Delete"):
                    self._start(request, kind, transactional=True)
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self._start(params, operation.removesuffix("Item"), transactional=False)

    def _start(self, request: dict[str, Any], kind: str, transactional: bool) -> None:
        table = request["TableName"]
        key = request.get("Key") or self._key(table, request["Item"])
        sent = request["Item"] if kind == "Put" else None
        self._pending.append((table, key, sent, transactional, self._read(table, key)))

    def _after(self, **_: Any) -> None:
        for table, key, sent, transactional, before in self._pending:
            self.writes.append(Write(table, before, self._read(table, key), sent, transactional))
        self._pending.clear()

    def _key(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        schema = self.reader.describe_table(TableName=table)["Table"]["KeySchema"]
        return {k["AttributeName"]: item[k["AttributeName"]] for k in schema}

    def _read(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return self.reader.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def take(self) -> list[Write]:
        writes, self.writes = self.writes, []
        return writes

    def units_of(self, writes: list[Write]) -> dict[str, int]:
        """Write units by where they are spent: each table, and each index of it."""
        spent: dict[str, int] = defaultdict(int)
        for write in writes:
            spent[write.table] += write.table_units()
            for index in self.indexes.get(write.table, []):
                spent[f"{write.table}/{index.name}"] += write.index_units(index)
        return dict(spent)
