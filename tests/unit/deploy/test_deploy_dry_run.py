"""`make deploy DRY_RUN=1`: the whole deploy path runs, calling nothing."""
from __future__ import annotations

import json
from pathlib import Path

from chalicelib.api.gateway_errors import gateway_responses
from deploy import deploy as deploying
from deploy.edge import validate_allowlist


def test_a_dry_run_plans_the_stack_chalice_and_the_settings_chalice_cannot_make(tmp_path: Path) -> None:
    aws = deploying.DryRunAws("eu-west-1", "111122223333", "prod", print_line=lambda _line: None)
    chalice_runs: list[tuple[Path, str, str]] = []
    options = deploying.DeployOptions(burst_limit=3000, waf=True,
                                      allowlist=validate_allowlist({"stripe": ["3.18.12.63/32"]}))
    deploying.deploy("prod", options, aws, lambda *args: chalice_runs.append(args), tmp_path)

    operations = [(service, operation) for service, operation, _ in aws.calls]
    assert operations[:3] == [("sts", "get_caller_identity"), ("cloudformation", "describe_stacks"),
                              ("cloudformation", "update_stack")]
    assert ("apigateway", "update_stage") in operations and ("wafv2", "associate_web_acl") in operations
    stack_call = next(kwargs for s, o, kwargs in aws.calls if o == "update_stack")
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack_call["Parameters"]}["EnableWaf"] == "true"
    patches = next(kwargs for s, o, kwargs in aws.calls if o == "update_stage")["patchOperations"]
    assert {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "3000"} in patches
    assert {"op": "replace", "path": "/tracingEnabled", "value": "true"} in patches

    responses = {kwargs["responseType"]: kwargs for s, o, kwargs in aws.calls if o == "put_gateway_response"}
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert set(responses) == set(gateway_responses())
    assert operations.index(("apigateway", "create_deployment")) > max(
        n for n, call in enumerate(operations) if call == ("apigateway", "put_gateway_response"))

    mapping = next(kwargs for s, o, kwargs in aws.calls if o == "update_event_source_mapping")
    assert (mapping["TumblingWindowInSeconds"], mapping["ParallelizationFactor"]) == (900, 1)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"] and mapping["BisectBatchOnFunctionError"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(":payment-webhooks-prod-stream-failures")
    dead_letter = next(kwargs for s, o, kwargs in aws.calls if o == "update_function_configuration")
    assert dead_letter == {"FunctionName": "payment-webhooks-prod-archive_transactions", "DeadLetterConfig": {
        "TargetArn": "arn:aws:sqs:eu-west-1:111122223333:payment-webhooks-prod-schedule-dlq"}}

    (project, stage, region), = chalice_runs
    assert (stage, region) == ("prod", "eu-west-1")
    rendered = (project / ".chalice" / "policy-prod-api_handler.json").read_text()
    assert "${AWS::" not in rendered and "arn:aws:dynamodb:eu-west-1:111122223333:table/" in rendered
    config = json.loads((project / ".chalice" / "config.json").read_text())
    assert config["stages"]["prod"]["api_gateway_policy_file"] == "api-policy-prod.json"
    assert config["stages"]["prod"]["environment_variables"]["TRANSACTIONS_STREAM_ARN"].startswith(
        "arn:aws:dynamodb:eu-west-1:111122223333:table/payment-webhooks-prod-transactions/stream/")
    assert config["stages"]["prod"]["environment_variables"]["ARCHIVE_BUCKET"] == (
        "payment-webhooks-prod-archive-111122223333")
    assert (project / ".chalice" / "deployed").is_symlink()


def test_a_dry_run_makes_the_risk_queue_mapping_report_batch_item_failures(tmp_path: Path) -> None:
    aws = deploying.DryRunAws("eu-west-1", "111122223333", "prod", print_line=lambda _line: None)
    deploying.deploy("prod", deploying.DeployOptions(), aws, lambda *args: None, tmp_path)
    listed = [kwargs for s, o, kwargs in aws.calls if o == "list_event_source_mappings"
              and kwargs["FunctionName"] == "payment-webhooks-prod-assess_payment_risk"]
    assert listed == [{"FunctionName": "payment-webhooks-prod-assess_payment_risk",
                       "EventSourceArn": "arn:aws:sqs:eu-west-1:111122223333:payment-webhooks-prod-risk-assessments"}]
    updates = [kwargs for s, o, kwargs in aws.calls if o == "update_event_source_mapping"]
    assert {"UUID": "00000000-0000-0000-0000-000000000000",
            "FunctionResponseTypes": ["ReportBatchItemFailures"]} in updates
