"""IAM users holding exactly a function's policy, and moto's IAM enforcement switch.

Used by the least-privilege tests with their own emulator (tests.support.iam_emulator):
turning enforcement on in the shared per-worker emulator would break every other test."""
from __future__ import annotations

import json
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from deploy.policies import with_account
from deploy.project import policy_files
from deploy.stage import CHALICE_DIR, load_chalice_config
from local import provision

MOTO_ACCOUNT = "123456789012"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True)
class Credentials:
    user: str
    access_key_id: str
    secret_access_key: str

    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}

    def client(self, service: str, endpoint_url: str) -> Any:
        """A client signing as this user, one attempt only (a denial must surface as is)."""
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(
            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
            region_name=provision.DEFAULT_REGION,
        )
        return session.client(service, endpoint_url=endpoint_url,
                              config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def function_policy(stage: str, function: str, chalice_dir: Path = CHALICE_DIR) -> dict[str, Any]:
    """The function's policy file exactly as checked in, with the emulator's account and
    region filled in (what `make deploy` does with the real ones)."""
    functions = load_chalice_config(chalice_dir)["stages"][stage]["lambda_functions"]
    name = functions[function]["iam_policy_file"]
    assert name in policy_files(load_chalice_config(chalice_dir)["stages"][stage])
    document = json.loads((chalice_dir / name).read_text(encoding="utf-8"))
    return with_account(document, MOTO_ACCOUNT, provision.DEFAULT_REGION)


def create_user(endpoint_url: str, name: str, policy: dict[str, Any]) -> Credentials:
    """An IAM user whose only permissions are `policy` (created while auth is off)."""
    iam = provision.client("iam", endpoint_url)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Credentials(name, key["AccessKeyId"], key["SecretAccessKey"])


def grants(policy: dict[str, Any], keep_sids: frozenset[str] = frozenset()) -> dict[str, tuple[str, str]]:
    """Every (action, resource) pair the policy grants outside `keep_sids`, keyed like
    `without_each_grant`."""
    return {_label(action, resource): (action, resource)
            for statement in policy["Statement"] if statement.get("Sid") not in keep_sids
            for action in _as_list(statement["Action"]) for resource in _as_list(statement["Resource"])}


def grants_not_relied_on(policy: dict[str, Any], allowed: set[tuple[str, str]],
                         keep_sids: frozenset[str] = frozenset()) -> list[str]:
    """The grants (outside `keep_sids`) that none of the `allowed` (action, resource)
    requests needed: a grant is needed when it is the only pair of the whole policy that
    allows some request the function made, so without it that request would be denied.
    This is what removing each pair in turn and rerunning the flows shows
    (`without_each_grant`, the exhaustive tier), from one run of the flows."""
    from tests.support.iam_emulator import iam_pattern_matches

    every = grants(policy)
    needed: set[str] = set()
    for action, resource in allowed:
        matching = [label for label, (a, r) in every.items()
                    if iam_pattern_matches(a, action, True) and iam_pattern_matches(r, resource, False)]
        if len(matching) == 1:
            needed.add(matching[0])
    return sorted(set(grants(policy, keep_sids)) - needed)


class AuthorizationLog:
    """The authorization decisions the least-privilege emulator appends to `path`
    (tests.support.iam_emulator, `IAM_AUTHORIZATIONS_LOG`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.touch()

    def mark(self) -> int:
        return self.path.stat().st_size

    def allowed(self, credentials: Credentials, since: int = 0) -> set[tuple[str, str]]:
        """What `credentials` were allowed since `mark()` returned `since`."""
        with self.path.open(encoding="utf-8") as log:
            log.seek(since)
            decisions = [json.loads(line) for line in log if line.strip()]
        return {(d["action"], d["resource"]) for d in decisions
                if d["allowed"] and d["key"] == credentials.access_key_id}


def without_each_grant(policy: dict[str, Any], keep_sids: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
    """For every (action, resource) pair the policy grants outside `keep_sids`: the policy
    minus that one pair, keyed `"<action> on <resource>"`. If the function's flows still
    pass without a pair, the policy grants more than the function needs."""
    reduced: dict[str, dict[str, Any]] = {}
    statements = policy["Statement"]
    for index, statement in enumerate(statements):
        if statement.get("Sid") in keep_sids:
            continue
        actions = _as_list(statement["Action"])
        resources = _as_list(statement["Resource"])
        for action in actions:
            for resource in resources:
                rest = [{"Action": [action], "Resource": [r for r in resources if r != resource]}]
                rest += [{"Action": [a], "Resource": resources} for a in actions if a != action]
                split = [{**statement, **part, "Sid": f"{statement.get('Sid', 'S')}{n}"}
                         for n, part in enumerate(p for p in rest if p["Resource"])]
                others = statements[:index] + statements[index + 1:]
                reduced[_label(action, resource)] = {**policy, "Statement": others + split}
    return reduced


def _label(action: str, resource: str) -> str:
    return f"{action} on {resource.split(':', 5)[-1]}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _reset_auth(endpoint_url: str, unauthenticated_requests: int) -> None:
    request = urllib.request.Request(
        f"{endpoint_url}/moto-api/reset-auth", method="POST",
        data=str(unauthenticated_requests).encode(), headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, response.status


@contextmanager
def iam_enforced(endpoint_url: str) -> Iterator[None]:
    """Every request from here on must be signed by a user whose policies allow it."""
    _reset_auth(endpoint_url, 0)
    try:
        yield
    finally:
        _reset_auth(endpoint_url, 2**31 - 1)


def status_of(call: Any, **kwargs: Any) -> int:
    """The HTTP status a boto3 call ends with (200, or the error's status)."""
    from botocore.exceptions import ClientError

    try:
        response = call(**kwargs)
    except ClientError as exc:
        return int(exc.response["ResponseMetadata"]["HTTPStatusCode"])
    return int(response["ResponseMetadata"]["HTTPStatusCode"])
