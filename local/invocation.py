"""How the local event-source drivers invoke a handler the way Lambda does (never deployed):
the context object it is given, the partial-batch answer it returns, and how soon a
failed record is offered again."""
from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]
"""What Chalice registered for an event source: called with Lambda's event and context."""
Report = Callable[[str], None]


def report_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class FakeLambdaContext:
    """The few context attributes handlers commonly read."""

    function_name: str = "local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


def failed_identifiers(response: Any) -> set[str]:
    """The `itemIdentifier`s of a `{"batchItemFailures": [...]}` answer (anything else: none)."""
    if not isinstance(response, Mapping):
        return set()
    return {str(f.get("itemIdentifier")) for f in response.get("batchItemFailures") or []
            if isinstance(f, Mapping)}


def redelivery_delay(attempts: int) -> float:
    """Seconds before a record that failed `attempts` times is offered again: short, growing,
    capped, so a local retry shows within seconds and a failing handler does not spin."""
    return min(0.5 * 2 ** (attempts - 1), 8.0)
