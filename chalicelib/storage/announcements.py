"""Re-announcing a transaction on the change feed: its version moved on by one, nothing
else, so the transactions stream carries it to the feed publisher as a newer version of the
same transaction (domain/feed.py publishes such a write as `payment.updated`).

The write names who asked for it (`reannounced_by`, the dead letter's key) and is skipped
when the item already carries that name, so a redrive repeated after a partial failure
moves no version twice. It is an UpdateItem of two attributes: ingest's read-merge-write,
archival and risk all write under a condition on the version, so one racing with it
conflicts and retries, as with any other write. The next whole-item write drops the name
(the domain model does not carry it)."""
from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.storage.codec import to_attributes, to_value
from chalicelib.storage.errors import is_code, storage_errors
from chalicelib.storage.transaction_items import transaction_pk

REANNOUNCED_BY = "reannounced_by"


class TransactionAnnouncements:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def reannounce(self, provider: str, payment_id: str, requester: str) -> bool:
        """True when the version moved now; False when `requester` moved it already (or
        the transaction is gone)."""
        with storage_errors():
            try:
                self._client.update_item(
                    TableName=self._table, Key=to_attributes({"pk": transaction_pk(provider, payment_id)}),
                    UpdateExpression="SET #version = if_not_exists(#version, :zero) + :one, #by = :by",
                    ConditionExpression="attribute_exists(#pk) AND (attribute_not_exists(#by) OR #by <> :by)",
                    ExpressionAttributeNames={"#pk": "pk", "#version": "version", "#by": REANNOUNCED_BY},
                    ExpressionAttributeValues={":zero": to_value(0), ":one": to_value(1), ":by": to_value(requester)},
                )
            except ClientError as exc:
                if is_code(exc, "ConditionalCheckFailedException"):
                    return False
                raise
        return True
