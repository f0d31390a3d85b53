"""`make console STAGE=dev|prod`: the operator console of a deployed stage, on 127.0.0.1.
Never deployed.

    python -m local.console --stage prod [--port 8001] [--api-url URL] [--region REGION]

Serves the page `GET /console` serves (chalicelib/api/console.py) and forwards its API
calls to the stage, signed with SigV4 from your own AWS credentials (the usual places:
AWS_PROFILE, environment, SSO), so IAM stays the only way in (local/signing_proxy.py says
what it forwards and what it refuses). The stage's API URL comes from `--api-url`, else
from Chalice's record of `make deploy` (`.chalice/deployed/<stage>.json`), else from the
`EndpointURL` output of stack `payment-webhooks-<stage>` (`make package` path).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from chalicelib.api.console import console_page
from deploy.stage import CHALICE_DIR, DEPLOYED_STAGES, stack_name
from local.signing_proxy import ConsoleProxy, Upstream

DEFAULT_PORT = 8001
_EXECUTE_API_REGION = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com")


class ConsoleSetupError(RuntimeError):
    """No API URL, region or credentials for the stage."""


def deployed_api_url(stage: str, deployed_dir: Path = CHALICE_DIR / "deployed") -> str | None:
    record = deployed_dir / f"{stage}.json"
    if not record.exists():
        return None
    resources = json.loads(record.read_text(encoding="utf-8")).get("resources", [])
    return next((r["rest_api_url"] for r in resources if r.get("resource_type") == "rest_api"), None)


def stack_api_url(session: Any, stage: str) -> str | None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stacks = session.create_client("cloudformation").describe_stacks(StackName=stack_name(stage))["Stacks"]
    except (BotoCoreError, ClientError):
        return None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    return outputs.get("EndpointURL")


def api_region(api_url: str, session: Any) -> str:
    """The region in an execute-api host name, else the session's."""
    found = _EXECUTE_API_REGION.search(api_url)
    region = found.group(1) if found else session.get_config_variable("region")
    if not region:
        raise ConsoleSetupError("no AWS region: pass --region or set AWS_REGION")
    return region


def build_upstream(stage: str, api_url: str | None, region: str | None, session: Any) -> Upstream:
    api_url = api_url or deployed_api_url(stage) or stack_api_url(session, stage)
    if not api_url:
        raise ConsoleSetupError(f"no API URL for stage {stage}: deploy it first or pass --api-url")
    credentials = session.get_credentials()
    if credentials is None:
        raise ConsoleSetupError("no AWS credentials: set AWS_PROFILE (or log in with `aws sso login`)")
    return Upstream(api_url, region or api_region(api_url, session), credentials.get_frozen_credentials)


def main(argv: list[str] | None = None) -> int:
    import botocore.session

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, choices=DEPLOYED_STAGES)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--api-url", help="the stage's API URL, e.g. https://<id>.execute-api.<region>.amazonaws.com/api")
    parser.add_argument("--region", help="default: the API URL's, else your AWS configuration's")
    args = parser.parse_args(argv)
    try:
        upstream = build_upstream(args.stage, args.api_url, args.region, botocore.session.Session())
        proxy = ConsoleProxy(upstream, console_page(), args.port)
    except (ConsoleSetupError, OSError) as error:
        print(f"make console: {error}", file=sys.stderr)
        return 2
    print(f"operator console of stage {args.stage} ({upstream.api_url}, signed for {upstream.region}):\n"
          f"  open http://127.0.0.1:{proxy.port}/console   (Ctrl-C to stop)", flush=True)
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        proxy.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
