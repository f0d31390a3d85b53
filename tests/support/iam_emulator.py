"""The local emulator with IAM resource checks moto lacks (least-privilege tests only).

Stock moto 5.2.5, with IAM enforcement on, checks resource ARNs only for S3, SQS and IAM;
DynamoDB, DynamoDB Streams, SNS and Secrets Manager requests are checked against
`Resource: "*"`, so a correctly scoped Allow is denied and a wrong ARN cannot be caught.
This module teaches moto's own access control the ARN each request targets, the way
AWS authorizes it, then runs the emulator unchanged (`python -m tests.support.iam_emulator`):

- DynamoDB: the table (or `table/<t>/index/<i>` for an index query). TransactWriteItems
  and TransactGetItems are authorized per item, as AWS does: `dynamodb:PutItem`,
  `UpdateItem`, `DeleteItem`, `ConditionCheckItem`, `GetItem` on each item's table
  (there is no `dynamodb:TransactWriteItems` permission; moto would demand one).
  BatchWriteItem / BatchGetItem: each table named.
- DynamoDB Streams: the stream ARN (from `StreamArn`, or from the shard iterator).
- SNS: the topic (`TopicArn`/`TargetArn`, or built from `Name` on CreateTopic).
- Secrets Manager: the secret's full ARN (a name is resolved; an unknown one is denied
  on its would-be ARN).
- SQS GetQueueUrl: the queue named by `QueueName` (moto checks it against `*`).
- Lambda Invoke: `lambda:InvokeFunction` on the function's ARN (from the path).
- S3 DeleteObjects: `s3:DeleteObject` on each key, as AWS does (moto checks the bucket).
- EventBridge PutEvents: the event bus of each entry (`EventBusName`, a name or an ARN;
  none is the account's `default` bus).

With `IAM_AUTHORIZATIONS_LOG` set, every authorization decision is appended to that file
as a JSON line (access key, action, resource, allowed): the least-privilege test reads
which grants each function's real flows relied on.

It also replaces moto's pattern matcher, which turns a policy's `*` into `.*` but leaves
`?` and `.` as regex syntax (`secret:name-??????` crashes it): IAM globbing is `*` and
`?` only, case-insensitive for actions. Conditions stay unevaluated, which is why the
function policies have none."""
from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from typing import Any

Check = tuple[str, str]  # (action without the service prefix, resource ARN)

_ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                 "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
_BATCH_WRITE_ACTIONS = {"PutRequest": "PutItem", "DeleteRequest": "DeleteItem"}


def _body(handler: Any) -> dict[str, Any]:
    """The request's JSON parameters (moto's DynamoDB handler has already parsed them)."""
    if isinstance(handler.body, dict):
        return handler.body
    try:
        return json.loads(handler.body or "{}")
    except (TypeError, ValueError):
        return {}


def _arn(handler: Any, service: str, kind: str, name: str) -> str:
    """The ARN of resource `name` (already an ARN, or a name in the request's account)."""
    if name.startswith("arn:"):
        return name
    return f"arn:aws:{service}:{handler.region}:{handler.current_account}:{kind}/{name}"


def dynamodb_checks(handler: Any) -> list[Check]:
    action, body = handler._get_action(), _body(handler)

    def table_arn(name: str) -> str:
        return _arn(handler, "dynamodb", "table", name)

    if action in ("TransactWriteItems", "TransactGetItems"):
        return [(_ITEM_ACTIONS[op], table_arn(spec["TableName"]))
                for item in body.get("TransactItems", []) for op, spec in item.items()]
    if action == "BatchWriteItem":
        return [(_BATCH_WRITE_ACTIONS[kind], table_arn(table))
                for table, requests in body.get("RequestItems", {}).items()
                for kind in sorted({k for request in requests for k in request})]
    if action == "BatchGetItem":
        return [(action, table_arn(table)) for table in body.get("RequestItems", {})]
    if "TableName" in body:
        arn = table_arn(body["TableName"])
        if body.get("IndexName"):
            arn += f"/index/{body['IndexName']}"
        return [(action, arn)]
    if "ResourceArn" in body:
        return [(action, body["ResourceArn"])]
    return [(action, "*")]


def streams_checks(handler: Any) -> list[Check]:
    action, body = handler._get_action(), _body(handler)
    if "StreamArn" in body:
        return [(action, body["StreamArn"])]
    if "ShardIterator" in body:  # moto's iterators are "<stream arn>|1|<random>"
        return [(action, str(body["ShardIterator"]).split("|")[0])]
    return [(action, "*")]


def sns_checks(handler: Any) -> list[Check]:
    action = handler._get_action()
    arn = handler._get_param("TopicArn") or handler._get_param("TargetArn")
    if not arn and action == "CreateTopic":
        arn = f"arn:aws:sns:{handler.region}:{handler.current_account}:{handler._get_param('Name')}"
    return [(action, arn or "*")]


def secretsmanager_checks(handler: Any) -> list[Check]:
    action, secret_id = handler._get_action(), _body(handler).get("SecretId")
    if not secret_id:
        return [(action, "*")]
    secret = handler.backend.secrets.get(secret_id)
    if secret is not None:
        return [(action, secret.arn)]
    if secret_id.startswith("arn:"):
        return [(action, secret_id)]
    return [(action, f"arn:aws:secretsmanager:{handler.region}:{handler.current_account}:secret:{secret_id}")]


def lambda_checks(handler: Any) -> list[Check]:
    """Lambda's Invoke is authorized as `lambda:InvokeFunction` on the function's ARN."""
    from urllib.parse import unquote

    action = handler._get_action()
    match = re.search(r"/functions/([^/]+)/invocations", handler.path or "")
    if action == "Invoke" and match:
        name = unquote(match.group(1))
        arn = name if name.startswith("arn:") else \
            f"arn:aws:lambda:{handler.region}:{handler.current_account}:function:{name}"
        return [("InvokeFunction", arn)]
    return [(action, "*")]


def _sqs_queue_by_name(original: Callable[[Any], str]) -> Callable[[Any], str]:
    """GetQueueUrl names its queue by `QueueName`, which moto's resource lookup misses
    (it then checks the request against `*`)."""
    def determine(self: Any) -> str:
        name = self._get_param("QueueName")
        if self._get_action() == "GetQueueUrl" and name:
            return f"arn:aws:sqs:{self.region}:{self.current_account}:{name}"
        return original(self)

    return determine


def events_checks(handler: Any) -> list[Check]:
    action, body = handler._get_action(), _body(handler)

    if action == "PutEvents":
        return [(action, _arn(handler, "events", "event-bus", entry.get("EventBusName") or "default"))
                for entry in body.get("Entries", [])]
    return [(action, "*")]


def _authorize_each(checks: Callable[[Any], list[Check]]) -> Callable[..., None]:
    """An `_authenticate_and_authorize_normal_action` that authorizes every (action,
    resource) the request needs through moto's own machinery (signature, user policies)."""
    from moto.iam.access_control import IAMRequest

    def authorize(self: Any, resource: str = "*") -> None:
        for action, arn in checks(self) or [(self._get_action(), "*")]:
            self._authenticate_and_authorize_action(_ActionOverride.wrap(IAMRequest, action), arn)

    return authorize


class _ActionOverride:
    """moto builds the IAM action from the request's operation; per-item checks need
    another action name with the same signature check."""

    @staticmethod
    def wrap(request_cls: type, action: str) -> Callable[..., Any]:
        def build(**kwargs: Any) -> Any:
            kwargs["action"] = action
            return request_cls(**kwargs)

        return build


def iam_pattern_matches(pattern: str, value: str, case_insensitive: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if case_insensitive else 0) is not None


def _check_element_matches(self: Any, statement_element: str, value: str) -> bool:
    patterns = self._statement[statement_element]
    patterns = patterns if isinstance(patterns, list) else [patterns]
    case_insensitive = statement_element in ("Action", "NotAction")
    return any(iam_pattern_matches(p, value, case_insensitive) for p in patterns)


def _s3_delete_keys_per_object(original: Callable[..., None]) -> Callable[..., None]:
    def authorize(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        if key_name is None and bucket_name and self.data.get("Action") == "DeleteObject" and self.is_delete_keys():
            import xmltodict

            objects = xmltodict.parse(self.body, strip_whitespace=False)["Delete"].get("Object", [])
            for obj in objects if isinstance(objects, list) else [objects]:
                original(self, bucket_name=bucket_name, key_name=obj["Key"])
            return
        original(self, bucket_name=bucket_name, key_name=key_name)

    return authorize


def _recording_decisions(original: Callable[..., None], log_path: str) -> Callable[..., None]:
    lock = threading.Lock()

    def check_action_permitted(self: Any, resource: str) -> None:
        allowed = False
        try:
            original(self, resource)
            allowed = True
        finally:
            line = json.dumps({"key": self._access_key._access_key_id, "action": self._action,
                               "resource": resource, "allowed": allowed})
            with lock, open(log_path, "a", encoding="utf-8") as log:
                log.write(line + "\n")

    return check_action_permitted


def install() -> None:
    from moto.awslambda.responses import LambdaResponse
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.events.responses import EventsHandler
    from moto.iam.access_control import IAMPolicyStatement, IAMRequestBase
    from moto.s3.responses import S3Response
    from moto.secretsmanager.responses import SecretsManagerResponse
    from moto.sns.responses import SNSResponse
    from moto.sqs.responses import SQSResponse

    DynamoHandler._authenticate_and_authorize_normal_action = _authorize_each(dynamodb_checks)
    DynamoDBStreamsHandler._authenticate_and_authorize_normal_action = _authorize_each(streams_checks)
    SNSResponse._authenticate_and_authorize_normal_action = _authorize_each(sns_checks)
    SecretsManagerResponse._authenticate_and_authorize_normal_action = _authorize_each(secretsmanager_checks)
    LambdaResponse._authenticate_and_authorize_normal_action = _authorize_each(lambda_checks)
    SQSResponse._determine_resource = _sqs_queue_by_name(SQSResponse._determine_resource)
    EventsHandler._authenticate_and_authorize_normal_action = _authorize_each(events_checks)
    IAMPolicyStatement._check_element_matches = _check_element_matches
    S3Response._authenticate_and_authorize_s3_action = _s3_delete_keys_per_object(
        S3Response._authenticate_and_authorize_s3_action)
    if os.environ.get("IAM_AUTHORIZATIONS_LOG"):
        IAMRequestBase.check_action_permitted = _recording_decisions(
            IAMRequestBase.check_action_permitted, os.environ["IAM_AUTHORIZATIONS_LOG"])


if __name__ == "__main__":
    install()
    from local.emulator import main

    main()
