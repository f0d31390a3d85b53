"""Helpers for archival tests: seeding old and recent transactions, injecting crashes into
the job's AWS calls, and checking the archive's one invariant: every archived transaction
is in exactly one committed part, verified, and is an archived record in DynamoDB."""
from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.domain.events import CanonicalEvent, PaymentFacts
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import Transaction, merge_event
from chalicelib.services.archive.run import ArchivalService
from chalicelib.storage.archive.lease import ArchiveLease
from chalicelib.storage.archive.parts import PartLimits
from chalicelib.storage.archive.snapshots import snapshot_line

_CLOCK = datetime.now(timezone.utc).replace(microsecond=0)
# Seeds sit minutes before NOW on their day; just after midnight that would move them to the
# day before and out of the partition a test expects, so NOW is never before 02:00 (at most
# two hours ahead of the clock, which nothing here treats as the future).
NOW = max(_CLOCK, _CLOCK.replace(hour=2, minute=0, second=0))


class Crash(Exception):
    """Stands for the process dying at that point."""


def payment(provider: str, payment_id: str, created_at: datetime, amount: int = 1000) -> Transaction:
    event = CanonicalEvent(
        provider=provider, event_id=f"evt-{payment_id}", type="payment.succeeded",
        occurred_at=created_at, payment_id=payment_id, status=Status.SUCCEEDED,
        facts=PaymentFacts(amount=amount, currency="EUR", merchant_id="m-1", created_at=created_at),
    )
    return merge_event(None, event, created_at + timedelta(seconds=1)).transaction


@dataclass
class Dataset:
    old: dict[tuple[str, str], Transaction]
    recent: dict[tuple[str, str], Transaction]


def seed(services: Any, spec: dict[tuple[str, int], int], recent: int = 2) -> Dataset:
    """`spec`: (provider, days ago) -> how many transactions; plus `recent` from 2 days ago."""
    old: dict[tuple[str, str], Transaction] = {}
    for (provider, days_ago), count in spec.items():
        for n in range(count):
            txn = payment(provider, f"{provider[:2]}-{days_ago}-{n}", NOW - timedelta(days=days_ago, minutes=n))
            services.ledger().record_merged(None, txn, None)
            old[(provider, txn.id)] = txn
    fresh: dict[tuple[str, str], Transaction] = {}
    for n in range(recent):
        txn = payment("stripe", f"recent-{n}", NOW - timedelta(days=2, minutes=n))
        services.ledger().record_merged(None, txn, None)
        fresh[("stripe", txn.id)] = txn
    return Dataset(old, fresh)


def archival(services: Any, max_lines: int = 2, workers: int = 2, later: timedelta = timedelta(0),
             **options: Any) -> ArchivalService:
    """The job with a tiny part cap; `later` moves its clock (to outlive a dead run's lease)."""
    bucket = services.get_settings().archive_bucket
    return ArchivalService(
        services.archivable(), services.archive_bucket(),
        ArchiveLease(services.aws_client("s3"), bucket), clock=lambda: services.utc_now() + later,
        after_days=30, limits=PartLimits(max_lines=max_lines), replace_workers=workers, **options,
    )


def plenty() -> int:
    return 900_000


class CallLog:
    """Counts and optionally crashes the job's AWS calls. The hook is botocore's
    `before-parameter-build`, which sees the call's own parameters and runs before any
    request is sent, so a crash there means the call never happened."""

    def __init__(self, services: Any) -> None:
        self.calls: list[str] = []
        self._crash: Callable[[str, dict[str, Any], int], bool] | None = None
        self._lock = threading.Lock()
        self._clients = [services.aws_client("s3"), services.aws_client("dynamodb")]
        for client in self._clients:
            client.meta.events.register("before-parameter-build.*.*", self._before_call,
                                        unique_id="call-log")

    def crash_when(self, predicate: Callable[[str, dict[str, Any], int], bool] | None) -> None:
        """`predicate(operation, params, nth call of that operation)`; None disarms."""
        with self._lock:
            self._crash = predicate
            self.calls = []

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.calls.append(model.name)
            nth = self.calls.count(model.name)
            crash = self._crash
        if crash is not None and crash(model.name, params, nth):
            raise Crash(f"crash before {model.name} #{nth}")

    def remove(self) -> None:
        for client in self._clients:
            client.meta.events.unregister("before-parameter-build.*.*", unique_id="call-log")


def is_replacement(operation: str, params: dict[str, Any]) -> bool:
    return operation == "UpdateItem" and "#archived = :archived" in params.get("UpdateExpression", "")


def archive_contents(services: Any) -> dict[str, Any]:
    """Every object under transactions/, checked against its partition's manifest."""
    s3 = services.aws_client("s3")
    bucket = services.get_settings().archive_bucket
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="transactions/")
            for o in page.get("Contents", [])]
    manifests = [k for k in keys if k.endswith("/_manifest.json")]
    parts = {k for k in keys if k.endswith(".jsonl.gz")}
    listed: set[str] = set()
    lines: list[tuple[str, dict[str, Any]]] = []
    for key in manifests:
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        assert set(manifest) == {"provider", "date", "parts"}
        prefix = key.rsplit("/", 1)[0]
        assert prefix.endswith(f"provider={manifest['provider']}/dt={manifest['date']}")
        for number, entry in enumerate(manifest["parts"]):
            assert entry["key"] == f"{prefix}/part-{number:05d}.jsonl.gz"
            body = s3.get_object(Bucket=bucket, Key=entry["key"])["Body"].read()
            assert hashlib.sha256(body).hexdigest() == entry["sha256"]
            part_lines = gzip.decompress(body).decode().splitlines()
            assert len(part_lines) == entry["lines"]
            lines.extend((entry["key"], json.loads(line)) for line in part_lines)
            listed.add(entry["key"])
    assert parts == listed, f"part objects no manifest lists: {sorted(parts - listed)}"
    return {"lines": lines, "parts": parts, "bucket": bucket}


def assert_archived_exactly_once(services: Any, data: Dataset) -> None:
    contents = archive_contents(services)
    counts = Counter((view["provider"], view["id"]) for _, view in contents["lines"])
    assert counts == Counter(set(data.old)), "each old transaction exactly once, nothing else"
    for key, view in contents["lines"]:
        ref = (view["provider"], view["id"])
        assert snapshot_line(data.old[ref]) == (json.dumps(view, separators=(",", ":")) + "\n").encode()
        stored = services.transactions().get(*ref)
        assert stored.archived is not None and stored.events == ()
        assert stored.archived.object == f"s3://{contents['bucket']}/{key}"
        assert stored.summary() == data.old[ref].summary()
    for ref, txn in data.recent.items():
        stored = services.transactions().get(*ref)
        assert stored.archived is None and stored.events == txn.events and stored.version == txn.version
    tomorrow = (NOW + timedelta(days=1)).date()
    indexed = {(c.transaction.provider, c.transaction.id) for c in services.archivable().created_before(tomorrow)}
    assert set(data.recent) <= indexed and not indexed & set(data.old), "only live ones are indexed"
