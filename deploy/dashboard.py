"""The CloudWatch dashboard of infra/resources.json (`Dashboard`), written from the lists it
shows: the functions (deploy/stage.py: the API handler, STREAM_HANDLERS, SCHEDULED_JOBS,
QUEUE_HANDLERS) and the dead-letter queues (chalicelib/settings.py, the one inventory).

A new function or queue then appears on the dashboard by regenerating it, like the policy
files: `python -m deploy.dashboard` rewrites the resource's `DashboardBody` in the
checked-in template (the rest of the file is left as it is), `--check` fails when it is
stale, and tests/unit/deploy/test_dashboard.py runs that check. The body stays what
CloudFormation takes: a `Fn::Join` of one `Fn::Sub` per widget, `${Stage}` and
`${AWS::Region}` filled in per stack."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from chalicelib.settings import dead_letter_queues
from deploy.stage import (
    API_HANDLER, QUEUE_HANDLERS, SCHEDULED_JOBS, STREAM_HANDLERS, TEMPLATE_PATH, lambda_name, stack_name,
)

STAGE = "${Stage}"
Widget = dict[str, Any]


def functions() -> list[str]:
    """Every deployed function, as CloudWatch names it in this stack."""
    return [lambda_name(STAGE, f) for f in (API_HANDLER, *STREAM_HANDLERS, *SCHEDULED_JOBS, *QUEUE_HANDLERS)]


def widget(x: int, y: int, title: str, stat: str, metrics: list[list[Any]], period: int = 300) -> Widget:
    return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": {
        "title": title, "region": "${AWS::Region}", "stat": stat, "period": period, "view": "timeSeries",
        "metrics": metrics}}


def lambda_metric(metric: str, names: list[str]) -> list[list[Any]]:
    return [["AWS/Lambda", metric, "FunctionName", name] for name in names]


def widgets() -> list[Widget]:
    webhooks = "SEARCH('{PaymentWebhooks,Stage,Provider,Outcome} MetricName=\"Webhooks\" Stage=\"${Stage}\"', 'Sum', 300)"
    queues = [queue.queue for queue in dead_letter_queues(stack_name(STAGE))]
    return [
        widget(0, 0, "Webhooks by provider and outcome", "Sum", [[{"expression": webhooks, "id": "webhooks"}]]),
        widget(12, 0, "Webhook latency (ms)", "p50", [
            ["PaymentWebhooks", "WebhookLatency", "Stage", STAGE, {"stat": "p50", "label": "p50"}],
            ["...", {"stat": "p99", "label": "p99"}]]),
        widget(0, 6, "Signature failures", "Sum", [["PaymentWebhooks", "SignatureFailures", "Stage", STAGE]]),
        widget(12, 6, "API Gateway requests and errors", "Sum", [
            ["AWS/ApiGateway", "Count", "ApiName", "payment-webhooks", "Stage", "api"],
            [".", "4XXError", ".", ".", ".", "."], [".", "5XXError", ".", ".", ".", "."]]),
        widget(0, 12, "Lambda errors and throttles", "Sum",
               lambda_metric("Errors", functions()) + lambda_metric("Throttles", functions())),
        widget(12, 12, "Lambda duration (p99, ms)", "p99", lambda_metric("Duration", functions())),
        widget(0, 18, "Dead-letter queues (visible messages)", "Maximum",
               [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name] for name in queues]),
        widget(12, 18, "Stream iterator age (max, ms)", "Maximum",
               lambda_metric("IteratorAge", [lambda_name(STAGE, f) for f in STREAM_HANDLERS]), period=60),
    ]


def dashboard_body() -> dict[str, Any]:
    parts = [json.dumps(w, separators=(",", ":")) for w in widgets()]
    subs: list[Any] = [{"Fn::Sub": part + ("," if n < len(parts) - 1 else "")} for n, part in enumerate(parts)]
    return {"Fn::Join": ["", ["{\"widgets\":[", *subs, "]}"]]}


def rendered(template_text: str) -> str:
    """The template's text with its DashboardBody written anew, one widget a line."""
    lines = template_text.splitlines(keepends=True)
    start = next(n for n, line in enumerate(lines) if line.lstrip().startswith('"DashboardBody": '))
    end = next(n for n in range(start, len(lines)) if lines[n].strip() == "]]}")
    indent = lines[start][:len(lines[start]) - len(lines[start].lstrip())]
    join = dashboard_body()["Fn::Join"][1]
    body = [f'{indent}"DashboardBody": {{"Fn::Join": ["", [\n']
    body += [f"{indent}    {json.dumps(part)},\n" for part in join[:-1]]
    body += [f"{indent}    {json.dumps(join[-1])}\n", f"{indent}]]}}\n"]
    return "".join(lines[:start] + body + lines[end + 1:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or --check) the Dashboard of infra/resources.json")
    parser.add_argument("--check", action="store_true", help="fail if the dashboard is stale")
    parser.add_argument("--template", type=Path, default=TEMPLATE_PATH)
    args = parser.parse_args(argv)
    current = args.template.read_text(encoding="utf-8")
    expected = rendered(current)
    if json.loads(expected)["Resources"]["Dashboard"]["Properties"]["DashboardBody"] != dashboard_body():
        print("the rendered template does not hold the dashboard it was given", file=sys.stderr)
        return 1
    if current == expected:
        return 0
    if args.check:
        print(f"{args.template}: the dashboard is stale. Run: python -m deploy.dashboard", file=sys.stderr)
        return 1
    args.template.write_text(expected, encoding="utf-8")
    print(f"wrote the dashboard of {args.template}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
