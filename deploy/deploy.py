"""`make deploy STAGE=prod`: the resources stack, then `chalice deploy`, then what Chalice
cannot configure.

1. Deploy `infra/resources.json` as stack `payment-webhooks-<stage>` (create or update,
   wait) and read its outputs.
2. Build a copy of the project with the policy files rendered for this account and
   region (deploy.project) and run `chalice deploy --stage <stage>` in it, with the
   stream ARN from the outputs in the environment (the stream handler's decorator needs it).
3. With boto3: API stage tracing and throttling; the gateway responses in the contract's
   error shape (chalicelib/api/gateway_errors.py), then a deployment of the stage so they
   take effect; the WAF association (optional); the
   stream mapping's ReportBatchItemFailures, BisectBatchOnFunctionError,
   MaximumRetryAttempts and on-failure SQS destination; the scheduled job's dead-letter
   queue; the SQS mappings' ReportBatchItemFailures. Idempotent: every run sets them again.

`--dry-run` makes no AWS call and changes nothing: it prints every call it would make
(fabricated responses stand in for AWS's) and the chalice command line.

Run: `python -m deploy.deploy --stage prod [--dry-run] [--waf] [--burst-limit N]
[--webhook-allowlist FILE] [--alert-email ADDRESS] [--log-retention-days N]`."""
from __future__ import annotations

import argparse
import json
import os
import subprocess  # nosec B404 # runs the chalice CLI with a fixed argument list
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.api.gateway_errors import gateway_responses
from deploy.edge import EdgeOptions, add_edge_arguments, edge_arguments
from deploy.package import chalice_command
from deploy.policies import with_account
from deploy.project import assemble
from deploy.stage import (
    QUEUE_HANDLERS, QUEUE_MAPPING, REPO_ROOT, SCHEDULED_JOBS, STREAM_HANDLERS, STREAM_MAPPING,
    TEMPLATE_PATH, StageResources, lambda_name, stack_name, stage_functions,
)

BUILD_ROOT = REPO_ROOT / "build" / "deploy"
API_STAGE = "api"


@dataclass(frozen=True)
class DeployOptions(EdgeOptions):
    alert_email: str = ""
    log_retention_days: int = 30


class Aws:
    """boto3 clients of one session (region and credentials from the usual places)."""

    def __init__(self, session: Any = None) -> None:
        import boto3

        self.session = session or boto3.session.Session()
        self.region = self.session.region_name
        if not self.region:
            raise SystemExit("no AWS region: set AWS_REGION / AWS_DEFAULT_REGION or a profile region")

    def client(self, service: str) -> Any:
        return self.session.client(service)


class DryRunAws:
    """Records and prints calls instead of making them; answers with plausible fakes."""

    def __init__(self, region: str, account: str, stage: str, print_line: Callable[[str], None] = print) -> None:
        self.region, self.account, self.stage = region, account, stage
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self._print = print_line

    def client(self, service: str) -> Any:
        return _DryRunClient(self, service)

    def record(self, service: str, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((service, operation, kwargs))
        shown = {k: ("<infra/resources.json>" if k == "TemplateBody" else v) for k, v in kwargs.items()}
        self._print(f"[dry-run] aws {service} {operation} {json.dumps(shown, default=str)}")
        return self._answer(service, operation, kwargs)

    def _answer(self, service: str, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        if (service, operation) == ("sts", "get_caller_identity"):
            return {"Account": self.account}
        if (service, operation) == ("cloudformation", "describe_stacks"):
            return {"Stacks": [{"StackStatus": "CREATE_COMPLETE", "Outputs": [
                {"OutputKey": k, "OutputValue": v} for k, v in fake_outputs(self.stage, self.account, self.region).items()]}]}
        if (service, operation) == ("lambda", "list_event_source_mappings"):
            return {"EventSourceMappings": [{"UUID": "00000000-0000-0000-0000-000000000000"}]}
        return {}


class _DryRunClient:
    def __init__(self, owner: DryRunAws, service: str) -> None:
        self._owner, self._service = owner, service

    def __getattr__(self, operation: str) -> Callable[..., dict[str, Any]]:
        return lambda **kwargs: self._owner.record(self._service, operation, kwargs)


def fake_outputs(stage: str, account: str, region: str) -> dict[str, str]:
    r = StageResources.load(stage)
    concrete = lambda arn: with_account({"a": arn}, account, region)["a"]  # noqa: E731
    return {
        "EventsTableName": r.name("EventsTable"), "TransactionsTableName": r.name("TransactionsTable"),
        "AnalyticsTableName": r.name("AnalyticsTable"),
        "ArchiveBucketName": concrete(r.name("ArchiveBucket")),
        "TransactionsStreamArn": concrete(r.stream("TransactionsTable").replace("*", "2026-01-01T00:00:00.000")),
        "WebhookSecretsId": r.name("WebhookSecrets"),
        "CursorKeySecretId": r.name("CursorKeySecret"),
        "StreamFailuresQueueArn": concrete(r.queue("StreamFailuresQueue")),
        "ScheduleDeadLetterQueueArn": concrete(r.queue("ScheduleDeadLetterQueue")),
        "AlertsTopicArn": concrete(r.topic("AlertsTopic")),
        "AlertsTableName": r.name("AlertsTable"),
        "PaymentAlertsTopicArn": concrete(r.topic("PaymentAlertsTopic")),
        "PaymentAlertsQueueArn": concrete(r.queue("PaymentAlertsQueue")),
        "ChangeFeedBusName": r.name("ChangeFeedBus"),
        "ChangeFeedBusArn": concrete(r.event_bus("ChangeFeedBus")),
        "WebAclArn": f"arn:aws:wafv2:{region}:{account}:regional/webacl/{stack_name(stage)}/dry-run",
    }


# 1. The resources stack ------------------------------------------------------------------

def deploy_stack(cfn: Any, stage: str, options: DeployOptions, poll: float = 5.0,
                 timeout: float = 1800.0) -> dict[str, str]:
    from botocore.exceptions import ClientError

    name = stack_name(stage)
    parameters = {"Stage": stage, "LogRetentionDays": str(options.log_retention_days),
                  "AlertEmail": options.alert_email, "EnableWaf": "true" if options.waf else "false"}
    kwargs = {"StackName": name, "TemplateBody": TEMPLATE_PATH.read_text(encoding="utf-8"),
              "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
              "Tags": [{"Key": "app", "Value": "payment-webhooks"}, {"Key": "stage", "Value": stage}]}
    try:
        existing = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" not in str(exc):
            raise
        existing = []
    try:
        if existing and existing[0]["StackStatus"] != "REVIEW_IN_PROGRESS":
            cfn.update_stack(**kwargs)
        else:
            cfn.create_stack(**kwargs, EnableTerminationProtection=True)
    except ClientError as exc:
        if "No updates are to be performed" not in str(exc):
            raise
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if status.endswith(("FAILED", "ROLLBACK_COMPLETE")) or time.monotonic() > deadline:
            raise SystemExit(f"stack {name} is {status}: {stack.get('StackStatusReason', '')}")
        time.sleep(poll)


# 2. chalice deploy -----------------------------------------------------------------------

def chalice_environment(outputs: Mapping[str, str]) -> dict[str, str]:
    """Stage variables known only from the stack (applied when Chalice imports app.py)."""
    return {"TRANSACTIONS_STREAM_ARN": outputs["TransactionsStreamArn"],
            "ARCHIVE_BUCKET": outputs["ArchiveBucketName"],
            "PAYMENT_ALERTS_TOPIC_ARN": outputs["PaymentAlertsTopicArn"]}


def run_chalice_deploy(project: Path, stage: str, region: str) -> None:
    env = {**os.environ, "AWS_DEFAULT_REGION": region}
    subprocess.run([chalice_command(), "deploy", "--stage", stage], cwd=project, env=env, check=True)  # nosec B603 # fixed argv, no shell; stage is validated by argparse choices


def rest_api_id(stage: str, deployed_dir: Path) -> str:
    """From Chalice's own record of what it deployed (`.chalice/deployed/<stage>.json`)."""
    record = deployed_dir / f"{stage}.json"
    if not record.exists():
        return "<rest-api-id>"
    resources = json.loads(record.read_text(encoding="utf-8"))["resources"]
    return next(r["rest_api_id"] for r in resources if r.get("resource_type") == "rest_api")


# 3. What chalice deploy cannot configure ---------------------------------------------------

def configure_api_stage(apigw: Any, api_id: str, options: DeployOptions) -> None:
    apigw.update_stage(restApiId=api_id, stageName=API_STAGE, patchOperations=[
        {"op": "replace", "path": "/tracingEnabled", "value": "true"},
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(options.rate_limit)},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(options.burst_limit)},
    ])


def configure_gateway_responses(apigw: Any, api_id: str) -> None:
    """API Gateway's own errors restated; they reach callers only once the stage is
    deployed again."""
    for response_type, response in gateway_responses().items():
        arguments: dict[str, Any] = {"restApiId": api_id, "responseType": response_type,
                                     "responseTemplates": response["ResponseTemplates"]}
        if "StatusCode" in response:
            arguments["statusCode"] = response["StatusCode"]
        apigw.put_gateway_response(**arguments)
    apigw.create_deployment(restApiId=api_id, stageName=API_STAGE,
                            description="gateway responses in the contract's error shape")


def associate_waf(wafv2: Any, web_acl_arn: str, api_id: str, region: str) -> None:
    wafv2.associate_web_acl(WebACLArn=web_acl_arn,
                            ResourceArn=f"arn:aws:apigateway:{region}::/restapis/{api_id}/stages/{API_STAGE}")


def configure_stream_mapping(lambda_client: Any, function_name: str, outputs: Mapping[str, str]) -> None:
    mappings = lambda_client.list_event_source_mappings(
        FunctionName=function_name, EventSourceArn=outputs["TransactionsStreamArn"])["EventSourceMappings"]
    if len(mappings) != 1:
        raise SystemExit(f"expected one stream mapping for {function_name}, found {len(mappings)}")
    lambda_client.update_event_source_mapping(
        UUID=mappings[0]["UUID"],
        **STREAM_MAPPING,
        DestinationConfig={"OnFailure": {"Destination": outputs["StreamFailuresQueueArn"]}},
    )


def configure_dead_letter(lambda_client: Any, function_name: str, outputs: Mapping[str, str]) -> None:
    lambda_client.update_function_configuration(
        FunctionName=function_name, DeadLetterConfig={"TargetArn": outputs["ScheduleDeadLetterQueueArn"]})


def configure_queue_mapping(lambda_client: Any, function_name: str, queue_arn: str) -> None:
    """Partial batch answers (`batchItemFailures`) on the SQS mapping `chalice deploy` made."""
    mappings = lambda_client.list_event_source_mappings(
        FunctionName=function_name, EventSourceArn=queue_arn)["EventSourceMappings"]
    if len(mappings) != 1:
        raise SystemExit(f"expected one queue mapping for {function_name}, found {len(mappings)}")
    lambda_client.update_event_source_mapping(UUID=mappings[0]["UUID"], **QUEUE_MAPPING)


def deploy(stage: str, options: DeployOptions, aws: Any,
           run_chalice: Callable[[Path, str, str], None] = run_chalice_deploy,
           build_root: Path = BUILD_ROOT) -> dict[str, str]:
    account = aws.client("sts").get_caller_identity()["Account"]
    region = aws.region
    outputs = deploy_stack(aws.client("cloudformation"), stage, options, poll=0.0 if isinstance(aws, DryRunAws) else 5.0)
    project = assemble(stage, build_root / stage, lambda doc: with_account(doc, account, region),
                       options.allowlist, chalice_environment(outputs))
    run_chalice(project, stage, region)
    api_id = rest_api_id(stage, project / ".chalice" / "deployed")
    configure_api_stage(aws.client("apigateway"), api_id, options)
    configure_gateway_responses(aws.client("apigateway"), api_id)
    if options.waf:
        associate_waf(aws.client("wafv2"), outputs["WebAclArn"], api_id, region)
    lambda_client = aws.client("lambda")
    functions = stage_functions(stage)
    for function in (f for f in STREAM_HANDLERS if f in functions):
        configure_stream_mapping(lambda_client, lambda_name(stage, function), outputs)
    for function in (f for f in SCHEDULED_JOBS if f in functions):
        configure_dead_letter(lambda_client, lambda_name(stage, function), outputs)
    resources = StageResources.load(stage)
    for function in (f for f in QUEUE_HANDLERS if f in functions):
        queue_arn = with_account({"arn": resources.queue(QUEUE_HANDLERS[function])}, account, region)["arn"]
        configure_queue_mapping(lambda_client, lambda_name(stage, function), queue_arn)
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, choices=["dev", "prod"])
    parser.add_argument("--dry-run", action="store_true", help="print what would be done; call nothing")
    parser.add_argument("--region", help="default: the AWS session's (dry run: us-east-1)")
    add_edge_arguments(parser)
    parser.add_argument("--alert-email", default="")
    parser.add_argument("--log-retention-days", type=int, default=30)
    args = parser.parse_args(argv)
    options = DeployOptions(**edge_arguments(args), alert_email=args.alert_email,
                            log_retention_days=args.log_retention_days)
    if args.dry_run:
        aws: Any = DryRunAws(args.region or "us-east-1", "123456789012", args.stage)
        build_root = REPO_ROOT / "build" / "deploy-dry-run"

        def run_chalice(project: Path, stage: str, region: str) -> None:
            print(f"[dry-run] (cd {project} && AWS_DEFAULT_REGION={region} chalice deploy --stage {stage})")

        deploy(args.stage, options, aws, run_chalice, build_root)
        print(f"[dry-run] rendered project left in {build_root / args.stage} for review")
        return 0
    import boto3

    aws = Aws(boto3.session.Session(region_name=args.region) if args.region else None)
    outputs = deploy(args.stage, options, aws)
    print(json.dumps(outputs, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
