"""Edge protection that lives outside the app: the webhook source-IP allowlist.

The allowlist is an API Gateway resource policy (Chalice's `api_gateway_policy_file`),
written only when the operator gives one (`WEBHOOK_ALLOWLIST=file.json`, shaped
`{"stripe": ["3.18.12.63/32", ...], "adyen": [...]}`; providers left out stay open to
any address, as `/health` always is). Providers publish their webhook source ranges
(Stripe, Adyen, Square); the generic route's callers are in-house.

Why these statements: with a resource policy, API Gateway lets a request through an
unauthenticated route only if the policy allows it, so the public routes are allowed
explicitly and nothing else is. The IAM-authorized routes are deliberately *not* allowed
to `*` here: for same-account callers the caller's own IAM policy already suffices, and
an Allow to `*` would let any AWS account's signed request in. The Deny with
`NotIpAddress` is a resource-policy condition evaluated by API Gateway, not part of any
function's policy (which stay condition-free, see deploy.policies)."""
from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROVIDERS = ("stripe", "adyen", "square", "generic")
PUBLIC_ROUTES = ["execute-api:/*/POST/webhooks/*", "execute-api:/*/GET/health"]


class AllowlistError(ValueError):
    """The allowlist file names an unknown provider or holds something that is not a CIDR."""


def load_allowlist(path: Path) -> dict[str, list[str]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AllowlistError(f"{path}: {exc}") from exc
    if not isinstance(document, dict):
        raise AllowlistError(f"{path}: expected an object of provider -> list of CIDRs")
    return validate_allowlist(document)


def validate_allowlist(document: Mapping[str, Any]) -> dict[str, list[str]]:
    allowlist: dict[str, list[str]] = {}
    for provider, cidrs in document.items():
        if provider not in PROVIDERS:
            raise AllowlistError(f"unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)}")
        if not isinstance(cidrs, list) or not cidrs:
            raise AllowlistError(f"{provider}: expected a non-empty list of CIDRs")
        try:
            allowlist[provider] = [str(ipaddress.ip_network(c, strict=True)) for c in cidrs]
        except (TypeError, ValueError) as exc:
            raise AllowlistError(f"{provider}: {exc}") from exc
    return allowlist


def webhook_resource_policy(allowlist: Mapping[str, list[str]]) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [{
        "Sid": "PublicRoutes", "Effect": "Allow", "Principal": "*",
        "Action": "execute-api:Invoke", "Resource": PUBLIC_ROUTES,
    }]
    for provider in sorted(allowlist):
        statements.append({
            "Sid": f"{provider.capitalize()}WebhooksOnlyFromProvider", "Effect": "Deny", "Principal": "*",
            "Action": "execute-api:Invoke", "Resource": f"execute-api:/*/POST/webhooks/{provider}",
            "Condition": {"NotIpAddress": {"aws:SourceIp": list(allowlist[provider])}},
        })
    return {"Version": "2012-10-17", "Statement": statements}
