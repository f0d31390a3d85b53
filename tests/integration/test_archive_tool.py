"""`make archive` and `make restore` (python -m local.archive) against a running emulator."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from urllib.parse import urlparse

from tests.support.archival import NOW, seed
from tests.support.emulator import REPO_ROOT


def tool(aws, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ARCHIVE_", "TRANSACTIONS_",
                                                                      "EVENTS_", "WEBHOOK_"))}
    env["EMULATOR_PORT"] = str(urlparse(aws.endpoint_url).port)
    done = subprocess.run([sys.executable, "-m", "local.archive", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = "\n" + done.stdout  # JSON log lines, then the indented report
    return json.loads(text[text.rindex("\n{\n") + 1:])


def test_make_archive_runs_the_job_now_and_make_restore_brings_the_events_back(aws, services) -> None:
    data = seed(services, {("stripe", 40): 2}, recent=1)

    report = tool(aws, "run")

    assert (report["archived"], report["complete"]) == (2, True)
    assert all(services.transactions().get(*ref).events == () for ref in data.old)
    day = (NOW - timedelta(days=40)).date().isoformat()
    restored = tool(aws, "restore", "--provider", "stripe", "--date", day)
    assert (restored["lines"], restored["restored"]) == (2, 2)
    assert all(services.transactions().get(*ref).events == txn.events for ref, txn in data.old.items())


def test_the_local_stage_names_the_bucket_the_template_creates(aws) -> None:
    config = json.loads((REPO_ROOT / ".chalice" / "config.json").read_text())
    assert config["stages"]["local"]["environment_variables"]["ARCHIVE_BUCKET"] == aws.outputs["ArchiveBucketName"]
