"""`make reconcile` and `make backfill` (docs/api.md section 10): an export of another
system of record compared with the store, and what it has that the store lacks applied.

    python -m tools.reconcile reconcile legacy.csv [--report report.json] [--stage prod]
    python -m tools.reconcile backfill legacy.csv [--stage prod]

`--stage local` (the default) uses the emulator `make run` started (EMULATOR_PORT);
`--stage dev|prod` uses that deployed stage's tables with the caller's own AWS credentials
(the usual chain: AWS_PROFILE, environment, instance role; AWS_REGION or
AWS_DEFAULT_REGION). Reconcile needs `dynamodb:BatchGetItem` on the transactions table
and `dynamodb:Query` on its `by-provider` index; backfill also the webhook path's writes.

Exit status of `reconcile`: 0 everything matches, 1 something differs, 2 the file is
malformed (the message names the line, the CSV header being line 1, and the field; no
report is written), 3 it could not run (no such file, storage unavailable). The readable
summary goes to stdout, progress lines to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

MATCHED, DIFFERS, MALFORMED, FAILED = 0, 1, 2, 3
DEFAULT_REPORT = "reconciliation-report.json"
PROGRESS_SECONDS = 2.0


class ExportFile:
    """The export's lines, counted as they are read (the progress line's share of the file)."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self._handle, self.size, self.read = handle, size, 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self._handle:
            self.read += len(line)
            yield line


class ProgressLine:
    """At most one line every few seconds: records done, share of the file, records/s."""

    def __init__(self, verb: str, export: ExportFile, out: TextIO, every: float = PROGRESS_SECONDS,
                 clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self._verb, self._export, self._out, self._every, self._clock = verb, export, out, every, clock
        self._started = self._last = clock()

    def __call__(self, records: int, final: bool = False) -> None:
        now = self._clock()
        if not final and now - self._last < self._every:
            return
        self._last = now
        rate = records / max(now - self._started, 1e-9)
        share = f"{100 * self._export.read / self._export.size:.0f}%" if self._export.size else "?"
        self._out.write(f"{self._verb}: {records:,} records, {share} of {self._export.size / 1e6:.1f} MB, "
                        f"{rate:,.0f} records/s\n")
        self._out.flush()


def use_stage(stage: str) -> None:
    if stage == "local":
        from local.archive import use_running_stack

        use_running_stack()
    else:
        os.environ["STAGE"] = stage


def reconcile(path: Path, report_path: Path, out: TextIO, err: TextIO) -> int:
    from chalicelib import wiring
    from chalicelib.domain.ledger_export import MalformedExport

    with path.open("rb") as handle:
        export = ExportFile(handle, path.stat().st_size)
        progress = ProgressLine("reconcile", export, err)
        try:
            report = wiring.reconciliation_service().reconcile(str(path), export, progress)
        except MalformedExport as exc:
            err.write(f"reconcile: {path}: malformed, {exc}; no report written\n")
            return MALFORMED
    progress(report.checked, final=True)
    report_path.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    out.write(report.summary() + f"\nreport: {report_path}\n")
    return DIFFERS if report.differs else MATCHED


def backfill(path: Path, out: TextIO, err: TextIO) -> int:
    from chalicelib import wiring
    from chalicelib.domain.ledger_export import MalformedExport

    with path.open("rb") as handle:
        export = ExportFile(handle, path.stat().st_size)
        progress = ProgressLine("backfill", export, err)
        try:
            counts = wiring.reconciliation_service().backfill(export, wiring.ingest_service(), progress)
        except MalformedExport as exc:
            err.write(f"backfill: {path}: malformed, {exc}; records before that line were applied, "
                      f"run again once it is fixed (a rerun is duplicate for them)\n")
            return MALFORMED
    out.write(f"backfill {path}: applied {counts.applied:,}, duplicate {counts.duplicate:,}, "
              f"stale {counts.stale:,} ({counts.matched:,} records already matched, not applied)\n")
    return MATCHED


def main(argv: list[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("reconcile", "backfill"):
        command = commands.add_parser(name)
        command.add_argument("file", type=Path, help="CSV with a header row, or JSON Lines")
        command.add_argument("--stage", default="local", help="local (make run's emulator), dev or prod")
        if name == "reconcile":
            command.add_argument("--report", type=Path, default=Path(DEFAULT_REPORT))
    args = parser.parse_args(argv)
    if not args.file.is_file():
        err.write(f"{args.command}: no such file: {args.file}\n")
        return FAILED
    use_stage(args.stage)
    from chalicelib.errors import ServiceError

    try:
        if args.command == "reconcile":
            return reconcile(args.file, args.report, out, err)
        return backfill(args.file, out, err)
    except ServiceError as exc:
        err.write(f"{args.command}: {exc.message}\n")
        return FAILED


if __name__ == "__main__":
    sys.exit(main())
