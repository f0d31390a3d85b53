"""UTC timestamps: parsing providers' formats and writing the contract's ISO-8601 `Z` form."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache


class InvalidTimestamp(ValueError):
    """A timestamp that is not ISO-8601 or epoch seconds."""


def from_epoch(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def parse_iso(text: str) -> datetime:
    """Parse ISO-8601 with an offset or `Z`; a naive time is refused rather than guessed."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError, TypeError) as exc:
        raise InvalidTimestamp(f"'{text}' is not an ISO-8601 timestamp") from exc
    if parsed.tzinfo is None:
        raise InvalidTimestamp(f"'{text}' has no UTC offset")
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise InvalidTimestamp(f"'{text}' is out of range") from exc


@lru_cache(maxsize=512)  # the same few instants are written several times per webhook
def format_iso(moment: datetime) -> str:
    """The contract's form: `2026-11-20T10:00:00Z`, with microseconds only when present."""
    utc = moment.astimezone(timezone.utc)
    year = f"{utc.year:04d}"  # strftime's %Y does not zero-pad years before 1000
    if utc.microsecond:
        return year + utc.strftime("-%m-%dT%H:%M:%S.%fZ")
    return year + utc.strftime("-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=512)
def sortable(moment: datetime) -> str:
    """Fixed-width form whose string order is time order (for keys and comparisons)."""
    utc = moment.astimezone(timezone.utc)
    return f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M:%S.%fZ")
