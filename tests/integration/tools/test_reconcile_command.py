"""`make reconcile` and `make backfill` (python -m tools.reconcile) against a running
emulator: exit status, report file, readable summary, and a backfill that a rerun leaves
unchanged."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from urllib.parse import urlparse

from tests.support.emulator import REPO_ROOT
from tests.support.reconciliation import DAY, as_csv, deliver, record


def command(aws, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ARCHIVE_", "TRANSACTIONS_",
                                                                      "EVENTS_", "WEBHOOK_", "ALERTS_", "PAYMENT_"))}
    env["EMULATOR_PORT"] = str(urlparse(aws.endpoint_url).port)
    return subprocess.run([sys.executable, "-m", "tools.reconcile", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_reconcile_exits_by_what_it_found_and_backfill_makes_it_match(aws, services, tmp_path) -> None:
    deliver(services, "g-1")
    deliver(services, "g-2", amount=2500)
    export = tmp_path / "legacy.csv"
    export.write_bytes(as_csv([record("g-1"), record("g-2", updated_at=DAY + timedelta(hours=1)), record("g-3")]))
    report = tmp_path / "report.json"

    differs = command(aws, "reconcile", str(export), "--report", str(report))
    assert differs.returncode == 1, differs.stderr
    assert "DIFFERENCES FOUND" in differs.stdout and "missing    generic/g-3" in differs.stdout
    assert json.loads(report.read_text())["mismatched"][0]["fields"] == {"amount": {"theirs": 2000, "ours": 2500}}

    first = command(aws, "backfill", str(export))
    again = command(aws, "backfill", str(export))
    assert "applied 2, duplicate 0, stale 0 (1 records already matched" in first.stdout, first.stderr
    assert "applied 0, duplicate 0, stale 0 (3 records already matched" in again.stdout, again.stderr

    matches = command(aws, "reconcile", str(export), "--report", str(report))
    assert matches.returncode == 0, matches.stdout + matches.stderr
    assert "everything matches" in matches.stdout


def test_a_malformed_export_exits_2_naming_line_and_field_and_writes_no_report(aws, tmp_path) -> None:
    export = tmp_path / "legacy.jsonl"
    export.write_text('{"provider": "generic", "id": "g-1", "amount": 1, "currency": "EUR", "status": "succeeded", '
                      '"created_at": "2026-11-20T09:00:00Z"}\n{"provider": "generic", "id": "g-2"}\n')
    report = tmp_path / "report.json"
    done = command(aws, "reconcile", str(export), "--report", str(report))
    assert done.returncode == 2
    assert "line 2: currency: is required" in done.stderr
    assert not report.exists()
