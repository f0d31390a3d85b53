"""`make redrive [STAGE=dev|prod]`: redrive every dead-letter queue (docs/api.md section 11).

    python -m local.redrive                 # the running `make run` stack, through its API
    python -m local.redrive --stage prod    # a deployed stage, with your own AWS credentials

Locally it asks the running API (http://127.0.0.1:${PORT:-8000}) for the queues and posts
each one's redrive until it is complete. For a deployed stage it runs the same service
in this process with the operator's credentials (AWS_PROFILE / AWS_REGION as usual): the
letters are read and deleted with them, and each stream consumer or job is invoked through
Lambda, so it runs with its own role. Prints what each queue did; exits 1 when any record
failed again (it stays in its queue).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from collections.abc import Callable

REDRIVE_SECONDS = 300.0
"""A deployed stage's redrive from here is not bound by the API's timeout."""

Redrive = Callable[[str], dict]


def through_api(base_url: str) -> tuple[list[str], Redrive]:
    def call(method: str, path: str) -> dict:
        # an empty JSON body: urllib would label a bare POST form-encoded, which the API refuses (415)
        request = urllib.request.Request(base_url + path, method=method, data=b"" if method == "POST" else None,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:  # nosec B310 # the local API the operator names (http on 127.0.0.1)
            return json.loads(response.read())

    names = [queue["name"] for queue in call("GET", "/admin/dead-letters")["queues"]]
    return names, lambda name: call("POST", f"/admin/dead-letters/{name}/redrive")


def in_process(stage: str) -> tuple[list[str], Redrive]:
    os.environ["STAGE"] = stage
    from chalicelib import wiring

    from chalicelib.api.operations import redrive as answer

    service = wiring.dead_letter_service(budget_seconds=REDRIVE_SECONDS)
    return service.names(), lambda name: answer(service.redrive(name))  # the API's shape


def redrive_all(names: list[str], redrive: Redrive, out: Callable[[str], None] = print) -> int:
    failed = 0
    for name in names:
        totals = {"redriven": 0, "failed": 0}
        reapplied: dict[str, int] | None = None
        while True:
            report = redrive(name)
            totals["redriven"] += report["redriven"]
            totals["failed"] += report["failed"]
            if "reapplied" in report:  # stream failures re-applied from the table
                reapplied = {k: (reapplied or {}).get(k, 0) + n for k, n in report["reapplied"].items()}
            if report.get("complete", True):
                break
        failed += totals["failed"]
        line = f"{name}: redriven {totals['redriven']}, failed {totals['failed']}"
        if reapplied is not None:
            line += f" (from the table: {reapplied['transactions']} transactions, {reapplied['buckets']} buckets)"
        out(line)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local", help="local (the running make run stack), dev or prod")
    args = parser.parse_args(argv)
    try:
        if args.stage == "local":
            names, redrive = through_api(f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
        else:
            names, redrive = in_process(args.stage)
    except OSError as exc:
        print(f"local.redrive: no API at port {os.environ.get('PORT', '8000')} ({exc}); start `make run` "
              "first (or set PORT)", file=sys.stderr)
        return 2
    return redrive_all(names, redrive)


if __name__ == "__main__":
    sys.exit(main())
