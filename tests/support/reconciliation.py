"""Planting payments through the webhook path, and writing exports of another system."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from chalicelib.domain.timestamps import format_iso
from tests.support.signing import generic_headers

DAY = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
EXPORT_FIELDS = ("provider", "id", "amount", "currency", "status", "created_at", "amount_refunded",
                 "merchant_id", "customer_id", "updated_at")


def deliver(services: Any, payment_id: str, status: str = "succeeded", *, amount: int = 2000,
            currency: str = "EUR", created_at: datetime = DAY, at: datetime | None = None,
            refunded: int = 0, event_id: str | None = None) -> str:
    """A signed generic webhook about the payment, through the ingest service; its outcome."""
    at = at or created_at + timedelta(seconds=5)
    body = json.dumps({"type": f"payment.{status}", "timestamp": format_iso(at), "data": {
        "id": payment_id, "amount": amount, "currency": currency, "status": status,
        "merchant_id": "m-1", "created_at": format_iso(created_at), "amount_refunded": refunded,
    }}).encode()
    event_id = event_id or f"evt-{payment_id}-{status}-{int(at.timestamp())}"
    receipt = services.ingest_service().receive("generic", body, generic_headers(body, event_id))
    return receipt.events[0].outcome.value


def record(payment_id: str, status: str = "succeeded", *, provider: str = "generic", amount: int = 2000,
           currency: str = "EUR", created_at: datetime = DAY, **optional: Any) -> dict[str, Any]:
    values = {"provider": provider, "id": payment_id, "amount": amount, "currency": currency,
              "status": status, "created_at": format_iso(created_at)}
    values.update({k: format_iso(v) if isinstance(v, datetime) else v for k, v in optional.items()})
    return values


def as_csv(records: list[dict[str, Any]]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return text.getvalue().encode()


def as_json_lines(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


CREATED = "2026-11-20T10:00:00Z"


def matching_export(count: int) -> Iterator[bytes]:
    yield b"provider,id,amount,currency,status,created_at\n"
    for n in range(count):
        yield f"generic,g-{n:09d},2000,EUR,succeeded,{CREATED}\n".encode()


def stubbed_dynamodb() -> Any:
    """Every BatchGetItem answers each key as a stored, matching payment; Query finds none."""
    client = boto3.session.Session().client("dynamodb", region_name="us-east-1", aws_access_key_id="x",
                                            aws_secret_access_key="x")
    asked: list[dict[str, Any]] = []
    client.meta.events.register("provide-client-params.dynamodb.*", lambda params, **_: asked.append(params))

    def answer(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        params = asked.pop()
        if model.name == "Query":
            return AWSResponse("https://stub", 200, {}, None), {"Items": []}
        (table, request), = params["RequestItems"].items()
        items = [{"provider": {"S": "generic"}, "id": {"S": key["pk"]["S"].split("#", 1)[1]},
                  "status": {"S": "succeeded"}, "created_at": {"S": CREATED}, "amount": {"N": "2000"},
                  "currency": {"S": "EUR"}} for key in request["Keys"]]
        return AWSResponse("https://stub", 200, {}, None), {"Responses": {table: items}, "UnprocessedKeys": {}}

    client.meta.events.register("before-call.dynamodb.*", answer)
    return client
