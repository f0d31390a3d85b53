"""The change feed's EventBridge bus: feed events put in order, in as few requests as
PutEvents allows, each entry retried until the bus takes it or the attempts run out.

PutEvents takes at most 10 entries and 256 KB per request, and may accept some entries of
a request and refuse others (`FailedEntryCount`, an `ErrorCode` per refused entry, for
throttling or an internal error). The refused entries are put again after a jittered pause
(`backoff.retry_attempts`); a request that fails as a whole (after botocore's own retries)
counts as refusing every entry it carried. Entries are sent in the order given, and no
request goes out after one whose entries kept failing: its caller reports the first event
not on the bus, and the stream delivers it and everything after it again."""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.backoff import Sleep, retry_attempts
from chalicelib.domain.feed import SOURCE, FeedEvent
from chalicelib.observability.logs import log

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024
PUT_ATTEMPTS = 5
RETRY_BASE_SECONDS = 0.05


class ChangeFeedBus:
    def __init__(self, client: Any, bus_name: str, sleep: Sleep = time.sleep,
                 attempts: int = PUT_ATTEMPTS) -> None:
        self._client = client
        self._bus = bus_name
        self._sleep = sleep
        self._attempts = attempts

    def put(self, events: Sequence[FeedEvent]) -> int:
        """Put `events` in order; answer how many of them, from the first, are on the bus
        (`len(events)` when all are). Events after the answer may have been put as well."""
        entries = [self._entry(event) for event in events]
        done = 0
        for chunk in _requests(entries):
            if not self._put_chunk(chunk):
                return done + next(i for i, entry in enumerate(chunk) if entry is not None)
            done += len(chunk)
        return done

    def _entry(self, event: FeedEvent) -> dict[str, str]:
        return {
            "Source": SOURCE, "DetailType": event.detail_type,
            "Detail": json.dumps(event.detail, separators=(",", ":")), "EventBusName": self._bus,
        }

    def _put_chunk(self, chunk: list[dict[str, str] | None]) -> bool:
        """Put one request's entries, setting each to None once the bus has it; False
        when some are left after the last attempt (they stay in `chunk`)."""
        for _ in retry_attempts(self._attempts, self._sleep, base_seconds=RETRY_BASE_SECONDS):
            pending = [i for i, entry in enumerate(chunk) if entry is not None]
            try:
                response = self._client.put_events(Entries=[chunk[i] for i in pending])
            except (ClientError, BotoCoreError) as exc:
                log("change feed put failed", logging.WARNING, error=_error_code(exc), entries=len(pending))
                continue
            results = response.get("Entries", [])
            refused = []
            for i, result in zip(pending, results):
                if result.get("EventId") and not result.get("ErrorCode"):
                    chunk[i] = None
                else:
                    refused.append(result.get("ErrorCode", "Unknown"))
            if len(results) < len(pending):
                refused.append("MissingResult")  # never seen; the unanswered entries stay
            if not refused:
                return True
            log("change feed entries refused", logging.WARNING, refused=len(refused),
                codes=sorted(set(refused)))
        return all(entry is None for entry in chunk)


def entry_size(entry: dict[str, str]) -> int:
    """How EventBridge counts an entry against the 256 KB request limit (UTF-8 bytes of
    source, detail-type and detail; this service sets no time or resources)."""
    return sum(len(entry[field].encode("utf-8")) for field in ("Source", "DetailType", "Detail"))


def _requests(entries: list[dict[str, str]]) -> Iterator[list[dict[str, str] | None]]:
    """Consecutive runs of entries that fit one PutEvents request. An entry too large for
    any request goes alone: the bus refuses it and the stream's retries take their course."""
    chunk: list[dict[str, str] | None] = []
    size = 0
    for entry in entries:
        grows = entry_size(entry)
        if chunk and (len(chunk) == MAX_ENTRIES or size + grows > MAX_REQUEST_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(entry)
        size += grows
    if chunk:
        yield chunk


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "Unknown"))
    return type(exc).__name__
