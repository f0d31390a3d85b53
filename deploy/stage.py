"""Names of one stage's pieces, derived from the same sources the deployments use.

Resource names come from `infra/resources.json` itself (its `Fn::Sub` name patterns with
`${Stage}` filled in), so a policy can never name a table the template does not create.
Function names follow Chalice's own rule (`chalice deploy` names the REST API handler
`<app>-<stage>` and every other function `<app>-<stage>-<function>`); the package path
sets the same names explicitly, so alarms, log groups and policies fit both paths."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "infra" / "resources.json"
CHALICE_DIR = REPO_ROOT / ".chalice"
APP_NAME = "payment-webhooks"
API_HANDLER = "api_handler"
# Functions by how they are invoked (a test checks these against app.py's handlers).
# Consumers of the transactions stream (chalicelib/api/stream_consumers.py), each its own
# function with its own mapping (STREAM_MAPPING), stream-reading grants and on-failure queue.
STREAM_HANDLERS: tuple[str, ...] = ("update_daily_analytics", "publish_payment_changes")  # @app.on_dynamodb_record
SCHEDULED_JOBS: tuple[str, ...] = ("archive_transactions", "watch_dead_letters", "validate_reconciliations")  # @app.schedule (asynchronous invocations)
# The stream mapping's settings Chalice cannot make (both deploy paths set them). The
# analytics handler needs a tumbling window (only then does Lambda's event name its
# shard) and one invocation per shard at a time (its exactly-once marks).
STREAM_MAPPING = {
    "FunctionResponseTypes": ["ReportBatchItemFailures"],
    "BisectBatchOnFunctionError": True,
    "MaximumRetryAttempts": 5,
    "MaximumRecordAgeInSeconds": 21600,
    "ParallelizationFactor": 1,
    "TumblingWindowInSeconds": 900,
}
# Consumers of an SQS queue (@app.on_sqs_message), each with its queue's logical id in
# infra/resources.json: both deploy paths make the mapping report batch item failures
# (QUEUE_MAPPING), which Chalice cannot set, and give the function its queue's grants.
QUEUE_HANDLERS: dict[str, str] = {"send_payment_alerts": "PaymentAlertsQueue", "assess_payment_risk": "RiskAssessmentsQueue"}
QUEUE_MAPPING = {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
DEPLOYED_STAGES = ("dev", "prod")

# CloudFormation pseudo parameters, kept as-is in checked-in policy files and filled in
# by the deploy path (concrete values) or the package path (`Fn::Sub`).
REGION, ACCOUNT = "${AWS::Region}", "${AWS::AccountId}"

_NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Events::EventBus": "Name",
}


def lambda_name(stage: str, function: str) -> str:
    return f"{APP_NAME}-{stage}" if function == API_HANDLER else f"{APP_NAME}-{stage}-{function}"


def stack_name(stage: str) -> str:
    return f"{APP_NAME}-{stage}"


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def load_chalice_config(chalice_dir: Path = CHALICE_DIR) -> dict[str, Any]:
    return json.loads((chalice_dir / "config.json").read_text(encoding="utf-8"))


def stage_functions(stage: str, config: dict[str, Any] | None = None) -> list[str]:
    """The functions a deployed stage configures (each has its own policy file)."""
    config = config if config is not None else load_chalice_config()
    return sorted(config["stages"][stage].get("lambda_functions", {}))


@dataclass(frozen=True)
class StageResources:
    """ARNs of one stage's resources, with `${AWS::Region}`/`${AWS::AccountId}` left in."""

    stage: str
    template: dict[str, Any]

    @classmethod
    def load(cls, stage: str) -> "StageResources":
        return cls(stage, load_template())

    @cached_property
    def _resources(self) -> dict[str, Any]:
        return self.template["Resources"]

    def name(self, logical_id: str) -> str:
        resource = self._resources[logical_id]
        value = resource["Properties"][_NAME_PROPERTY[resource["Type"]]]
        if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            value = value["Fn::Sub"]
        if not isinstance(value, str):
            raise ValueError(f"{logical_id}: name must be a string or a plain Fn::Sub, not {value!r}")
        return value.replace("${Stage}", self.stage)

    def table(self, logical_id: str) -> str:
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.name(logical_id)}"

    def index(self, logical_id: str, name: str) -> str:
        """A global secondary index by its exact name (never `index/*`); it must exist."""
        gsis = self._resources[logical_id]["Properties"].get("GlobalSecondaryIndexes", [])
        if name not in {gsi["IndexName"] for gsi in gsis}:
            raise KeyError(f"{logical_id} has no index {name!r}")
        return f"{self.table(logical_id)}/index/{name}"

    def stream(self, logical_id: str) -> str:
        """The stream label is a creation timestamp, unknown until the table exists."""
        return f"{self.table(logical_id)}/stream/*"

    def secret(self, logical_id: str) -> str:
        """Secrets Manager appends `-` and six random characters to the name."""
        return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{self.name(logical_id)}-??????"

    def queue(self, logical_id: str) -> str:
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.name(logical_id)}"

    def queue_named(self, name: str) -> str:
        """A queue by its name in this stage (as the app knows it); it must be in the template."""
        found = [logical for logical, r in self._resources.items()
                 if r["Type"] == "AWS::SQS::Queue" and self.name(logical) == name]
        if not found:
            raise KeyError(f"the template has no queue named {name!r}")
        return self.queue(found[0])

    def topic(self, logical_id: str) -> str:
        return f"arn:aws:sns:{REGION}:{ACCOUNT}:{self.name(logical_id)}"

    def bucket(self, logical_id: str) -> str:
        return f"arn:aws:s3:::{self.name(logical_id)}"

    def objects(self, logical_id: str, key_pattern: str) -> str:
        """Objects of the bucket under a key or key pattern (`transactions/*`)."""
        return f"{self.bucket(logical_id)}/{key_pattern}"

    def function(self, function: str) -> str:
        """One of the stage's Lambda functions (unqualified: `$LATEST` and any version)."""
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{lambda_name(self.stage, function)}"

    def function_log_streams(self, function: str) -> str:
        """Log streams of the function's log group (created by the template, so the
        function needs neither logs:CreateLogGroup nor any other group)."""
        group = f"/aws/lambda/{lambda_name(self.stage, function)}"
        return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*"

    def event_bus(self, logical_id: str) -> str:
        return f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{self.name(logical_id)}"
