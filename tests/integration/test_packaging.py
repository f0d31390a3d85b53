"""`make package` output, linted the way CI must: `chalice package --merge-template` for
prod into one SAM template, cfn-lint clean, holding everything the stage needs; and
infra/resources.json cfn-lint clean on its own."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy.edge import validate_allowlist
from deploy.edge import EdgeOptions
from deploy.package import logical_id, package
from deploy.policies import for_cloudformation
from deploy.stage import API_HANDLER, CHALICE_DIR, TEMPLATE_PATH, load_chalice_config, stage_functions

CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))
PUBLIC_PATHS = {"/health", "/webhooks/{provider}"}
# The Chalice CLI's own dependencies: what a `chalice` line in requirements.txt drags in.
BUILD_TOOLING = {"pip", "setuptools", "wheel", "_distutils_hack", "pkg_resources", "yaml",
                 "_yaml", "inquirer", "blessed", "wcwidth", "jinxed", "readchar", "editor", "runs",
                 "xmod", "click"}


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CFN_LINT, str(path)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    path = package("prod", tmp_path_factory.mktemp("dist") / "prod")
    yield path, json.loads(path.read_text())


@pytest.fixture(scope="module")
def dev_with_edge(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    allowlist = validate_allowlist({"stripe": ["3.18.12.63/32"], "adyen": ["82.199.87.0/24"]})
    path = package("dev", tmp_path_factory.mktemp("dist") / "dev",
                   EdgeOptions(burst_limit=2000, waf=True, allowlist=allowlist))
    return path, json.loads(path.read_text())


def test_the_resources_template_is_cfn_lint_clean() -> None:
    result = cfn_lint(TEMPLATE_PATH)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_prod_package_is_one_cfn_lint_clean_sam_template_with_its_zip(prod) -> None:
    path, template = prod
    assert (path.parent / "deployment.zip").stat().st_size > 0
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    result = cfn_lint(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_package_holds_the_app_and_chalice_runtime_but_no_build_tooling(prod) -> None:
    path, _ = prod
    with zipfile.ZipFile(path.parent / "deployment.zip") as bundle:
        names = set(bundle.namelist())
    top_level = {name.split("/")[0] for name in names}
    distributions = {name.split("-")[0].lower() for name in top_level if name.endswith(".dist-info")}
    assert {"app.py", "chalicelib/wiring.py", "chalice/app.py"} <= names
    assert "boto3" in top_level and "pydantic" in top_level
    assert top_level & BUILD_TOOLING == set()
    assert distributions & ({"chalice", "pyyaml"} | BUILD_TOOLING) == set()
    assert {name for name in names if name.startswith("chalice/")} == {"chalice/__init__.py", "chalice/app.py"}


def test_the_unzipped_package_answers_health_with_nothing_but_the_standard_library_beside_it(
        prod, tmp_path: Path) -> None:
    path, _ = prod
    with zipfile.ZipFile(path.parent / "deployment.zip") as bundle:
        bundle.extractall(tmp_path)
    event = {"resource": "/health", "path": "/health", "httpMethod": "GET", "headers": {},
             "multiValueHeaders": {}, "queryStringParameters": None,
             "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None,
             "requestContext": {"resourcePath": "/health", "httpMethod": "GET", "requestId": "r-1",
                                "path": "/api/health"},
             "body": None, "isBase64Encoded": False}
    lambda_handler = (  # -S: no site-packages, so only what the zip holds can be imported
        "import json, sys, types; sys.path.insert(0, '.'); import app; "
        "context = types.SimpleNamespace(aws_request_id='a-1', function_name='f', memory_limit_in_mb=512, "
        "invoked_function_arn='arn', log_stream_name='s'); "
        "print(json.dumps(app.app(json.loads(sys.argv[1]), context)))")
    result = subprocess.run(
        [sys.executable, "-S", "-c", lambda_handler, json.dumps(event)], cwd=tmp_path,
        env={"STAGE": "prod", "API_AUTH": "iam", "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout.strip().splitlines()[-1])
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"status": "ok"})


def test_the_package_with_waf_and_an_allowlist_is_cfn_lint_clean(dev_with_edge) -> None:
    path, template = dev_with_edge
    result = cfn_lint(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert template["Parameters"]["EnableWaf"]["Default"] == "true"
    assert template["Parameters"]["ApiThrottlingBurstLimit"]["Default"] == 2000
    policy = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-policy"]
    denies = {s["Resource"]: s["Condition"]["NotIpAddress"]["aws:SourceIp"] for s in policy["Statement"] if s["Effect"] == "Deny"}
    assert denies == {"execute-api:/*/POST/webhooks/adyen": ["82.199.87.0/24"],
                      "execute-api:/*/POST/webhooks/stripe": ["3.18.12.63/32"]}
    assert template["Resources"]["WebAclAssociation"]["Condition"] == "UseWaf"


def test_the_package_holds_every_resource_of_the_stage(prod) -> None:
    _, template = prod
    resources = json.loads(TEMPLATE_PATH.read_text())["Resources"]
    assert set(resources) <= set(template["Resources"])
    assert template["Parameters"]["Stage"]["AllowedValues"] == ["prod"]


def test_each_function_is_configured_as_the_stage_says(prod) -> None:
    _, template = prod
    config = load_chalice_config()
    for function in stage_functions("prod", config):
        properties = template["Resources"][logical_id(function)]["Properties"]
        scoped = config["stages"]["prod"]["lambda_functions"][function]
        own = config["lambda_functions"].get(function, {})
        timeout = own.get("lambda_timeout", config["lambda_timeout"])
        memory = own.get("lambda_memory_size", config["lambda_memory_size"])
        assert properties["Tracing"] == "Active"
        assert (properties["MemorySize"], properties["Timeout"]) == (memory, timeout)
        assert properties["ReservedConcurrentExecutions"] == scoped["reserved_concurrency"]
        assert properties["Environment"]["Variables"]["API_AUTH"] == "iam"
        role = template["Resources"][properties["Role"]["Fn::GetAtt"][0]]["Properties"]
        checked_in = json.loads((CHALICE_DIR / scoped["iam_policy_file"]).read_text())
        assert role["Policies"][0]["PolicyDocument"] == for_cloudformation(checked_in)
    assert template["Resources"][logical_id(API_HANDLER)]["Properties"]["FunctionName"] == {
        "Fn::Sub": "payment-webhooks-${Stage}"}


def test_every_route_but_webhooks_and_health_requires_sigv4(prod) -> None:
    _, template = prod
    api = template["Resources"]["RestAPI"]["Properties"]
    secured = {path: any("sigv4" in s for op in ops.values() for s in op.get("security", []))
               for path, ops in api["DefinitionBody"]["paths"].items()}
    assert {p for p, s in secured.items() if not s} == PUBLIC_PATHS
    assert len(secured) > len(PUBLIC_PATHS)
    assert api["TracingEnabled"] is True
    assert api["MethodSettings"][0]["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert template["Parameters"]["ApiThrottlingRateLimit"]["Default"] == 10000


def test_the_stream_mapping_and_the_schedule_get_what_chalice_cannot_set(prod) -> None:
    from deploy.stage import SCHEDULED_JOBS, STREAM_HANDLERS, STREAM_MAPPING

    _, template = prod
    for function in STREAM_HANDLERS:
        properties = template["Resources"][logical_id(function)]["Properties"]
        (source,) = properties["Events"].values()
        assert source["Type"] == "DynamoDB"
        assert source["Properties"]["Stream"] == {"Fn::GetAtt": ["TransactionsTable", "StreamArn"]}
        assert {k: source["Properties"][k] for k in STREAM_MAPPING} == STREAM_MAPPING
        assert source["Properties"]["DestinationConfig"] == {
            "OnFailure": {"Destination": {"Fn::GetAtt": ["StreamFailuresQueue", "Arn"]}}}
    for function in SCHEDULED_JOBS:
        properties = template["Resources"][logical_id(function)]["Properties"]
        assert [e["Type"] for e in properties["Events"].values()] == ["Schedule"]
        assert properties["DeadLetterQueue"] == {
            "Type": "SQS", "TargetArn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}}
        assert properties["Environment"]["Variables"]["ARCHIVE_BUCKET"] == {"Ref": "ArchiveBucket"}


def test_the_alerts_queue_mapping_reports_batch_item_failures_and_every_function_knows_the_topic(prod) -> None:
    from deploy.stage import QUEUE_MAPPING

    _, template = prod
    (source,) = template["Resources"][logical_id("send_payment_alerts")]["Properties"]["Events"].values()
    assert source["Properties"]["Queue"] == {"Fn::Sub": "${PaymentAlertsQueue.Arn}"}
    assert {k: source["Properties"][k] for k in QUEUE_MAPPING} == QUEUE_MAPPING
    for function in stage_functions("prod"):
        variables = template["Resources"][logical_id(function)]["Properties"]["Environment"]["Variables"]
        assert variables["PAYMENT_ALERTS_TOPIC_ARN"] == {"Ref": "PaymentAlertsTopic"}


def test_the_api_answers_gateway_errors_in_the_contracts_shape(prod) -> None:
    """SAM's GatewayResponses: part of the API definition, so every deployment has them."""
    from chalicelib.api.gateway_errors import gateway_responses

    _, template = prod
    responses = template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    assert responses == gateway_responses()
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"


def test_the_package_carries_paypal_s_ca_bundle_and_a_cryptography_build_lambda_can_load(prod) -> None:
    """Lambda's Python 3.11 runs on glibc 2.26: a manylinux_2_34 wheel (what a recent Linux
    installs locally) would fail to import there, so the packaged one must be older."""
    import zipfile

    path, _ = prod
    with zipfile.ZipFile(path.parent / "deployment.zip") as archive:
        names = set(archive.namelist())
        assert "chalicelib/providers/paypal/digicert-roots.pem" in names
        (wheel,) = [n for n in names if n.startswith("cryptography-") and n.endswith(".dist-info/WHEEL")]
        tags = [line.removeprefix("Tag: ") for line in archive.read(wheel).decode().splitlines()
                if line.startswith("Tag: ")]
    glibc = [tuple(map(int, tag.split("manylinux_")[1].split("_")[:2])) for tag in tags if "manylinux_" in tag]
    assert glibc and min(glibc) <= (2, 26), tags


def test_the_package_holds_only_the_app_chalice_s_runtime_and_the_runtime_requirements(prod) -> None:
    """No test code, no local stack, no deploy or benchmark scripts, no build tooling: every
    top-level entry is the app or a file of a distribution requirements.txt installs."""
    from importlib import metadata

    from tests.support.supply_chain import REPO_ROOT, closure, pinned

    path, _ = prod
    with zipfile.ZipFile(path.parent / "deployment.zip") as bundle:
        names = bundle.namelist()
    runtime = closure(pinned(REPO_ROOT / "requirements.txt"))
    shipped = {"app.py", "chalicelib", "chalice"}
    for name, version in runtime.items():
        files = metadata.distribution(name).files or []
        shipped |= {str(file).split("/")[0] for file in files if not str(file).startswith("..")}
        shipped.add(f"{metadata.distribution(name).metadata['Name'].replace('-', '_')}-{version}.data")
    top_level = {name.split("/")[0] for name in names}
    assert top_level - shipped == set(), sorted(top_level - shipped)
    assert not [name for name in names if name.split("/")[0] in {"tests", "local", "deploy", "benchmarks",
                                                                  "infra", "docs", ".chalice", ".ci"}]
    assert not [name for name in names if name.startswith("chalicelib/")
                and (name.rsplit("/", 1)[-1].startswith("test_") or name.endswith("conftest.py"))]
    from tests.support.report import publish

    publish("Lambda package contents", f"{len(names)} files; top level: {', '.join(sorted(top_level))}")


def test_the_package_carries_the_console_page(prod) -> None:
    path, _ = prod
    with zipfile.ZipFile(path.parent / "deployment.zip") as archive:
        assert "chalicelib/api/console.html" in archive.namelist()


def test_the_risk_queue_mapping_reports_batch_item_failures_on_the_templates_own_queue(prod) -> None:
    from deploy.stage import QUEUE_HANDLERS, QUEUE_MAPPING

    _, template = prod
    for function, queue in QUEUE_HANDLERS.items():
        (source,) = template["Resources"][logical_id(function)]["Properties"]["Events"].values()
        assert source["Type"] == "SQS"
        assert source["Properties"]["Queue"] == {"Fn::Sub": f"${{{queue}.Arn}}"}
        assert {k: source["Properties"][k] for k in QUEUE_MAPPING} == QUEUE_MAPPING
        assert template["Resources"][queue]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
