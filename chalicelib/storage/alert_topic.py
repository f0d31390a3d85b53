"""The payment alerts topic (docs/api.md section 9): one SNS message per alert.

Message attributes are strings, so subscribers filter with SNS filter policies on `kind`,
`provider` and `merchant_id` (docs/alerts.md)."""
from __future__ import annotations

from typing import Any

from chalicelib.storage.errors import storage_errors


class PaymentAlertsTopic:
    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, message: str, attributes: dict[str, str]) -> str:
        """The SNS message id; `StorageUnavailable` when SNS fails, so the caller retries."""
        with storage_errors():
            response = self._client.publish(
                TopicArn=self._topic_arn, Message=message,
                MessageAttributes={name: {"DataType": "String", "StringValue": value}
                                   for name, value in attributes.items()},
            )
        return str(response["MessageId"])
