"""Which authorizer guards the non-webhook routes (docs/api.md section 5).

Deployed stages set `API_AUTH=iam` in `.chalice/config.json`: every route but the webhook
receivers and `/health` then requires SigV4 (Chalice's IAMAuthorizer). The local stage
leaves them open. Read when `app.py` is imported, which `chalice package`/`deploy` do
after applying the stage's environment variables, so the generated API definition
carries the authorizer. A typo must not silently leave a deployed API open: an unknown
value, or an open API on any stage but `local`, refuses to import."""
from __future__ import annotations

import os
from collections.abc import Mapping

from chalice import IAMAuthorizer

IAM, NONE = "iam", "none"


class AuthConfigurationError(RuntimeError):
    """API_AUTH is unknown, or `none` outside the local stage."""


def route_authorizer(env: Mapping[str, str] = os.environ) -> IAMAuthorizer | None:
    mode = env.get("API_AUTH", NONE)
    stage = env.get("STAGE", "local")
    if mode == IAM:
        return IAMAuthorizer()
    if mode == NONE and stage == "local":
        return None
    if mode == NONE:
        raise AuthConfigurationError(f"API_AUTH=none is only allowed on the local stage, not {stage!r}")
    raise AuthConfigurationError(f"API_AUTH must be {IAM!r} or {NONE!r}, not {mode!r}")
