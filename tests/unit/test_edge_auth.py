"""Contract section 5: in deployed stages every route but the webhook receivers and
/health requires SigV4; the local stage leaves them open; a misconfiguration refuses to
import rather than deploy an open API."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from chalice import IAMAuthorizer

from chalicelib.api.auth import AuthConfigurationError, route_authorizer
from tests.support.signing import REPO_ROOT

PUBLIC = {"/health", "/webhooks/{provider}"}
ROUTES = """
import json, app
print(json.dumps({path: sorted({type(entry.authorizer).__name__ for entry in methods.values()})
                  for path, methods in app.app.routes.items()}))
"""


def authorizers_when_imported(**env: str) -> dict[str, list[str]]:
    clean = {k: v for k, v in os.environ.items() if k not in ("STAGE", "API_AUTH")}
    out = subprocess.run([sys.executable, "-c", ROUTES], cwd=REPO_ROOT, env={**clean, **env},
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_a_deployed_stage_puts_iam_on_every_route_but_webhooks_and_health() -> None:
    routes = authorizers_when_imported(STAGE="prod", API_AUTH="iam")
    assert {p for p, kinds in routes.items() if kinds == ["NoneType"]} == PUBLIC
    assert {p for p, kinds in routes.items() if kinds == ["IAMAuthorizer"]} == set(routes) - PUBLIC


def test_the_local_stage_is_open() -> None:
    routes = authorizers_when_imported(STAGE="local")
    assert all(kinds == ["NoneType"] for kinds in routes.values())


@pytest.mark.parametrize("env", [{"STAGE": "prod"}, {"STAGE": "dev", "API_AUTH": "none"},
                                 {"STAGE": "prod", "API_AUTH": "IAM"}])
def test_a_deployed_stage_without_iam_refuses_to_start(env: dict[str, str]) -> None:
    with pytest.raises(AuthConfigurationError):
        route_authorizer(env)


def test_iam_is_chalices_iam_authorizer() -> None:
    assert isinstance(route_authorizer({"STAGE": "prod", "API_AUTH": "iam"}), IAMAuthorizer)
    assert route_authorizer({}) is None


HANDLERS = """
import json, app
print(json.dumps({"functions": sorted(app.app.handler_map), "sources": [[type(s).__name__, s.name] for s in app.app.event_sources]}))
"""


def test_the_deploy_tooling_knows_every_function_the_app_defines() -> None:
    """Config, policies and the stream/schedule/queue settings must cover every handler."""
    from deploy.stage import API_HANDLER, QUEUE_HANDLERS, SCHEDULED_JOBS, STREAM_HANDLERS, stage_functions

    clean = {k: v for k, v in os.environ.items() if k not in ("STAGE", "API_AUTH")}
    found = json.loads(subprocess.run([sys.executable, "-c", HANDLERS], cwd=REPO_ROOT, env=clean,
                                      capture_output=True, text=True, check=True).stdout.splitlines()[-1])
    streams = {name for kind, name in found["sources"] if kind == "DynamoDBEventConfig"}
    schedules = {name for kind, name in found["sources"] if kind == "ScheduledEventConfig"}
    queues = {name for kind, name in found["sources"] if kind == "SQSEventConfig"}
    assert streams == set(STREAM_HANDLERS) and schedules == set(SCHEDULED_JOBS) and queues == set(QUEUE_HANDLERS)
    for stage in ("dev", "prod"):
        assert set(stage_functions(stage)) == {API_HANDLER} | streams | schedules | queues
