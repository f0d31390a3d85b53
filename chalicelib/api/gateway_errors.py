"""Errors that API Gateway answers itself, before any view runs, in the contract's shape.

API Gateway answers an unknown route, a missing or wrong SigV4 signature, an IAM denial,
throttling and a WAF block with its own `{"message": ...}` body. Every error the service
answers must be `{"error", "message"}` (contract section 5), so each such *gateway
response* is restated here once; both deploy paths install these and the local server
applies the same table to what Chalice's local gateway answers.

A missing SigV4 signature and an unknown route are one gateway response
(MISSING_AUTHENTICATION_TOKEN): it is `404 not_found`, the message says both."""
from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class GatewayError:
    """`status` None keeps API Gateway's own status; `message` None its own message."""

    status: int | None
    code: str
    message: str | None = None


UNKNOWN_ROUTE = GatewayError(
    404, "not_found", "no such route (a protected route answers this too when the request "
                      "carries no AWS SigV4 signature)")

GATEWAY_ERRORS: dict[str, GatewayError] = {
    "MISSING_AUTHENTICATION_TOKEN": UNKNOWN_ROUTE,
    "ACCESS_DENIED": GatewayError(403, "access_denied"),
    "INVALID_SIGNATURE": GatewayError(403, "access_denied"),
    "EXPIRED_TOKEN": GatewayError(403, "access_denied"),
    "UNAUTHORIZED": GatewayError(401, "access_denied"),
    "WAF_FILTERED": GatewayError(403, "forbidden", "the request was blocked by the web application firewall"),
    "THROTTLED": GatewayError(429, "throttled"),
    "QUOTA_EXCEEDED": GatewayError(429, "throttled"),
    "REQUEST_TOO_LARGE": GatewayError(413, "payload_too_large"),
    "UNSUPPORTED_MEDIA_TYPE": GatewayError(415, "unsupported_media_type"),
    "BAD_REQUEST_BODY": GatewayError(400, "invalid_request"),
    "BAD_REQUEST_PARAMETERS": GatewayError(400, "invalid_request"),
    "INTEGRATION_TIMEOUT": GatewayError(504, "unavailable"),
    "DEFAULT_4XX": GatewayError(None, "request_refused"),
    "DEFAULT_5XX": GatewayError(None, "unavailable"),
}
"""Response type -> what it answers. The DEFAULT_ types cover every other type."""

JSON = "application/json"


def response_template(error: GatewayError) -> str:
    """The mapping template (VTL) of one gateway response: our code, and API Gateway's
    message as a JSON string (`messageString` is already quoted and escaped)."""
    message = json.dumps(error.message) if error.message is not None else "$context.error.messageString"
    return '{"error": %s, "message": %s}' % (json.dumps(error.code), message)


def gateway_responses() -> dict[str, dict[str, object]]:
    """Every gateway response as SAM's `GatewayResponses` (package path) and as the
    arguments of `put_gateway_response` (deploy path) both read them."""
    responses: dict[str, dict[str, object]] = {}
    for response_type, error in GATEWAY_ERRORS.items():
        response: dict[str, object] = {"ResponseTemplates": {JSON: response_template(error)}}
        if error.status is not None:
            response["StatusCode"] = str(error.status)
        responses[response_type] = response
    return responses


def local_error(status: int, body: bytes | None) -> tuple[int, bytes]:
    """What Chalice's local gateway raised (its status and API Gateway-shaped body),
    restated as the deployed gateway responses answer it."""
    try:
        message = json.loads(body or b"{}").get("message") or ""
    except (ValueError, AttributeError):
        message = ""
    if status == 403 and message == "Missing Authentication Token":
        error = UNKNOWN_ROUTE
    elif status in (401, 403):
        error = GATEWAY_ERRORS["ACCESS_DENIED" if status == 403 else "UNAUTHORIZED"]
    else:
        error = GATEWAY_ERRORS["DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"]
    answered = error.status or status
    return answered, json.dumps({"error": error.code, "message": error.message or message}).encode()
