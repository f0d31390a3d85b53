"""schemathesis drives every operation of openapi.yaml with requests generated from its
schemas (valid and invalid parameters, bodies and headers): none is answered with a 5xx,
every answer's status, content type and body are the ones the document declares for it, and
every error is in the contract's shape (docs/api.md section 5).

The webhook bodies schemathesis makes are not signed (it cannot know the secrets), so they
exercise everything before the signature check; tests/e2e/test_hostile_input_properties.py
sends correctly signed garbage to every provider. Example counts follow the hypothesis
profile (`HYPOTHESIS_PROFILE`): a few per operation in CI, hundreds in `make reliability`."""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import schemathesis
from chalice.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance,
)

from tests.support.in_process import assert_contract, in_process_app
from tests.support.report import publish
from tests.support.signing import REPO_ROOT

EXAMPLES = {"ci": 4, "fuzz": 40, "reliability": 700}[os.environ.get("HYPOTHESIS_PROFILE", "ci")]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
schema = schemathesis.openapi.from_path(REPO_ROOT / "openapi.yaml")
ANSWERS: Counter[tuple[str, int]] = Counter()


@pytest.fixture(scope="module")
def app_client() -> Iterator[Client]:
    with in_process_app("schemathesis") as client:
        yield client
    total = sum(ANSWERS.values())
    lines = [f"{total} requests; 5xx: {sum(n for (_, status), n in ANSWERS.items() if status >= 500)}"]
    lines += [f"{operation:<48} {status}: {n}" for (operation, status), n in sorted(ANSWERS.items())]
    publish("schemathesis against openapi.yaml (answers by operation and status)", "\n".join(lines))


def as_schemathesis_response(case: Any, path: str, body: bytes | None, headers: dict[str, str],
                             answer: Any) -> schemathesis.Response:
    """The chalice test client's answer as the response schemathesis validates."""
    # A proxy integration's answer without a Content-Type reaches the client as JSON (API
    # Gateway's default, which `chalice local` applies too); the test client leaves it out.
    answered = {"Content-Type": "application/json"} if not any(
        name.lower() == "content-type" for name in answer.headers) else {}
    answered |= answer.headers
    request = requests.Request(case.method.upper(), f"http://localhost{path}", headers=headers,
                               data=body).prepare()
    return schemathesis.Response(status_code=answer.status_code,
                                 headers={name: [value] for name, value in answered.items()},
                                 content=answer.body, request=request, elapsed=0.0, verify=False)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_every_generated_request_is_answered_as_openapi_yaml_declares_and_never_with_a_5xx(
        app_client: Client, case: Any) -> None:
    if case.method.upper() == "OPTIONS":  # Chalice's own preflight answer, which its test client cannot read
        return
    query = {name: value for name, value in (case.query or {}).items() if value is not None}
    try:
        path = case.formatted_path + (f"?{urlencode(query, doseq=True)}" if query else "")
        headers = {name: str(value) for name, value in (case.headers or {}).items()}
        for value in headers.values():
            value.encode("latin-1")
    except (UnicodeEncodeError, ValueError):  # nothing HTTP can carry
        return
    body = None
    if case.body is not None and not isinstance(case.body, schemathesis.core.NotSet):
        body = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
        headers.setdefault("Content-Type", case.media_type or "application/json")
    answer = app_client.http.request(case.method.upper(), path, headers=headers, body=body or b"")
    ANSWERS[(f"{case.method.upper()} {case.path}", answer.status_code)] += 1
    assert_contract(answer, webhook=case.path.startswith("/webhooks"))
    case.validate_response(as_schemathesis_response(case, path, body, headers, answer), checks=CHECKS)
