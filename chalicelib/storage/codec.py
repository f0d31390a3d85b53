"""DynamoDB attribute values <-> Python, shared by the repositories.

The low-level client is used (not the resource layer) because TransactWriteItems needs
typed values anyway and the client is cheaper per call on the webhook hot path."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attributes(values: dict[str, Any]) -> dict[str, Any]:
    """Serialise a plain dict; `None` values are left out (absent, not NULL), which keeps
    sparse index keys such as `merchant_id` out of their index."""
    return {name: to_value(value) for name, value in values.items() if value is not None}


def to_value(value: Any) -> dict[str, Any]:
    """The types this service stores, written directly; anything else (sets, Decimals,
    None) through boto3's general serializer. Going through it for every value cost a
    webhook more than the rule of 5% allows (benchmarks/ingest.py, handler/floor)."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int:
        return {"N": str(value)}
    if kind is bool:
        return {"BOOL": value}
    if kind is bytes:
        return {"B": value}
    if kind is list:
        return {"L": [to_value(v) for v in value]}
    if kind is dict:
        return {"M": {k: to_value(v) for k, v in value.items()}}
    return _serializer.serialize(value)


def from_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if hasattr(value, "value") and isinstance(getattr(value, "value"), (bytes, bytearray)):
        return bytes(value.value)  # boto3 Binary
    return value
