"""Create the stage's resources in an AWS endpoint (the local emulator) from infra/resources.json.

Why through CloudFormation: the template is the single definition of the resources, so
deploying it here is how `make run` and the tests stay identical to a real stage. What
moto skips (the `AWS::SecretsManager::Secret`) is seeded separately by `seed_secrets`.

Run: `python -m local.provision [--endpoint-url URL] [--stage local] [--secrets-file F]`.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "infra" / "resources.json"
DEFAULT_SECRETS_FILE = REPO_ROOT / "local" / "secrets.json"
DEFAULT_REGION = "us-east-1"
DUMMY_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",  # nosec B105 # moto's dummy credentials for the local emulator
    "aws_session_token": "testing",  # nosec B105 # moto's dummy credentials for the local emulator
}
_DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
_FAILED_SUFFIXES = ("FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_IN_PROGRESS")


class ProvisionError(RuntimeError):
    """The stack or the secret could not be put in place."""


def stack_name(stage: str) -> str:
    return f"payment-webhooks-{stage}"


@lru_cache(maxsize=64)
def client(service: str, endpoint_url: str, region: str = DEFAULT_REGION) -> Any:
    """A boto3 client for the emulator, with dummy credentials whatever the environment says.

    Cached: building a client takes longer than most calls, and tests provision before
    every test."""
    import boto3

    return boto3.client(service, endpoint_url=endpoint_url, region_name=region, **DUMMY_CREDENTIALS)


def secrets_file_from_env() -> Path:
    return Path(os.environ.get("LOCAL_SECRETS_FILE") or DEFAULT_SECRETS_FILE)


def deploy_resources(endpoint_url: str, stage: str = "local", template_path: Path = TEMPLATE_PATH,
                     timeout: float = 60.0) -> dict[str, str]:
    """Create the stack, or update it when it exists; wait until done; return its outputs.

    Idempotent: deploying an unchanged template again is a no-op."""
    from botocore.exceptions import ClientError

    cfn = client("cloudformation", endpoint_url)
    name = stack_name(stage)
    kwargs = {
        "StackName": name,
        "TemplateBody": template_path.read_text(encoding="utf-8"),
        "Parameters": [{"ParameterKey": "Stage", "ParameterValue": stage}],
    }
    if _stack_status(cfn, name) is None:
        cfn.create_stack(**kwargs)
    else:
        try:
            cfn.update_stack(**kwargs)
        except ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
    outputs = _wait_for_outputs(cfn, name, timeout)
    _apply_ttl_moto_ignores(endpoint_url, json.loads(kwargs["TemplateBody"]), stage)
    return outputs


def _apply_ttl_moto_ignores(endpoint_url: str, template: dict[str, Any], stage: str) -> None:
    """moto's CloudFormation drops TimeToLiveSpecification; set it the way AWS would.

    Only TTL is worth it: it is visible to the app (DescribeTimeToLive), whereas PITR and
    SSE change nothing locally. moto never expires items either way."""
    ddb = client("dynamodb", endpoint_url)
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        ttl = props.get("TimeToLiveSpecification")
        if resource["Type"] != "AWS::DynamoDB::Table" or not ttl or not ttl.get("Enabled"):
            continue
        table = props["TableName"]["Fn::Sub"].replace("${Stage}", stage)
        status = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]["TimeToLiveStatus"]
        if status != "ENABLED":
            ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=ttl)


def _stack_status(cfn: Any, name: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    live = [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
    return live[0]["StackStatus"] if live else None


def _wait_for_outputs(cfn: Any, name: str, timeout: float) -> dict[str, str]:
    """Poll briefly (boto3's waiter sleeps 30 s before its first check; moto is synchronous)."""
    deadline = time.monotonic() + timeout
    delay = 0.0
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status in _DONE:
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if status.endswith(_FAILED_SUFFIXES):
            raise ProvisionError(f"stack {name} ended {status}: {stack.get('StackStatusReason', '')}")
        if time.monotonic() > deadline:
            raise ProvisionError(f"stack {name} still {status} after {timeout:.0f}s")
        delay = min(max(delay * 2, 0.05), 2.0)
        time.sleep(delay)


def seed_secrets(endpoint_url: str, secret_id: str, secrets_file: Path | str | None = None) -> None:
    """Create the secret, or put a new version, holding the secrets file's JSON, once it
    has been checked against the registered providers' sections."""
    path = Path(secrets_file) if secrets_file else secrets_file_from_env()
    text = read_secrets_file(path)
    sm = client("secretsmanager", endpoint_url)
    try:
        sm.create_secret(Name=secret_id, SecretString=text)
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=secret_id, SecretString=text)


def seed_cursor_key(endpoint_url: str, secret_id: str) -> None:
    """The cursor-signing key, random as the template's generated one, unless it exists:
    provisioning again must not invalidate the cursors already handed out."""
    import secrets

    sm = client("secretsmanager", endpoint_url)
    try:
        sm.create_secret(Name=secret_id, SecretString=secrets.token_urlsafe(48))
    except sm.exceptions.ResourceExistsException:
        pass


def read_secrets_file(path: Path) -> str:
    """The file's text, refused (naming fields, never values) unless it is a secrets
    document every registered provider can read: a typo would otherwise leave a provider
    unconfigured and refusing every webhook, with nothing said until the first one."""
    from chalicelib.providers.secrets import InvalidSecretsDocument, validate_document

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProvisionError(f"cannot read the secrets file {path} (LOCAL_SECRETS_FILE): {exc}") from exc
    try:
        validate_document(text)
    except InvalidSecretsDocument as exc:
        raise ProvisionError(f"{path}: {exc}") from None
    return text


def provision(endpoint_url: str, stage: str = "local", secrets_file: Path | str | None = None) -> dict[str, str]:
    """Everything a fresh emulator needs for one stage: the stack, then the secrets."""
    outputs = deploy_resources(endpoint_url, stage)
    seed_secrets(endpoint_url, outputs["WebhookSecretsId"], secrets_file)
    seed_cursor_key(endpoint_url, outputs["CursorKeySecretId"])
    return outputs


def reset_emulator(endpoint_url: str) -> None:
    """Wipe every resource in the emulator (moto's `POST /moto-api/reset`)."""
    import urllib.request

    request = urllib.request.Request(f"{endpoint_url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310 # http to the local emulator's own endpoint
        if response.status != 200:
            raise ProvisionError(f"emulator reset answered {response.status}")


def main(argv: list[str] | None = None) -> None:
    port = os.environ.get("EMULATOR_PORT", "4566")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", default=f"http://127.0.0.1:{port}")
    parser.add_argument("--stage", default=os.environ.get("STAGE", "local"))
    parser.add_argument("--secrets-file", type=Path, default=None,
                        help="default: $LOCAL_SECRETS_FILE, else local/secrets.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    outputs = provision(args.endpoint_url, args.stage, args.secrets_file)
    print(json.dumps(outputs, indent=2))
    print(f"provisioned stage {args.stage} in {time.perf_counter() - started:.2f}s")


if __name__ == "__main__":
    main()
