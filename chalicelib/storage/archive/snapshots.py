"""One line of an archive part: a transaction snapshot (docs/api.md section 4).

A line is exactly the document `GET /transactions/{provider}/{id}` answers for the
transaction as it was archived, so an auditor reads the archive as they read the API. The
line's bytes are its identity (`line_digest`): the same state always gives the same line."""
from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib.domain.documents import event_record_from_document, transaction_document
from chalicelib.domain.transaction import EventRecord, Transaction
from chalicelib.storage.archive.parts import encode_line


@dataclass(frozen=True)
class Snapshot:
    """What is read back from a line: whose snapshot it is and the events it lists."""

    provider: str
    id: str
    events: tuple[EventRecord, ...]


def snapshot_line(txn: Transaction) -> bytes:
    return encode_line(transaction_document(txn))


def read_snapshot(line: bytes) -> Snapshot:
    document = json.loads(line)
    return Snapshot(
        provider=document["provider"], id=document["id"],
        events=tuple(event_record_from_document(event) for event in document["events"]),
    )
