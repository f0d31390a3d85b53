"""`make sync`: fetch a provider's events since a day from its own events API and ingest
every one not yet stored through the webhook path, signature aside (docs/api.md section
10; docs/provider-sync.md). Never deployed: it runs from an operator's machine or CI.

    python -m local.sync --provider stripe --since 2026-11-01               # the `make run` stack
    python -m local.sync --provider square --since 2026-11-01 --stage prod  # a deployed stage

Without `--stage` it uses the emulator `make run` started (EMULATOR_PORT); with one, that
stage's tables and secrets document through the usual AWS credentials and region. The key
is `api_key` in the provider's section of the secrets document. `--base-url` (or
STRIPE_API_BASE / SQUARE_BASE_URL) points the SDK elsewhere than the provider's API.

A progress line per page goes to stderr, then a readable summary; the JSON report goes to
stdout. Exit status: 0 when every event was stored or already there; 1 when the run
stopped early (the provider's API or storage failed; a rerun is safe) or the webhook path
refused an event; 2 for a usage or configuration error (nothing was fetched).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from typing import TextIO

from chalicelib.services.provider_sync import SyncProgress, SyncReport
from local.provider_events import PROVIDERS, ProviderApiError, UnusableApiKey, source_for

TOOL = "sync"
USAGE_ERROR = 2


def parse_args(argv: list[str] | None, today: date) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make sync", description=__doc__.splitlines()[0],
        usage="make sync PROVIDER=stripe|square SINCE=YYYY-MM-DD [STAGE=<deployed stage>]")
    parser.add_argument("--provider", required=True, choices=PROVIDERS, help="PROVIDER: stripe or square")
    parser.add_argument("--since", required=True, type=lambda text: _day(text, today),
                        help="SINCE: the first day (UTC) whose events to fetch, YYYY-MM-DD")
    parser.add_argument("--stage", help="a deployed stage (AWS credentials as usual); default: the make run stack")
    parser.add_argument("--base-url", help="the provider API's base URL (default: STRIPE_API_BASE / "
                                           "SQUARE_BASE_URL, else the provider's own)")
    return parser.parse_args(argv)


def _day(text: str, today: date) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise argparse.ArgumentTypeError(f"SINCE must be a day written YYYY-MM-DD, not {text[:32]!r}")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"SINCE {text!r} is not a calendar day") from None
    if day > today:
        raise argparse.ArgumentTypeError(f"SINCE {text} is in the future (today is {today.isoformat()} UTC)")
    return day


def connect(stage: str | None) -> None:
    """Point this process at the stage whose store the events go to."""
    if stage is None:
        from local.archive import use_running_stack

        use_running_stack(TOOL)
    else:
        os.environ["STAGE"] = stage


def progress_printer(provider: str, out: TextIO) -> Callable[[SyncProgress], None]:
    def show(progress: SyncProgress) -> None:
        report = progress.report
        print(f"{TOOL} {provider}: page {progress.page}, {progress.events} events, "
              f"{progress.events_per_second:.1f} events/s (new {report.new}, duplicate {report.duplicate}, "
              f"refused {len(report.refused)})", file=out, flush=True)
    return show


def summary(report: SyncReport, since: date) -> str:
    lines = [f"{TOOL} {report.provider} since {since.isoformat()}: {report.events} events in {report.pages} pages: "
             f"{report.new} new ({report.applied} applied, {report.stale} stale, {report.ignored} ignored), "
             f"{report.duplicate} already stored, {len(report.refused)} refused"]
    lines += [f"  refused {item['id']}: {item['error']}" for item in report.refused]
    return "\n".join(lines)


def main(argv: list[str] | None = None, *, now: datetime | None = None,
         out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    now = now or datetime.now(timezone.utc)
    args = parse_args(argv, now.date())
    connect(args.stage)
    from chalicelib import wiring
    from chalicelib.errors import StorageUnavailable

    try:
        api_key = getattr(wiring.secrets().current().section(args.provider), "api_key", "")
        source = source_for(args.provider)(api_key, base_url=args.base_url)
    except StorageUnavailable as exc:
        print(f"{TOOL}: cannot read the secrets document: {exc.message}", file=err)
        return USAGE_ERROR
    except UnusableApiKey as exc:
        print(f"{TOOL}: {exc}; put the provider's API key in the {args.provider} section of the "
              f"secrets document (see docs/provider-sync.md)", file=err)
        return USAGE_ERROR
    since = datetime.combine(args.since, time.min, tzinfo=timezone.utc)
    if since < now - timedelta(days=source.retention_days):
        print(f"{TOOL}: note: {args.provider}'s events API keeps only the last {source.retention_days} "
              f"days of events; older ones cannot be fetched", file=err)

    show = progress_printer(args.provider, err)
    reached: list[SyncReport] = []  # the run's report once a page is in (a stopped run shows it)

    def on_page(progress: SyncProgress) -> None:
        reached[:] = [progress.report]
        show(progress)

    try:
        report = wiring.provider_sync_service().sync(args.provider, source.pages(since), on_page)
    except (ProviderApiError, StorageUnavailable) as exc:
        message = exc.message if isinstance(exc, StorageUnavailable) else str(exc)
        print(f"{TOOL}: stopped: {message}", file=err)
        if reached:
            print(summary(reached[0], args.since), file=err)
        print(f"{TOOL}: what was stored stays stored; rerun the same command to continue "
              f"(those events count as duplicate)", file=err)
        return 1
    print(summary(report, args.since), file=err)
    print(json.dumps({**report.as_dict(), "since": args.since.isoformat()}, indent=2), file=out)
    return 1 if report.refused else 0


if __name__ == "__main__":
    sys.exit(main())
