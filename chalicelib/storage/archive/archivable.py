"""The transactions table as archival sees it: what may move, and the archived record.

Reads go through the sparse `archivable` index (partition key `archive_shard`, range
`created_key`, projection ALL). Querying every shard for `created_key < <cutoff day>` reads
exactly the live transactions created before the cutoff, oldest first, and nothing else:
no Scan, no extra GetItem (the index holds whole items), and archived records are absent
because replacing an item removes its `archive_shard`. The shards are merged by
`created_key`, so one creation day comes out contiguously, whatever its shard."""
from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.documents import archive_pointer_document, event_record_document
from chalicelib.domain.transaction import ArchivePointer, EventRecord, Transaction
from chalicelib.storage.codec import from_attributes, to_attributes, to_value
from chalicelib.storage.errors import is_code
from chalicelib.storage.transaction_items import (
    ARCHIVE_SHARD, ARCHIVE_SHARDS, from_item, transaction_pk,
)

ARCHIVABLE_INDEX = "archivable"
DEFAULT_PAGE_SIZE = 250
_BATCH_GET = 100


@dataclass(frozen=True)
class Replacement:
    """The outcome of one conditional replacement: `current` is the item as it is now
    when the condition failed (None if it does not exist)."""

    replaced: bool
    current: Transaction | None = None


@dataclass(frozen=True)
class Candidate:
    """A live transaction as read from the index, with its sort key."""

    created_key: str
    transaction: Transaction


class ArchivableTransactions:
    def __init__(self, client: Any, table_name: str, page_size: int = DEFAULT_PAGE_SIZE,
                 shards: int = ARCHIVE_SHARDS) -> None:
        self._client = client
        self._table = table_name
        self._page_size = page_size
        self._shards = shards
        self.items_read = 0
        """Items returned by DynamoDB to this repository (index pages and batch reads)."""

    def created_before(self, cutoff: date) -> Iterator[Candidate]:
        """Live transactions created on a day before `cutoff`, in `created_key` order.
        Pages are fetched lazily, so memory holds one page per shard."""
        streams = [self._shard(str(shard), cutoff.isoformat()) for shard in range(self._shards)]
        return heapq.merge(*streams, key=lambda candidate: candidate.created_key)

    def _shard(self, shard: str, cutoff: str) -> Iterator[Candidate]:
        request: dict[str, Any] = dict(
            TableName=self._table, IndexName=ARCHIVABLE_INDEX, Limit=self._page_size,
            KeyConditionExpression="#shard = :shard AND #ck < :cutoff",
            ExpressionAttributeNames={"#shard": ARCHIVE_SHARD, "#ck": "created_key"},
            ExpressionAttributeValues={":shard": to_value(shard), ":cutoff": to_value(cutoff)},
        )
        while True:
            response = self._client.query(**request)
            items = response.get("Items", [])
            self.items_read += len(items)
            for raw in items:
                item = from_attributes(raw)
                yield Candidate(item["created_key"], from_item(item))
            if not response.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def replace_with_archived(
        self, provider: str, payment_id: str, version: int, pointer: ArchivePointer,
    ) -> Replacement:
        """Replace the item by its archived record (summary and merge bookkeeping kept,
        events and index key removed, pointer added) if it is still at `version`. The
        summary is not touched, so stream consumers (analytics) see no change in it."""
        try:
            self._client.update_item(
                TableName=self._table, Key=to_attributes({"pk": transaction_pk(provider, payment_id)}),
                UpdateExpression="SET #archived = :archived, #version = :next REMOVE #events, #shard",
                ConditionExpression="#version = :version",
                ExpressionAttributeNames={"#archived": "archived", "#version": "version",
                                          "#events": "events", "#shard": ARCHIVE_SHARD},
                ExpressionAttributeValues={
                    ":archived": to_value(archive_pointer_document(pointer)),
                    ":version": to_value(version), ":next": to_value(version + 1),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_code(exc, "ConditionalCheckFailedException"):
                raise
            item = exc.response.get("Item")
            return Replacement(False, from_item(from_attributes(item)) if item else None)
        return Replacement(True)

    def get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Transaction]:
        """Consistent reads of (provider, id) keys, 100 per request (crash recovery only)."""
        found: dict[tuple[str, str], Transaction] = {}
        for start in range(0, len(keys), _BATCH_GET):
            pending: dict[str, Any] = {self._table: {
                "Keys": [to_attributes({"pk": transaction_pk(*key)}) for key in keys[start:start + _BATCH_GET]],
                "ConsistentRead": True,
            }}
            while pending:
                response = self._client.batch_get_item(RequestItems=pending)
                for raw in response.get("Responses", {}).get(self._table, []):
                    txn = from_item(from_attributes(raw))
                    found[(txn.provider, txn.id)] = txn
                    self.items_read += 1
                pending = response.get("UnprocessedKeys") or {}
        return found

    def restore_events(self, txn: Transaction, events: tuple[EventRecord, ...]) -> bool:
        """Put an archived record's events back (audit restore), keeping it archived, if
        it is still at the version read. False on a concurrent change."""
        try:
            self._client.update_item(
                TableName=self._table, Key=to_attributes({"pk": transaction_pk(txn.provider, txn.id)}),
                UpdateExpression="SET #events = :events, #version = :next",
                ConditionExpression="#version = :version AND attribute_exists(#archived)",
                ExpressionAttributeNames={"#events": "events", "#version": "version",
                                          "#archived": "archived"},
                ExpressionAttributeValues={
                    ":events": to_value([event_record_document(record) for record in events]),
                    ":version": to_value(txn.version), ":next": to_value(txn.version + 1),
                },
            )
        except ClientError as exc:
            if is_code(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True
