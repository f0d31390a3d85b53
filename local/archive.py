"""`make archive` and `make restore`: archival against the running `make run` stack.
Never deployed.

    python -m local.archive                          # run the scheduled job once, now
    python -m local.archive restore --provider stripe --date 2026-10-01

`run` calls the app's own scheduled handler (`archive_transactions`) exactly as Lambda
would, with a 15-minute context. `restore` puts an archived partition's events back onto
its archived records for an audit (see chalicelib/services/archive/restore.py). Both find
the emulator at http://127.0.0.1:${EMULATOR_PORT:-4566} and the resource names in its
CloudFormation stack.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from typing import Any

from local import provision
from local.run import STAGE, app_env

LAMBDA_TIMEOUT_MS = 900_000  # the deployed function's timeout (.chalice/config.json)


def invoke_archival() -> dict[str, Any]:
    """The scheduled handler, called like Lambda calls it (the environment must be set)."""
    return invoke_scheduled("archive_transactions")


def invoke_scheduled(function: str) -> dict[str, Any]:
    """A scheduled handler of app.py (`archive_transactions`, `validate_reconciliations`)
    called like Lambda calls it, with the deployed 15-minute timeout."""
    import app
    from chalice.local import LambdaContext

    event = {"version": "0", "id": "local", "detail-type": "Scheduled Event",
             "source": "aws.events", "account": "123456789012",
             "time": "", "region": provision.DEFAULT_REGION, "resources": [], "detail": {}}
    context = LambdaContext(function, memory_size=1024, max_runtime_ms=LAMBDA_TIMEOUT_MS)
    return getattr(app, function)(event, context)


def use_running_stack(tool: str = "local.archive") -> None:
    """Point this process at the emulator `make run` started, or explain what is missing
    (the message starts with `tool`, the command that needed it)."""
    endpoint = f"http://127.0.0.1:{os.environ.get('EMULATOR_PORT', '4566')}"
    try:
        stacks = provision.client("cloudformation", endpoint).describe_stacks(
            StackName=provision.stack_name(STAGE))["Stacks"]
    except Exception as exc:  # connection refused, or no stack
        raise SystemExit(f"{tool}: no provisioned emulator at {endpoint} ({type(exc).__name__}); "
                         f"start `make run` first (or set EMULATOR_PORT)") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    os.environ.update(app_env(endpoint, outputs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the archival job once, now (the default)")
    restore = commands.add_parser("restore", help="restore an archived partition for an audit")
    restore.add_argument("--provider", required=True)
    restore.add_argument("--date", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    args = parser.parse_args(argv)
    use_running_stack()
    if args.command == "restore":
        from chalicelib import wiring
        from chalicelib.errors import NotFound

        try:
            report = wiring.archive_restore_service().restore(args.provider, args.date).as_dict()
        except NotFound as exc:
            print(f"local.archive: {exc.message}", file=sys.stderr)
            return 1
    else:
        report = invoke_archival()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
