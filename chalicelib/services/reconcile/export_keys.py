"""The keys an export contains, held on disk while it is read, for finding `extra`.

An `extra` transaction is one the export lacks; telling that needs every key the export
holds, and an export can have millions of lines. A temporary SQLite file (the standard
library's; Lambda's /tmp has room) answers "was this key in the file?" with memory bounded
by SQLite's page cache instead of by the export's length. Only the (provider, day) pairs
covered are kept in memory: a few per day of the export."""
from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from types import TracebackType


class ExportKeys:
    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="reconcile-")
        self._db = sqlite3.connect(Path(self._dir.name) / "keys.sqlite")
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE keys (provider TEXT, id TEXT, PRIMARY KEY (provider, id)) WITHOUT ROWID")
        self.days: set[tuple[str, date]] = set()
        """(provider, creation day) pairs the export covers."""

    def add(self, keys: Iterable[tuple[str, str, date]]) -> None:
        rows = []
        for provider, payment_id, day in keys:
            self.days.add((provider, day))
            rows.append((provider, payment_id))
        self._db.executemany("INSERT OR IGNORE INTO keys VALUES (?, ?)", rows)

    def __contains__(self, key: tuple[str, str]) -> bool:
        return self._db.execute("SELECT 1 FROM keys WHERE provider = ? AND id = ?", key).fetchone() is not None

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()

    def __enter__(self) -> "ExportKeys":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
