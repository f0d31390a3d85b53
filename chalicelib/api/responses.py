"""The one place where errors become HTTP responses (contract: `{"error", "message"}`)."""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib.errors import ServiceError

logger = logging.getLogger("payment_webhooks")

_CHALICE_ERRORS = {405: "method_not_allowed", 415: "unsupported_media_type"}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body={"error": code, "message": message}, status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def json_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Domain exceptions become their contract response; anything else becomes a bare 500
    (the stack trace goes to the log, never to the caller)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ServiceError as exc:
            return error_response(exc.status, exc.code, exc.message)
        except Exception:  # noqa: BLE001 - the last line of defence
            logger.exception("unhandled error in %s", view.__name__)
            return error_response(500, "internal_error", "internal error")

    return wrapper


def contract_shape(response: Response) -> Response:
    """Chalice answers 405 and 415 itself, in its own shape; restate them in ours."""
    if response.status_code in _CHALICE_ERRORS and isinstance(response.body, (str, bytes, dict)):
        body = response.body
        if isinstance(body, (str, bytes)):
            try:
                body = json.loads(body)
            except ValueError:
                return response
        if isinstance(body, dict) and "Code" in body:
            extra = {k: v for k, v in response.headers.items() if k.lower() == "allow"}
            return error_response(
                response.status_code, _CHALICE_ERRORS[response.status_code],
                str(body.get("Message", "")), extra,
            )
    return response
