"""The alerts table: one item per incident (kind + key), and the list of recent alerts.

Key: `pk` = `<kind>#<key>`. A conditional put on it is what makes an incident alerted once.
The item keeps the exact message and attributes it was (or is to be) published with, so a
retry that finds it `pending` (its sender crashed between this write and the publish)
publishes the same message, never a rebuilt one.

Recent alerts: the sparse index `recent`, partition `listing` (the constant "alerts"),
sort `at`. The attributes are written only when the alert is marked sent, so the list shows
what subscribers were sent. A constant partition, not day buckets, because GET /admin/alerts
wants the newest N whatever their age: one Query answers it, where day buckets would walk
back day by day with no bound on how far. Alerts come one per incident (a disputed or failed
payment, a report, a queue), far below what one index partition takes per second."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.alerts import PaymentAlert
from chalicelib.domain.timestamps import format_iso, parse_iso
from chalicelib.storage.codec import from_attributes, to_attributes, to_value
from chalicelib.storage.errors import is_code, storage_errors

RECENT_INDEX = "recent"
LISTING = "alerts"
PENDING, SENT = "pending", "sent"


@dataclass(frozen=True)
class StoredAlert:
    kind: str
    key: str
    summary: str
    at: datetime
    transaction: str | None  # `<provider>/<id>`
    state: str
    message: str
    attributes: dict[str, str]


def alert_pk(kind: str, key: str) -> str:
    return f"{kind}#{key}"


class AlertsRepository:
    def __init__(self, client: Any, table_name: str, page_size: int = 200) -> None:
        self._client = client
        self._table = table_name
        self._page_size = page_size

    def put_pending(self, alert: PaymentAlert, message: str, attributes: dict[str, str]) -> bool:
        item = {
            "pk": alert_pk(alert.kind, alert.key), "kind": alert.kind, "key": alert.key,
            "summary": alert.summary, "at": format_iso(alert.at), "transaction": alert.transaction_ref,
            "state": PENDING, "message": message, "attributes": dict(attributes),
        }
        with storage_errors():
            try:
                self._client.put_item(TableName=self._table, Item=to_attributes(item),
                                      ConditionExpression="attribute_not_exists(pk)")
            except ClientError as exc:
                if is_code(exc, "ConditionalCheckFailedException"):
                    return False
                raise
        return True

    def get(self, kind: str, key: str) -> StoredAlert | None:
        with storage_errors():
            response = self._client.get_item(TableName=self._table, ConsistentRead=True,
                                             Key=to_attributes({"pk": alert_pk(kind, key)}))
        item = response.get("Item")
        return _from_item(from_attributes(item)) if item else None

    def mark_sent(self, kind: str, key: str, sent_at: datetime) -> None:
        """Idempotent: marking a sent alert again changes nothing that is listed."""
        with storage_errors():
            self._client.update_item(
                TableName=self._table, Key=to_attributes({"pk": alert_pk(kind, key)}),
                UpdateExpression="SET #state = :sent, #listing = :listing, sent_at = if_not_exists(sent_at, :now)",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#state": "state", "#listing": "listing"},
                ExpressionAttributeValues={":sent": to_value(SENT), ":listing": to_value(LISTING),
                                           ":now": to_value(format_iso(sent_at))},
            )

    def recent(self, limit: int) -> list[StoredAlert]:
        """Newest first, following the index's pages until `limit` items are read."""
        items: list[StoredAlert] = []
        start: dict[str, Any] | None = None
        while len(items) < limit:
            request: dict[str, Any] = {
                "TableName": self._table, "IndexName": RECENT_INDEX, "ScanIndexForward": False,
                "KeyConditionExpression": "#listing = :listing", "Limit": min(limit - len(items), self._page_size),
                "ExpressionAttributeNames": {"#listing": "listing"},
                "ExpressionAttributeValues": {":listing": to_value(LISTING)},
            }
            if start:
                request["ExclusiveStartKey"] = start
            with storage_errors():
                response = self._client.query(**request)
            items.extend(_from_item(from_attributes(item)) for item in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        return items


def _from_item(item: dict[str, Any]) -> StoredAlert:
    return StoredAlert(
        kind=item["kind"], key=item["key"], summary=item["summary"], at=parse_iso(item["at"]),
        transaction=item.get("transaction"), state=item["state"], message=item["message"],
        attributes=dict(item.get("attributes", {})),
    )
