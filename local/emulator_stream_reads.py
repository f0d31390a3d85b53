"""Stream records answered as JSON directly in the local emulator. A patch of moto 5.2.5
(local/emulator.py refuses any other version).

Why: a GetRecords answer carries each record's new and old item images, and moto's generic
response serializer walks the botocore model for every attribute value of every image
(each `AttributeValue` is a structure of ten members, each looked up through several alias
providers). The stream consumers read every webhook's records, so serialising them cost
the emulator about as much as the webhook's transaction. The records moto keeps are
already in the wire shape (DynamoDB JSON); only the creation time is a datetime. So the
answer is `json.dumps` of moto's own result, with the time converted by moto's own
timestamp function. Anything else `json.dumps` cannot encode as is (binary attribute
values) is left to moto's serializer, so those answers stay exactly moto's.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.core.serialize import TimestampSerializer
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

CONTENT_TYPE = "application/x-amz-json-1.0"


class NotPlainJSON(TypeError):
    """A value that moto's serializer must convert (not a datetime)."""


def _creation_time(value: Any) -> Any:
    if isinstance(value, datetime):
        return TimestampSerializer._timestamp_unixtimestamp(value)
    raise NotPlainJSON(type(value).__name__)


def get_records(self: DynamoDBStreamsHandler) -> Any:
    """moto's DynamoDBStreamsHandler.get_records, answering the result as JSON itself."""
    arn = self._get_param("ShardIterator")
    limit = self._get_param("Limit")
    if limit is None:
        limit = 1000
    result = self.backend.get_records(arn, limit)
    try:
        body = json.dumps(result, default=_creation_time)
    except NotPlainJSON:
        return ActionResult(result)
    return body, {"Content-Type": CONTENT_TYPE}


def install() -> None:
    """Patch moto in this process (idempotent). Call before serving requests."""
    DynamoDBStreamsHandler.get_records = get_records
