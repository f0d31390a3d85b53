"""The webhook source-IP allowlist as an API Gateway resource policy."""
from __future__ import annotations

import pytest

from chalicelib.providers.registry import provider_names
from deploy.edge import AllowlistError, validate_allowlist, webhook_resource_policy


def test_only_public_routes_are_allowed_to_anyone_and_listed_providers_are_fenced() -> None:
    policy = webhook_resource_policy(validate_allowlist({"square": ["54.245.1.154/32", "2001:db8::/32"]}))
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allows == [{"Sid": "PublicRoutes", "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
                       "Resource": ["execute-api:/*/POST/webhooks/*", "execute-api:/*/GET/health"]}]
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Resource"] == "execute-api:/*/POST/webhooks/square"
    assert deny["Condition"] == {"NotIpAddress": {"aws:SourceIp": ["54.245.1.154/32", "2001:db8::/32"]}}


@pytest.mark.parametrize("document", [
    {"worldpay": ["1.2.3.4/32"]}, {"stripe": []}, {"stripe": ["not-an-ip"]}, {"stripe": ["10.0.0.1/8"]},
])
def test_an_unknown_provider_or_a_bad_cidr_is_refused(document: dict) -> None:
    with pytest.raises(AllowlistError):
        validate_allowlist(document)


def test_every_registered_provider_and_only_those_can_be_fenced() -> None:
    policy = webhook_resource_policy(validate_allowlist({name: ["192.0.2.0/24"] for name in provider_names()}))
    fenced = sorted(s["Resource"] for s in policy["Statement"] if s["Effect"] == "Deny")
    assert fenced == [f"execute-api:/*/POST/webhooks/{name}" for name in sorted(provider_names())]
