"""`make deploy`'s first step against the emulator: the resources stack is created, then
updated in place (a second run is a no-op), and its outputs are what the later steps use."""
from __future__ import annotations

import boto3

from deploy.deploy import DeployOptions, deploy_stack
from local import provision


def test_the_resources_stack_is_created_then_left_alone_and_its_outputs_feed_the_deploy(aws) -> None:
    cfn = boto3.client("cloudformation", endpoint_url=aws.endpoint_url, region_name=provision.DEFAULT_REGION,
                       **provision.DUMMY_CREDENTIALS)
    first = deploy_stack(cfn, "dev", DeployOptions(alert_email="ops@example.com"), poll=0.05)
    again = deploy_stack(cfn, "dev", DeployOptions(alert_email="ops@example.com"), poll=0.05)
    assert first == again
    assert first["TransactionsStreamArn"].startswith(
        "arn:aws:dynamodb:us-east-1:123456789012:table/payment-webhooks-dev-transactions/stream/")
    assert first["StreamFailuresQueueArn"] == "arn:aws:sqs:us-east-1:123456789012:payment-webhooks-dev-stream-failures"
    assert first["ScheduleDeadLetterQueueArn"].endswith(":payment-webhooks-dev-schedule-dlq")
    assert first["AlertsTopicArn"].endswith(":payment-webhooks-dev-alerts")
    assert "WebAclArn" not in first  # WAF off unless asked for
    parameters = {p["ParameterKey"]: p["ParameterValue"]
                  for p in cfn.describe_stacks(StackName="payment-webhooks-dev")["Stacks"][0]["Parameters"]}
    assert (parameters["Stage"], parameters["AlertEmail"], parameters["EnableWaf"]) == ("dev", "ops@example.com", "false")
    logs = aws.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/payment-webhooks-dev")
    from deploy.stage import lambda_name, stage_functions

    assert sorted((g["logGroupName"], g["retentionInDays"]) for g in logs["logGroups"]) == sorted(
        (f"/aws/lambda/{lambda_name('dev', f)}", 30) for f in stage_functions("dev"))
    dashboards = aws.client("cloudwatch").list_dashboards(DashboardNamePrefix="payment-webhooks-dev")
    assert [d["DashboardName"] for d in dashboards["DashboardEntries"]] == ["payment-webhooks-dev"]
