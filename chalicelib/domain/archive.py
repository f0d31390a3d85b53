"""What archival means, without any storage (docs/api.md section 4).

"Older than N days" is a `created_at` day (UTC) before today minus N. A partition is one
(provider, creation day); its manifest lists the parts that have been verified in the
archive, in order. The manifest is the commit point: a transaction may be replaced by its
archived record only once a part holding its exact snapshot is listed, and part numbers
continue from the manifest, so a rerun never rewrites a committed part."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone


def archive_cutoff(today: date, after_days: int) -> date:
    """The first creation day that stays live: everything created before it moves."""
    if after_days < 0:
        raise ValueError("after_days must not be negative")
    return today - timedelta(days=after_days)


def created_day(created_at: datetime) -> date:
    return created_at.astimezone(timezone.utc).date()


def is_archivable(created_at: datetime, today: date, after_days: int) -> bool:
    return created_day(created_at) < archive_cutoff(today, after_days)


@dataclass(frozen=True)
class ManifestPart:
    key: str
    lines: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """`{"provider", "date", "parts": [{"key", "lines", "sha256"}]}`; `replaced` counts the
    leading parts whose every line has been dealt with (its transaction replaced by the
    archived record, or found changed and left live). It is bookkeeping for reruns, kept
    beside the document (object metadata), not in it."""

    provider: str
    day: date
    parts: tuple[ManifestPart, ...] = ()
    replaced: int = 0

    @property
    def next_part(self) -> int:
        return len(self.parts)

    @property
    def unfinished(self) -> tuple[ManifestPart, ...]:
        """Parts whose replacements a crash may have interrupted (at most the last one)."""
        return self.parts[self.replaced:]

    def with_part(self, part: ManifestPart) -> Manifest:
        """Commit one more part; every earlier part is finished by then."""
        return Manifest(self.provider, self.day, (*self.parts, part), replaced=len(self.parts))

    def finished(self) -> Manifest:
        return Manifest(self.provider, self.day, self.parts, replaced=len(self.parts))

    def to_json(self) -> bytes:
        return json.dumps({
            "provider": self.provider, "date": self.day.isoformat(),
            "parts": [{"key": p.key, "lines": p.lines, "sha256": p.sha256} for p in self.parts],
        }, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, body: bytes, replaced: int | None = None) -> Manifest:
        """`replaced` unknown (None) means no part is known to be finished."""
        document = json.loads(body)
        parts = tuple(
            ManifestPart(key=p["key"], lines=int(p["lines"]), sha256=p["sha256"])
            for p in document["parts"]
        )
        done = 0 if replaced is None else max(0, min(replaced, len(parts)))
        return cls(document["provider"], date.fromisoformat(document["date"]), parts, done)
