"""`make package`: one SAM template (`sam.json`) plus the deployment zip, holding everything.

`chalice package --merge-template` merges a template into the one Chalice generates
(dicts deep-merged, everything else replaced). The merge template is built here from:
- `infra/resources.json`, the stage's resources (tables, secret, queues, topic, alarms,
  dashboard, log groups, optional WAF web ACL), with `Stage` pinned to the packaged stage
  (the functions' environment names that stage's tables);
- `infra/package-overlay.json`: API Gateway tracing, stage throttling, the WAF
  association;
- the gateway responses (chalicelib/api/gateway_errors.py) as the API's SAM
  `GatewayResponses`, so they are part of the deployed API definition;
- per function: the same `FunctionName` `chalice deploy` would give it (so log groups,
  alarms and policies fit), and stream-mapping and dead-letter settings that Chalice
  cannot express (see `function_overlay`).
Chalice itself runs in a build copy of the project whose policy files are rendered with
`Fn::Sub` (deploy.project), with the optional webhook allowlist.

Run: `python -m deploy.package --stage prod --out dist/prod [--waf] [--burst-limit N]
[--webhook-allowlist FILE]`."""
from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess  # nosec B404 # runs the chalice CLI with a fixed argument list
import sys
import tempfile
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from chalicelib.api.gateway_errors import gateway_responses

from deploy.edge import EdgeOptions, add_edge_arguments, edge_arguments
from deploy.policies import for_cloudformation
from deploy.project import assemble
from deploy.stage import (
    API_HANDLER, APP_NAME, QUEUE_HANDLERS, QUEUE_MAPPING, REPO_ROOT, SCHEDULED_JOBS, STREAM_HANDLERS,
    STREAM_MAPPING, lambda_name, load_chalice_config, load_template, stage_functions,
)

OVERLAY_PATH = REPO_ROOT / "infra" / "package-overlay.json"
Template = dict[str, Any]



def stream_handler_overlay(function: str) -> Template:
    """The stream mapping's failure handling, which Chalice cannot express, on the SAM
    event Chalice generates; and the stream of this very template."""
    stream = {"Fn::GetAtt": ["TransactionsTable", "StreamArn"]}
    return {"Properties": {
        "Environment": {"Variables": {"TRANSACTIONS_STREAM_ARN": stream}},
        "Events": {f"{logical_id(function)}DynamodbEventSource": {"Properties": {
            "Stream": stream,
            **STREAM_MAPPING,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["StreamFailuresQueue", "Arn"]}}},
        }}},
    }}


def scheduled_job_overlay(function: str) -> Template:
    """Asynchronous invocations that fail every retry land in the dead-letter queue."""
    return {"Properties": {"DeadLetterQueue": {
        "Type": "SQS", "TargetArn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}}}}


def queue_handler_overlay(function: str) -> Template:
    """The SQS mapping's partial batch answers, which Chalice cannot express; and the queue
    of this very template. Chalice names the queue in an `Fn::Sub`, and a merged dict keeps
    both intrinsics if overridden by another, so the ARN is an `Fn::Sub` too: one that
    references the queue, so CloudFormation creates the queue before the mapping."""
    queue = QUEUE_HANDLERS[function]
    return {"Properties": {"Events": {f"{logical_id(function)}SqsEventSource": {"Properties": {
        "Queue": {"Fn::Sub": f"${{{queue}.Arn}}"},
        **QUEUE_MAPPING,
    }}}}}


def function_overlay(function: str) -> Template:
    """Every function: `chalice deploy`'s name for it, and the names only the stack knows."""
    overlay: Template = {"Properties": {
        "FunctionName": {"Fn::Sub": lambda_name("${Stage}", function)},
        "Environment": {"Variables": {"ARCHIVE_BUCKET": {"Ref": "ArchiveBucket"},
                                      "PAYMENT_ALERTS_TOPIC_ARN": {"Ref": "PaymentAlertsTopic"}}},
    }}
    if function in STREAM_HANDLERS:
        overlay = deep_merge(overlay, stream_handler_overlay(function))
    if function in SCHEDULED_JOBS:
        overlay = deep_merge(overlay, scheduled_job_overlay(function))
    if function in QUEUE_HANDLERS:
        overlay = deep_merge(overlay, queue_handler_overlay(function))
    return overlay


def deep_merge(base: Any, overlay: Any) -> Any:
    """Chalice's merge rule: dicts merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(overlay)


def logical_id(function: str) -> str:
    """Chalice's resource name for a function (the REST API handler is `APIHandler`)."""
    return "APIHandler" if function == API_HANDLER else to_cfn_resource_name(function)


def merge_template(stage: str, functions: list[str], options: EdgeOptions) -> Template:
    template = deep_merge(load_template(), json.loads(OVERLAY_PATH.read_text(encoding="utf-8")))
    template["Description"] = f"{APP_NAME} {stage}: API, functions and every resource they use (one stack)."
    params = template["Parameters"]
    params["Stage"].update({"Default": stage, "AllowedValues": [stage]})
    params["EnableWaf"]["Default"] = "true" if options.waf else "false"
    params["ApiThrottlingRateLimit"]["Default"] = options.rate_limit
    params["ApiThrottlingBurstLimit"]["Default"] = options.burst_limit
    for function in functions:
        template["Resources"][logical_id(function)] = function_overlay(function)
    template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"] = gateway_responses()
    return template


def chalice_command() -> str:
    beside = Path(sys.executable).with_name("chalice")
    return str(beside) if beside.exists() else "chalice"


def package(stage: str, out_dir: Path, options: EdgeOptions = EdgeOptions()) -> Path:
    """Write `sam.json` and `deployment.zip` into `out_dir`; return the template's path."""
    out_dir = out_dir.resolve()
    functions = stage_functions(stage, load_chalice_config())
    with tempfile.TemporaryDirectory(prefix=f"{APP_NAME}-{stage}-package-") as tmp:
        project = assemble(stage, Path(tmp) / "project", for_cloudformation, options.allowlist)
        merge_path = Path(tmp) / "merge.json"
        merge_path.write_text(json.dumps(merge_template(stage, functions, options), indent=2), encoding="utf-8")
        env = {**os.environ}
        env.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # Chalice insists on one; the template uses ${AWS::Region}
        subprocess.run(  # nosec B603 # fixed argv, no shell
            [chalice_command(), "package", "--stage", stage, "--merge-template", str(merge_path), str(out_dir)],
            cwd=project, env=env, check=True,
        )
    return out_dir / "sam.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--out", type=Path, required=True)
    add_edge_arguments(parser)
    args = parser.parse_args(argv)
    options = EdgeOptions(**edge_arguments(args))
    path = package(args.stage, args.out, options)
    print(f"wrote {path} and {path.with_name('deployment.zip')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
