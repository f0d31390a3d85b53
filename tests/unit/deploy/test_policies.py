"""The checked-in function policies: current, condition-free, exact, consistent with the
template and the stage config."""
from __future__ import annotations

import json

import pytest

from deploy import policies
from deploy.project import policy_files
from deploy.stage import CHALICE_DIR, DEPLOYED_STAGES, StageResources, lambda_name, load_chalice_config


def checked_in_policies() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(CHALICE_DIR.glob("policy-*.json"))}


def test_the_policy_files_are_what_deploy_policies_writes(capsys: pytest.CaptureFixture[str]) -> None:
    assert policies.main(["--check"]) == 0, capsys.readouterr().err


def test_no_function_policy_has_a_condition_or_a_loose_grant() -> None:
    found = checked_in_policies()
    assert found, "no policy files in .chalice/"
    assert {name: policies.lint(doc) for name, doc in found.items()} == {name: [] for name in found}


@pytest.mark.parametrize("bad, complaint", [
    ({"Sid": "C", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"],
      "Condition": {"Bool": {"aws:SecureTransport": "true"}}}, "Condition"),
    ({"Sid": "A", "Effect": "Allow", "Action": ["dynamodb:*"], "Resource": ["arn:aws:dynamodb:r:1:table/t"]}, "wildcard action"),
    ({"Sid": "R", "Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*"}, "Resource '*'"),
    ({"Sid": "W", "Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": ["arn:aws:dynamodb:*:*:table/t"]}, "wildcard region"),
])
def test_the_lint_refuses_conditions_and_wildcards(bad: dict, complaint: str) -> None:
    problems = policies.lint({"Version": "2012-10-17", "Statement": [bad]})
    assert any(complaint in p for p in problems), problems


def test_every_deployed_function_has_its_own_policy_file_in_config() -> None:
    config = load_chalice_config()
    for stage in DEPLOYED_STAGES:
        stage_config = config["stages"][stage]
        assert "iam_policy_file" not in stage_config  # per function, never one for all
        for function, settings in stage_config["lambda_functions"].items():
            assert settings["iam_policy_file"] == policies.policy_filename(stage, function)
        assert set(policy_files(stage_config)) == {
            policies.policy_filename(stage, f) for f in stage_config["lambda_functions"]}


def test_the_stage_variables_name_the_resources_the_template_creates() -> None:
    config = load_chalice_config()
    for stage in ("local", *DEPLOYED_STAGES):
        r = StageResources.load(stage)
        env = config["stages"][stage]["environment_variables"]
        assert env["STAGE"] == stage
        assert env["EVENTS_TABLE"] == r.name("EventsTable")
        assert env["TRANSACTIONS_TABLE"] == r.name("TransactionsTable")
        assert env["WEBHOOK_SECRETS_ID"] == r.name("WebhookSecrets")
        assert env["CURSOR_KEY_SECRET_ID"] == r.name("CursorKeySecret")


def test_deployed_stages_trace_authorize_and_size_their_functions() -> None:
    config = load_chalice_config()
    assert config["autogen_policy"] is False and config["lambda_memory_size"] == 512
    for stage in DEPLOYED_STAGES:
        stage_config = config["stages"][stage]
        assert stage_config["xray"] is True
        assert stage_config["environment_variables"]["API_AUTH"] == "iam"
        assert stage_config["environment_variables"]["TRACING"] == "xray"
        assert "reserved_concurrency" not in stage_config  # a stage-wide value applies to every function
        assert stage_config["lambda_functions"]["api_handler"]["reserved_concurrency"] == 100
    assert "API_AUTH" not in config["stages"]["local"]["environment_variables"]


def test_each_function_writes_only_to_its_own_log_group() -> None:
    for name, document in checked_in_policies().items():
        stage, function = name.removeprefix("policy-").removesuffix(".json").split("-", 1)
        logs = [s for s in document["Statement"] if any(a.startswith("logs:") for a in s["Action"])]
        assert [s["Resource"] for s in logs] == [[
            f"arn:aws:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/aws/lambda/{lambda_name(stage, function)}:*"]]


def test_rendering_fills_in_or_defers_the_account_and_region() -> None:
    document = policies.policy_document("prod", "api_handler")
    concrete = json.dumps(policies.with_account(document, "111122223333", "eu-west-1"))
    assert "${AWS::" not in concrete and ":eu-west-1:111122223333:table/payment-webhooks-prod-events" in concrete
    deferred = policies.for_cloudformation(document)
    assert {"Fn::Sub": "arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/payment-webhooks-prod-events"} in [
        r for s in deferred["Statement"] for r in s["Resource"]]
