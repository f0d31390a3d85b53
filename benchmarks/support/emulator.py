"""What a benchmark against the project's emulator in a child process needs: credentials
that can reach nothing real, the emulator started (by default through the cheap-reads
launcher, benchmarks/support/fast_emulator.py), a stage provisioned into it, clients built
as the app builds them, and items loaded 25 to a BatchWriteItem.

The data lives in the emulator's process, so tracemalloc in the benchmark's process sees
only the measured code. Call `use_emulator_credentials()` before importing boto3 users."""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
STAGE = "local"
SECRETS_FILE = REPO_ROOT / "local" / "secrets.json"
BATCH_WRITE_LIMIT = 25
"""Items per BatchWriteItem on AWS (moto accepts more)."""
PLAIN, CHEAP_READS = "local.emulator", "benchmarks.support.fast_emulator"


def use_emulator_credentials() -> None:
    """Every client names the emulator's endpoint itself; nothing can reach a real account."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    })


_SESSION: Any = None


def client(service: str, endpoint_url: str) -> Any:
    """A client configured as chalicelib/wiring.aws_client builds the app's, from one
    session (botocore's data files are read once), but for a longer read timeout: the
    emulator, on a loaded machine, can take longer than the app's 5 s over a request that
    DynamoDB answers in milliseconds, and a retry would count it twice."""
    import boto3
    from botocore.config import Config

    global _SESSION
    if _SESSION is None:
        _SESSION = boto3.session.Session()
    config = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2,
                    read_timeout=30, tcp_keepalive=True, parameter_validation=False)
    return _SESSION.client(service, endpoint_url=endpoint_url, config=config)


def start_emulator(plain: bool = False) -> Any:
    """The emulator as a child process (a context manager that stops it)."""
    from local.emulator_process import EmulatorProcess

    return EmulatorProcess(start_timeout=60.0, module=PLAIN if plain else CHEAP_READS)


def fresh_stage(endpoint_url: str) -> dict[str, str]:
    """The emulator wiped and infra/resources.json deployed into it: the stack's outputs."""
    from local import provision

    provision.reset_emulator(endpoint_url)
    return provision.provision(endpoint_url, STAGE, SECRETS_FILE)


def load_items(ddb: Any, table: str, items: Iterable[dict[str, Any]]) -> int:
    """Every item (wire attributes) into `table`, 25 to a BatchWriteItem, unprocessed ones
    sent again; how many were written."""
    def write(batch: list[dict[str, Any]]) -> None:
        request: dict[str, Any] = {table: batch}
        while request:
            request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    written = 0
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == BATCH_WRITE_LIMIT:
            write(batch)
            written, batch = written + len(batch), []
    if batch:
        write(batch)
        written += len(batch)
    return written
