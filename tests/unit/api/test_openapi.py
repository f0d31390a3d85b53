"""openapi.yaml is the API reference a newcomer reads: it must describe exactly the routes
app.py serves, with the methods, guards and vocabularies the code has."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from typing import Any

import pytest
from openapi_spec_validator import validate

import app
from chalicelib.domain.events import Outcome
from chalicelib.domain.status import Status
from chalicelib.providers.registry import provider_names
from chalicelib.api.analytics import daily_view
from chalicelib.domain.analytics import DailyFigures, DayBucket
from tests.support.openapi import load_spec, operations, schema_errors
from tests.support.signing import REPO_ROOT

ERROR_REF = "#/components/schemas/Error"
# Each route and method with the authorizer it gets when imported the way a deployed stage is.
DEPLOYED_AUTHORIZERS = """
import json, app
print(json.dumps([[path, method.lower(), entry.authorizer is not None]
                  for path, methods in app.app.routes.items() for method, entry in methods.items()]))
"""


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_spec()


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["schemas"][name]


def test_the_document_is_valid_openapi(spec) -> None:
    assert spec["openapi"].startswith(("3.0", "3.1"))
    validate(spec)


def test_every_route_and_method_of_the_app_is_documented_and_nothing_else(spec) -> None:
    served = {(path, method.lower()) for path, methods in app.app.routes.items() for method in methods}
    assert set(operations(spec)) == served


def test_sigv4_is_documented_on_exactly_the_routes_a_deployed_stage_guards(spec) -> None:
    env = {**{k: v for k, v in os.environ.items() if k not in ("STAGE", "API_AUTH")},
           "STAGE": "prod", "API_AUTH": "iam"}
    out = subprocess.run([sys.executable, "-c", DEPLOYED_AUTHORIZERS], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    guarded = {(path, method) for path, method, signed in json.loads(out.splitlines()[-1]) if signed}
    documented = {key for key, operation in operations(spec).items()
                  if {"sigv4": []} in operation.get("security", [])}
    assert documented == guarded
    assert guarded and set(operations(spec)) - guarded


def test_every_error_response_has_the_contract_error_shape(spec) -> None:
    shared = spec["components"]["responses"]
    for key, operation in operations(spec).items():
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            response = shared[response["$ref"].rsplit("/", 1)[-1]] if "$ref" in response else response
            assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (key, status)
    assert schema(spec, "Error")["required"] == ["error", "message"]


def test_the_vocabularies_are_the_ones_the_code_uses(spec) -> None:
    # A new provider is one module: the document names the built-in ones as examples only.
    assert set(schema(spec, "Provider")["examples"]) <= set(provider_names())
    assert all(re.fullmatch(schema(spec, "Provider")["pattern"], name) for name in provider_names())
    assert schema(spec, "Status")["enum"] == [status.value for status in Status]
    assert schema(spec, "Outcome")["enum"] == [outcome.value for outcome in Outcome]


def test_the_daily_analytics_view_matches_its_documented_schema() -> None:
    rows = [(DayBucket(date(2026, 1, 1), "stripe", "USD"),
             DailyFigures(count=2, by_status={Status.SUCCEEDED: 1, Status.REFUNDED: 1},
                          gross_volume=4000, refunded_volume=2000))]
    assert schema_errors("/analytics/daily", "get", 200, daily_view(rows)) == []
    assert schema_errors("/analytics/daily", "get", 200, {"days": [{"date": "2026-01-01"}]}) != []


def test_the_payment_alerts_view_matches_its_documented_schema() -> None:
    from datetime import datetime, timezone

    from chalicelib.api.alerts import recent_view
    from chalicelib.domain.alerts import ALERT_KINDS
    from chalicelib.storage.alerts import StoredAlert

    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    alerts = [StoredAlert("dispute", "stripe/pi_1", "disputed", at, "stripe/pi_1", "sent", "{}", {}),
              StoredAlert("dead_letter", "stream-failures", "2 records", at, None, "sent", "{}", {})]
    assert schema_errors("/admin/alerts", "get", 200, recent_view(alerts)) == []
    assert schema_errors("/admin/alerts", "get", 200, {"items": [{"kind": "dispute"}]}) != []
    kinds = load_spec()["components"]["schemas"]["AlertList"]["properties"]["items"]["items"]["properties"]["kind"]
    assert tuple(kinds["enum"]) == ALERT_KINDS
