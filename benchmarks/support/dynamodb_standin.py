"""An in-memory stand-in for the transactions table, answering exactly the DynamoDB calls
the archival job makes, in DynamoDB's JSON protocol, through botocore (`before-send`).

Why not moto here: in-process moto costs about 6 ms per archived item (expression parsing,
deep copies, a generic response serializer), so 60,000 items take over ten minutes, and
the objects it allocates for every rewritten item are counted by tracemalloc as if they
were the job's memory. This stand-in keeps DynamoDB's semantics for these calls (sparse
index, key condition, order, `Limit` pages with `LastEvaluatedKey`, conditional update with
`ReturnValuesOnConditionCheckFailure`) and refuses any other call or expression, so a
change in the job shows up here instead of being silently mis-simulated. Equal attribute
values written by the job are stored once (the archived pointer is the same for every item
of a part), so the table's own growth does not pollute the job's traced memory.
The integration tests run the same code against the real emulator."""
from __future__ import annotations

import bisect
import json
import re
from io import BytesIO
from typing import Any

from botocore.awsrequest import AWSResponse

_REPLACE = re.compile(r"^SET (?P<sets>.+?) REMOVE (?P<removes>.+)$")
_EQUALS = re.compile(r"^(#\w+) = (:\w+)$")


class _Body(BytesIO):
    def stream(self, **_: Any) -> Any:
        yield self.read()


class _Failure(Exception):
    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **extra}


class TransactionsStandIn:
    def __init__(self, table: str, index: str, hash_attr: str, range_attr: str) -> None:
        self._table, self._index = table, index
        self._hash, self._range = hash_attr, range_attr
        self.items: dict[str, dict[str, Any]] = {}
        self._sorted: dict[str, list[tuple[str, str]]] | None = None
        self._interned: dict[str, Any] = {}
        self.items_returned = 0

    def install(self, client: Any) -> None:
        """Answer this client's requests; moto's own stubber (registered on every client
        while moto is imported) is taken off it, so it neither answers nor costs time."""
        from moto.core.models import botocore_stubber

        client.meta.events.unregister("before-send", botocore_stubber)
        client.meta.events.register_first("before-send.dynamodb", self._answer)

    def put(self, item: dict[str, Any]) -> None:
        self.items[item["pk"]["S"]] = item
        self._sorted = None

    def ready(self) -> None:
        """Build the index now (after seeding), not inside the measured run."""
        self._index_entries()

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        operation = request.headers["X-Amz-Target"].decode().split(".")[-1]
        body = json.loads(request.body)
        try:
            handler = getattr(self, f"_{operation}", None)
            if handler is None or body.get("TableName", self._table) != self._table:
                raise NotImplementedError(f"the stand-in does not answer {operation}")
            status, result = 200, handler(body)
        except _Failure as failure:
            status, result = 400, failure.body
        return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.0"},
                           _Body(json.dumps(result).encode()))

    def _Query(self, body: dict[str, Any]) -> dict[str, Any]:
        names, values = body["ExpressionAttributeNames"], body["ExpressionAttributeValues"]
        if body.get("IndexName") != self._index or body["KeyConditionExpression"] != "#shard = :shard AND #ck < :cutoff" \
                or (names["#shard"], names["#ck"]) != (self._hash, self._range):
            raise NotImplementedError(f"unexpected query {body}")
        shard, cutoff = values[":shard"]["S"], values[":cutoff"]["S"]
        entries = self._index_entries().get(shard, [])
        start = body.get("ExclusiveStartKey")
        position = bisect.bisect_right(entries, (start[self._range]["S"], start["pk"]["S"])) if start else 0
        page: list[dict[str, Any]] = []
        last = None
        while position < len(entries) and len(page) < body["Limit"]:
            sort_key, pk = entries[position]
            position += 1
            item = self.items[pk]
            if sort_key >= cutoff:
                break
            if item.get(self._hash, {}).get("S") == shard and item[self._range]["S"] == sort_key:
                page.append(item)
                last = (sort_key, pk)
        self.items_returned += len(page)
        result: dict[str, Any] = {"Items": page, "Count": len(page), "ScannedCount": len(page)}
        more = position < len(entries) and entries[position][0] < cutoff
        if last is not None and more:
            result["LastEvaluatedKey"] = {"pk": {"S": last[1]}, self._hash: {"S": shard},
                                          self._range: {"S": last[0]}}
        return result

    def _UpdateItem(self, body: dict[str, Any]) -> dict[str, Any]:
        names, values = body["ExpressionAttributeNames"], body["ExpressionAttributeValues"]
        expression, condition = _REPLACE.match(body["UpdateExpression"]), _EQUALS.match(body["ConditionExpression"])
        if expression is None or condition is None:
            raise NotImplementedError(f"unexpected update {body['UpdateExpression']!r} if {body['ConditionExpression']!r}")
        item = self.items.get(body["Key"]["pk"]["S"])
        if item is None or item.get(names[condition[1]]) != values[condition[2]]:
            extra = {"Item": item} if item and body.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else {}
            raise _Failure("ConditionalCheckFailedException", "The conditional request failed", **extra)
        for assignment in expression["sets"].split(", "):
            name, value = _EQUALS.match(assignment).groups()  # type: ignore[union-attr]
            item[names[name]] = self._intern(values[value])
        for name in expression["removes"].split(", "):
            item.pop(names[name], None)
        return {}

    def _BatchGetItem(self, body: dict[str, Any]) -> dict[str, Any]:
        keys = body["RequestItems"][self._table]["Keys"]
        found = [self.items[k["pk"]["S"]] for k in keys if k["pk"]["S"] in self.items]
        return {"Responses": {self._table: found}, "UnprocessedKeys": {}}

    def _index_entries(self) -> dict[str, list[tuple[str, str]]]:
        """Sorted (range, pk) per hash value, built once after seeding; entries whose item
        has since left the index (or moved) are skipped at read time, as a sparse index."""
        if self._sorted is None:
            self._sorted = {}
            for pk, item in self.items.items():
                if self._hash in item:
                    self._sorted.setdefault(item[self._hash]["S"], []).append((item[self._range]["S"], pk))
            for entries in self._sorted.values():
                entries.sort()
        return self._sorted

    def _intern(self, value: Any) -> Any:
        return self._interned.setdefault(json.dumps(value, sort_keys=True), value)
