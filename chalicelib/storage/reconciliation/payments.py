"""The transactions table as reconciliation reads it: summaries by key, 100 to a
BatchGetItem, and the keys of one provider's transactions created on one day.

Keys of a day come from the `by-provider` index (partition `provider`, range `created_key`,
KEYS_ONLY): `begins_with(created_key, <day>)` is exactly that day's transactions, live or
archived (an archived record keeps both attributes), and a page of keys is about a hundred
times smaller than a page of whole items. Pages are capped at `INDEX_PAGE_KEYS` keys: a busy
provider's day can hold far more keys than one 1 MB page, and a full page parsed by
botocore is several MiB of Python objects, so without the cap the memory of a run would
grow with the size of a day up to that page. The cap costs one request per
`INDEX_PAGE_KEYS` stored keys. Summaries are read eventually consistent, with
only the compared attributes projected: an export describes payments of the past, and half
the read units is worth a second's lag. Keys DynamoDB leaves unprocessed (throttling) are
asked again after a jittered pause (chalicelib/backoff.py)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any

from chalicelib.backoff import Sleep, retry_attempts
from chalicelib.domain.reconciliation import StoredPayment
from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import parse_iso
from chalicelib.errors import StorageUnavailable
from chalicelib.storage.codec import to_attributes, to_value
from chalicelib.storage.errors import storage_errors
from chalicelib.storage.transaction_items import transaction_pk

PROVIDER_INDEX = "by-provider"
BATCH_GET_LIMIT = 100
"""Keys per BatchGetItem: DynamoDB's maximum."""
INDEX_PAGE_KEYS = 2000
"""Keys per `by-provider` page: bounded memory for a twentieth of the BatchGetItem requests."""
UNPROCESSED_ATTEMPTS = 8
UNPROCESSED_BASE_SECONDS = 0.05
_PROJECTED = ("provider", "id", "status", "created_at", "amount", "currency", "amount_refunded",
              "merchant_id", "customer_id")


class ReconciledPayments:
    def __init__(self, client: Any, table_name: str, sleep: Sleep = time.sleep) -> None:
        self._client = client
        self._table = table_name
        self._sleep = sleep
        self.requests = 0
        """DynamoDB requests sent (each BatchGetItem and Query page)."""

    def summaries(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], StoredPayment]:
        """The stored summary of each (provider, id) that exists; at most 100 keys, distinct."""
        if len(keys) > BATCH_GET_LIMIT:
            raise ValueError(f"at most {BATCH_GET_LIMIT} keys per request")
        names = {f"#a{n}": name for n, name in enumerate(_PROJECTED)}
        pending: dict[str, Any] = {self._table: {
            "Keys": [to_attributes({"pk": transaction_pk(*key)}) for key in keys],
            "ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names,
        }}
        found: dict[tuple[str, str], StoredPayment] = {}
        for _ in retry_attempts(UNPROCESSED_ATTEMPTS, self._sleep, UNPROCESSED_BASE_SECONDS):
            with storage_errors():
                response = self._client.batch_get_item(RequestItems=pending)
            self.requests += 1
            for raw in response.get("Responses", {}).get(self._table, []):
                payment = stored_payment({name: _plain(value) for name, value in raw.items()})
                found[(payment.provider, payment.id)] = payment
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                return found
        raise StorageUnavailable("storage is unavailable (keys left unprocessed); retry later")

    def created_on(self, provider: str, day: date) -> Iterator[str]:
        """Ids of the provider's transactions created on `day` (UTC), page by page."""
        request: dict[str, Any] = dict(
            TableName=self._table, IndexName=PROVIDER_INDEX, ProjectionExpression="#pk", Limit=INDEX_PAGE_KEYS,
            KeyConditionExpression="#provider = :provider AND begins_with(#ck, :day)",
            ExpressionAttributeNames={"#pk": "pk", "#provider": "provider", "#ck": "created_key"},
            ExpressionAttributeValues={":provider": to_value(provider), ":day": to_value(day.isoformat())},
        )
        prefix = len(transaction_pk(provider, ""))
        while True:
            with storage_errors():
                response = self._client.query(**request)
            self.requests += 1
            for raw in response.get("Items", []):
                yield raw["pk"]["S"][prefix:]
            if not response.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def stored_payment(item: dict[str, Any]) -> StoredPayment:
    return StoredPayment(
        provider=item["provider"], id=item["id"], status=Status(item["status"]),
        created_at=parse_iso(item["created_at"]), amount=item.get("amount"),
        currency=item.get("currency"), amount_refunded=item.get("amount_refunded", 0),
        merchant_id=item.get("merchant_id"), customer_id=item.get("customer_id"),
    )


def _plain(attribute: dict[str, Any]) -> Any:
    """One projected attribute's value: strings, numbers (all integers here) or null. The
    general deserializer costs more than the rest of a record's reconciliation."""
    (kind, value), = attribute.items()
    if kind == "N":
        return int(value)
    return None if kind == "NULL" else value
