"""The gateway responses: every one renders to the contract's `{"error", "message"}`."""
from __future__ import annotations

import json

import pytest

from chalicelib.api.gateway_errors import GATEWAY_ERRORS, gateway_responses, local_error


def rendered(template: str, aws_message: str) -> dict:
    """What API Gateway makes of the template for an error saying `aws_message`."""
    return json.loads(template.replace("$context.error.messageString", json.dumps(aws_message)))


@pytest.mark.parametrize("response_type", sorted(GATEWAY_ERRORS))
def test_every_gateway_response_is_an_error_code_and_a_message(response_type: str) -> None:
    response = gateway_responses()[response_type]
    body = rendered(response["ResponseTemplates"]["application/json"], 'Rate "exceeded"')
    assert set(body) == {"error", "message"} and body["error"] == GATEWAY_ERRORS[response_type].code
    assert body["message"]


def test_an_unknown_route_is_404_not_found_and_throttling_429_throttled() -> None:
    responses = gateway_responses()
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert rendered(responses["THROTTLED"]["ResponseTemplates"]["application/json"], "Too Many Requests") == {
        "error": "throttled", "message": "Too Many Requests"}
    assert responses["THROTTLED"]["StatusCode"] == "429"
    assert "StatusCode" not in responses["DEFAULT_4XX"]  # keeps API Gateway's own status


def test_the_local_gateways_errors_are_restated_as_the_deployed_ones_answer() -> None:
    status, body = local_error(403, b'{"message": "Missing Authentication Token"}')
    assert (status, json.loads(body)["error"]) == (404, "not_found")
    status, body = local_error(401, b'{"message": "Unauthorized"}')
    assert (status, json.loads(body)) == (401, {"error": "access_denied", "message": "Unauthorized"})
