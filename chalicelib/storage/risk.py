"""What risk assessment reads from and writes to the transactions table (docs/risk.md).

Two narrow requests beside the consistent GetItem every consumer uses: the customer's
transactions created in a bounded window, through the sparse `by-customer` index (only
the attributes the rules read), and one conditional UpdateItem of the `risk` map."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.documents import risk_document
from chalicelib.domain.risk import CustomerActivity
from chalicelib.domain.risk_assessment import RiskAssessment
from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import parse_iso, sortable
from chalicelib.storage.codec import from_attributes, to_attributes, to_value
from chalicelib.storage.errors import is_code, storage_errors
from chalicelib.storage.transaction_items import transaction_pk


class RiskRecords:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def customer_activity(self, customer_id: str, since: datetime, until: datetime) -> list[CustomerActivity]:
        """The customer's transactions created from `since` to `until` (both inclusive),
        every page of them: the window bounds the read, not a page size."""
        request: dict[str, Any] = dict(
            TableName=self._table, IndexName="by-customer",
            KeyConditionExpression="#customer = :customer AND #ck BETWEEN :from AND :to",
            ProjectionExpression="#pk, #created, #status",
            ExpressionAttributeNames={"#customer": "customer_id", "#ck": "created_key", "#pk": "pk",
                                      "#created": "created_at", "#status": "status"},
            ExpressionAttributeValues={
                ":customer": to_value(customer_id), ":from": to_value(sortable(since)),
                ":to": to_value(sortable(until) + "#\uffff"),
            },
        )
        found: list[CustomerActivity] = []
        while True:
            with storage_errors():
                response = self._client.query(**request)
            for item in map(from_attributes, response.get("Items", [])):
                found.append(CustomerActivity(
                    ref=item["pk"].replace("#", "/", 1), created_at=parse_iso(item["created_at"]),
                    status=Status(item["status"])))
            if not response.get("LastEvaluatedKey"):
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def record(self, provider: str, payment_id: str, risk: RiskAssessment, assessed_version: int, bump: bool) -> bool:
        """Write `risk` onto the transaction if it is still at `assessed_version`; with
        `bump`, move the version on by one (a changed level is a change the feed
        publishes). False when the transaction changed since: this assessment is stale."""
        update = "SET #risk = :risk"
        values = {":risk": to_value(risk_document(risk)), ":assessed": to_value(assessed_version)}
        if bump:
            update += ", #version = :next"
            values[":next"] = to_value(assessed_version + 1)
        with storage_errors():
            try:
                self._client.update_item(
                    TableName=self._table, Key=to_attributes({"pk": transaction_pk(provider, payment_id)}),
                    UpdateExpression=update,
                    ConditionExpression="#version = :assessed",
                    ExpressionAttributeNames={"#risk": "risk", "#version": "version"},
                    ExpressionAttributeValues=values,
                )
            except ClientError as exc:
                if is_code(exc, "ConditionalCheckFailedException"):
                    return False
                raise
        return True
