"""infra/resources.json's observability resources: what CloudFormation cannot check."""
from __future__ import annotations

import json

from deploy.stage import DEPLOYED_STAGES, lambda_name, load_template, stage_functions

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]


def substitute(value: object, stage: str) -> str:
    """The few intrinsics the dashboard uses, resolved as CloudFormation would."""
    if isinstance(value, str):
        return value
    assert isinstance(value, dict) and len(value) == 1, value
    (function, argument), = value.items()
    if function == "Fn::Sub":
        return argument.replace("${Stage}", stage).replace("${AWS::Region}", "eu-west-1")
    if function == "Fn::Join":
        separator, parts = argument
        return separator.join(substitute(part, stage) for part in parts)
    raise AssertionError(f"unexpected intrinsic {function}")


def test_the_dashboard_body_is_valid_json_naming_the_stage_functions_and_queues() -> None:
    body = json.loads(substitute(RESOURCES["Dashboard"]["Properties"]["DashboardBody"], "prod"))
    text = json.dumps(body)
    assert body["widgets"] and all(w["properties"]["region"] == "eu-west-1" for w in body["widgets"])
    for function in stage_functions("prod"):
        assert lambda_name("prod", function) in text
    assert "payment-webhooks-prod-stream-failures" in text and "payment-webhooks-prod-schedule-dlq" in text


def test_every_alarm_notifies_the_alerts_topic_both_ways() -> None:
    alarms = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    assert len(alarms) >= 7
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}] == alarm["OKActions"], name
        assert alarm["TreatMissingData"] == "notBreaching", name


def test_every_deployed_function_has_a_log_group_with_retention_and_error_alarms() -> None:
    groups = {v["Properties"]["LogGroupName"]["Fn::Sub"] for v in RESOURCES.values() if v["Type"] == "AWS::Logs::LogGroup"}
    alarmed = {json.dumps(v["Properties"].get("Dimensions")) for v in RESOURCES.values()
               if v["Type"] == "AWS::CloudWatch::Alarm" and v["Properties"].get("Namespace") == "AWS/Lambda"}
    for stage in DEPLOYED_STAGES:
        for function in stage_functions(stage):
            name = lambda_name("${Stage}", function)
            assert f"/aws/lambda/{name}" in groups
            assert json.dumps([{"Name": "FunctionName", "Value": {"Fn::Sub": name}}]) in alarmed
    assert all(v["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
               for v in RESOURCES.values() if v["Type"] == "AWS::Logs::LogGroup")


def test_the_template_fits_a_direct_create_stack_call() -> None:
    """`make deploy` passes TemplateBody inline: CloudFormation's limit is 51,200 bytes."""
    from deploy.stage import TEMPLATE_PATH

    assert len(TEMPLATE_PATH.read_bytes()) < 51_200
