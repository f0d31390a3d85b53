"""The operations routes' requests and answers (docs/api.md section 11)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalicelib.api.params import MAX_CURSOR_CHARS
from chalicelib.domain.timestamps import InvalidTimestamp, parse_iso
from chalicelib.errors import InvalidRequest
from chalicelib.services.bulk_replay import BulkReplay, BulkReplayReport
from chalicelib.services.dead_letter_watch import QueueCheck
from chalicelib.services.dead_letters import QueueDepth, RedriveReport

_REPLAY_FIELDS = {"provider", "from", "to", "dry_run", "cursor"}


def bulk_replay(raw_body: bytes | None) -> BulkReplay:
    """`{"provider", "from", "to", "dry_run"}` (+ `cursor` to continue); a bad field is 400."""
    try:
        body = json.loads(raw_body or b"")
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("body: must be a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidRequest("body: must be a JSON object")
    unknown = sorted(set(body) - _REPLAY_FIELDS)
    if unknown:
        raise InvalidRequest(f"{unknown[0]}: unknown field")
    provider = body.get("provider")
    if not isinstance(provider, str) or not provider:
        raise InvalidRequest("provider: required, a provider name")
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidRequest("dry_run: must be true or false")
    cursor = body.get("cursor")
    if cursor is not None and (not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS):
        raise InvalidRequest("cursor: not a cursor issued by this service")
    return BulkReplay(provider, _moment(body, "from"), _moment(body, "to"), dry_run, cursor or None)


def _moment(body: dict[str, Any], name: str) -> datetime:
    raw = body.get(name)
    try:
        if not isinstance(raw, str) or not raw.isascii() or not raw[-1:] in ("Z", "z"):
            raise InvalidTimestamp(str(raw))
        return parse_iso(raw)
    except InvalidTimestamp:
        raise InvalidRequest(f"{name}: required, an ISO-8601 UTC timestamp ending in Z") from None


def replay_report(report: BulkReplayReport) -> dict[str, Any]:
    answer: dict[str, Any] = {"matched": report.matched, "applied": report.applied, "stale": report.stale,
                              "complete": report.complete}
    if report.cursor is not None:
        answer["cursor"] = report.cursor
    return answer


def dead_letters(depths: list[QueueDepth]) -> dict[str, Any]:
    return {"queues": [{"name": q.name, "depth": q.depth} for q in depths]}


def redrive(report: RedriveReport) -> dict[str, Any]:
    answer: dict[str, Any] = {"redriven": report.redriven, "failed": report.failed, "complete": report.complete}
    if report.reapplied is not None:  # a stream-failure letter re-applied from the table
        answer["reapplied"] = {"transactions": report.reapplied.transactions, "buckets": report.reapplied.buckets}
    return answer


def watch_report(checks: list[QueueCheck]) -> dict[str, Any]:
    return {"queues": [{"name": c.name, "depth": c.depth, "alerted": c.alerted} for c in checks]}
