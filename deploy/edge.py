"""Edge protection that lives outside the app: the webhook source-IP allowlist.

The allowlist is an API Gateway resource policy (Chalice's `api_gateway_policy_file`),
written only when the operator gives one (`WEBHOOK_ALLOWLIST=file.json`, shaped
`{"stripe": ["3.18.12.63/32", ...], "adyen": [...]}`; providers left out stay open to
any address, as `/health` always is). Any registered provider may be listed: most publish
their webhook source ranges, and the generic route's callers are in-house.

Why these statements: with a resource policy, API Gateway lets a request through an
unauthenticated route only if the policy allows it, so the public routes are allowed
explicitly and nothing else is. The IAM-authorized routes are deliberately *not* allowed
to `*` here: for same-account callers the caller's own IAM policy already suffices, and
an Allow to `*` would let any AWS account's signed request in. The Deny with
`NotIpAddress` is a resource-policy condition evaluated by API Gateway, not part of any
function's policy (which stay condition-free, see deploy.policies)."""
from __future__ import annotations

import argparse
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.providers.registry import provider_names

PUBLIC_ROUTES = ["execute-api:/*/POST/webhooks/*", "execute-api:/*/GET/health"]


@dataclass(frozen=True)
class EdgeOptions:
    """What both deploy paths (`make deploy`, `make package`) put in front of the app:
    API throttling, the optional WAF web ACL and the optional webhook allowlist."""

    rate_limit: int = 10000
    burst_limit: int = 5000
    waf: bool = False
    allowlist: Mapping[str, list[str]] = field(default_factory=dict)


def add_edge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate-limit", type=int, default=EdgeOptions.rate_limit)
    parser.add_argument("--burst-limit", type=int, default=EdgeOptions.burst_limit)
    parser.add_argument("--waf", action="store_true", help="create and associate the WAF web ACL")
    parser.add_argument("--webhook-allowlist", type=Path, help="JSON: provider -> list of CIDRs")


def edge_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The `EdgeOptions` fields given by `add_edge_arguments`' flags."""
    return dict(rate_limit=args.rate_limit, burst_limit=args.burst_limit, waf=args.waf,
                allowlist=load_allowlist(args.webhook_allowlist) if args.webhook_allowlist else {})


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
    known = provider_names()
    for provider, cidrs in document.items():
        if provider not in known:
            raise AllowlistError(f"unknown provider {provider!r}; expected one of {', '.join(known)}")
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
