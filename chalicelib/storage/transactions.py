"""Reading transactions: by key, and listed by merchant or customer, newest first."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.status import Status
from chalicelib.domain.transaction import Transaction
from chalicelib.storage.codec import from_attributes, to_attributes, to_value
from chalicelib.storage.errors import storage_errors
from chalicelib.storage.transaction_items import from_item, transaction_pk

INDEXES = {"merchant_id": "by-merchant", "customer_id": "by-customer"}


@dataclass(frozen=True)
class TransactionPage:
    items: list[Transaction]
    last_key: dict[str, Any] | None


class TransactionRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, provider: str, payment_id: str) -> Transaction | None:
        with storage_errors():
            response = self._client.get_item(
                TableName=self._table, ConsistentRead=True,
                Key=to_attributes({"pk": transaction_pk(provider, payment_id)}),
            )
        item = response.get("Item")
        return from_item(from_attributes(item)) if item else None

    def list_by(
        self, *, owner_field: str, owner_id: str, created_from: str, created_to: str,
        status: Status | None, customer_id: str | None, limit: int,
        start_key: dict[str, Any] | None,
    ) -> TransactionPage:
        """Newest first. `created_from`/`created_to` are sortable timestamps (inclusive).
        Filters may leave a query page short, so pages are read until `limit` is met."""
        names = {"#owner": owner_field, "#ck": "created_key"}
        values: dict[str, Any] = {
            ":owner": to_value(owner_id), ":from": to_value(created_from),
            ":to": to_value(created_to + "#\uffff"),
        }
        filters = []
        if status is not None:
            names["#status"] = "status"
            values[":status"] = to_value(status.value)
            filters.append("#status = :status")
        if customer_id is not None and owner_field != "customer_id":
            names["#customer"] = "customer_id"
            values[":customer"] = to_value(customer_id)
            filters.append("#customer = :customer")
        request: dict[str, Any] = dict(
            TableName=self._table, IndexName=INDEXES[owner_field], ScanIndexForward=False,
            KeyConditionExpression="#owner = :owner AND #ck BETWEEN :from AND :to",
            ExpressionAttributeNames=names, ExpressionAttributeValues=values,
        )
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        found: list[dict[str, Any]] = []
        exclusive_start = to_attributes(start_key) if start_key else None
        while True:
            page_request = dict(request, Limit=limit - len(found))
            if exclusive_start:
                page_request["ExclusiveStartKey"] = exclusive_start
            with storage_errors():
                response = self._client.query(**page_request)
            found.extend(from_attributes(item) for item in response.get("Items", []))
            exclusive_start = response.get("LastEvaluatedKey")
            if len(found) >= limit or not exclusive_start:
                break
        last_key = None
        if exclusive_start or len(found) >= limit:
            if found:
                last = found[-1]
                last_key = {owner_field: last[owner_field], "created_key": last["created_key"], "pk": last["pk"]}
        return TransactionPage([from_item(item) for item in found], last_key)
