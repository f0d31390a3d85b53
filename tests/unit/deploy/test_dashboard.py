"""The dashboard of infra/resources.json is what deploy/dashboard.py writes from the lists
of functions and dead-letter queues, so a new one cannot be left off it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.settings import dead_letter_queues
from deploy import dashboard
from deploy.stage import TEMPLATE_PATH, lambda_name, stage_functions


def test_the_checked_in_dashboard_is_what_deploy_dashboard_writes(capsys: pytest.CaptureFixture[str]) -> None:
    assert dashboard.main(["--check"]) == 0, capsys.readouterr().err


def test_a_stale_dashboard_fails_the_check_and_is_rewritten_in_place(tmp_path: Path) -> None:
    template = tmp_path / "resources.json"
    current = TEMPLATE_PATH.read_text(encoding="utf-8")
    forgotten = r',[\"AWS/SQS\",\"ApproximateNumberOfMessagesVisible\",\"QueueName\",' \
                r'\"payment-webhooks-${Stage}-risk-assessments-dlq\"]'  # a queue left off by hand
    assert forgotten in current
    template.write_text(current.replace(forgotten, "", 1), encoding="utf-8")
    assert template.read_text(encoding="utf-8") != current
    assert dashboard.main(["--check", "--template", str(template)]) == 1
    assert dashboard.main(["--template", str(template)]) == 0
    assert template.read_text(encoding="utf-8") == current


def test_every_function_and_dead_letter_queue_has_its_lines() -> None:
    rows = [row for w in dashboard.widgets() for row in w["properties"]["metrics"]]
    for function in stage_functions("prod"):
        name = lambda_name("${Stage}", function)
        for metric in ("Errors", "Throttles", "Duration"):
            assert ["AWS/Lambda", metric, "FunctionName", name] in rows, (metric, function)
    for queue in dead_letter_queues("payment-webhooks-${Stage}"):
        assert ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue.queue] in rows
    body = json.loads(json.dumps(dashboard.dashboard_body()))
    assert body["Fn::Join"][1][0] == '{"widgets":[' and body["Fn::Join"][1][-1] == "]}"
