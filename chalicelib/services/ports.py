"""What the use cases may ask of storage: the interfaces `wiring.py` hands them.

Each is implemented by one repository in `chalicelib/storage` (structurally: they do not
inherit from these), and a reader learns here what a service can do to a table or bucket
without opening boto3 code. tests/unit/services/test_ports.py checks that every repository
still offers its port's methods with the same parameters."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: a service importing its ports loads no storage module
    from chalicelib.domain.alerts import PaymentAlert
    from chalicelib.domain.analytics import DailyFigures, DayBucket
    from chalicelib.domain.archive import Manifest
    from chalicelib.domain.feed import FeedEvent
    from chalicelib.domain.events import ParsedEvent
    from chalicelib.domain.reconciliation import StoredPayment
    from chalicelib.domain.risk import CustomerActivity
    from chalicelib.domain.risk_assessment import RiskAssessment
    from chalicelib.domain.status import Status
    from chalicelib.domain.transaction import ArchivePointer, EventRecord, InOrderWrite, Transaction
    from chalicelib.providers.secrets import SecretsDocument
    from chalicelib.services.ingest import EventReceipt
    from chalicelib.storage.archive.archivable import Candidate, Replacement
    from chalicelib.storage.alerts import StoredAlert
    from chalicelib.storage.archive.parts import SealedPart
    from chalicelib.storage.dead_letters import Letter
    from chalicelib.storage.events import ReceivedPage, StoredEvent
    from chalicelib.storage.events import StoredEvent
    from chalicelib.storage.reconciliation.exports import ExportObject, ReportSummary
    from chalicelib.storage.transactions import TransactionPage


class SigningSecrets(Protocol):
    def current(self) -> SecretsDocument:
        """The providers' signing secrets as of now (cached briefly)."""


class Ledger(Protocol):
    """Writes that store an event and its effect on its transaction together, or neither.
    `event_item` is the events table item `storage.events.event_item` builds."""

    def record_unmerged(self, event_item: dict[str, Any], seen: dict[str, Any] | None = None) -> None:
        """An event that changes no transaction; `DuplicateEvent` if its id is stored.
        `seen` (`storage.events.seen_item`) is the event id's permanent dedupe item, put
        under the same condition in the same write, for providers that need one."""

    def record_in_order(
        self, event_item: dict[str, Any], write: InOrderWrite, seen: dict[str, Any] | None = None,
    ) -> None:
        """`DuplicateEvent`, or `PreconditionFailed` when the event is not in order."""

    def record_merged(
        self, event_item: dict[str, Any] | None, txn: Transaction, expected_version: int | None,
        seen: dict[str, Any] | None = None,
    ) -> None:
        """`WriteConflict` if the transaction is no longer at `expected_version`."""


class TransactionReader(Protocol):
    def get(self, provider: str, payment_id: str) -> Transaction | None: ...

    def list_by(
        self, *, owner_field: str, owner_id: str, created_from: str, created_to: str,
        status: Status | None, customer_id: str | None, limit: int,
        start_key: dict[str, Any] | None,
    ) -> TransactionPage: ...


class EventReader(Protocol):
    def get(self, provider: str, event_id: str) -> StoredEvent | None: ...


class DailyFiguresStore(Protocol):
    """Bucket figures, each moved at most once per stream record (see services/analytics.py)."""

    def add_unseen(self, bucket: DayBucket, figures: DailyFigures, lane: str, first: str, last: str) -> None: ...

    def add_after(self, bucket: DayBucket, figures: DailyFigures, lane: str, mark: str | None, last: str) -> None: ...

    def mark(self, bucket: DayBucket, lane: str) -> str | None: ...

    def day_buckets(self, day: date, provider: str) -> dict[DayBucket, DailyFigures]: ...

    def replace(self, bucket: DayBucket, figures: DailyFigures, expected: DailyFigures | None) -> None:
        """A recount's figures, if the bucket still holds `expected` (services/table_redrive.py)."""

    def daily(self, first_day: date, last_day: date) -> list[tuple[DayBucket, DailyFigures]]: ...


class ArchivableRecords(Protocol):
    """The transactions table as archival sees it."""

    items_read: int

    def created_before(self, cutoff: date) -> Iterator[Candidate]: ...

    def replace_with_archived(
        self, provider: str, payment_id: str, version: int, pointer: ArchivePointer,
    ) -> Replacement: ...

    def get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Transaction]: ...

    def restore_events(self, txn: Transaction, events: tuple[EventRecord, ...]) -> bool: ...


class ArchiveStore(Protocol):
    """The archive bucket: parts and the manifests that commit them."""

    name: str

    def part_key(self, provider: str, day: date, number: int) -> str: ...

    def object_url(self, key: str) -> str: ...

    def put_part(self, key: str, part: SealedPart) -> None: ...

    def verify_part(self, key: str, part: SealedPart) -> None: ...

    def read_part(self, key: str, sha256_hex: str) -> bytes: ...

    def manifest(self, provider: str, day: date) -> Manifest | None: ...

    def put_manifest(self, manifest: Manifest) -> None: ...

    def delete_uncommitted(self, manifest: Manifest) -> list[str]: ...


class RunLease(Protocol):
    """One archival run at a time."""

    def acquire(self, holder: str, now: datetime, ttl: timedelta = ...) -> bool: ...

    def release(self, holder: str) -> None: ...


class ChangeFeed(Protocol):
    """The change feed's bus (docs/api.md section 7)."""

    def put(self, events: Sequence[FeedEvent]) -> int:
        """Put the events in order; how many, from the first, the bus has taken."""


# --- payment alerts (docs/api.md section 9) ---

class AlertRaiser(Protocol):
    """How any use case raises a payment alert (reconciliation and dead-letter checks
    included): it is sent once per incident (`kind` + `key`)."""

    def raise_alert(self, alert: PaymentAlert) -> bool:
        """True when the alert was sent now; False when this kind and key had been
        alerted already (nothing is sent again)."""


class AlertLog(Protocol):
    """The alerts table: one record per incident, `pending` until its message is sent."""

    def put_pending(self, alert: PaymentAlert, message: str, attributes: dict[str, str]) -> bool:
        """Record the incident as pending unless it is recorded: True when written now."""

    def get(self, kind: str, key: str) -> StoredAlert | None: ...

    def mark_sent(self, kind: str, key: str, sent_at: datetime) -> None: ...

    def recent(self, limit: int) -> list[StoredAlert]:
        """The most recently raised alerts that were sent, newest first."""


class AlertPublisher(Protocol):
    """The payment alerts topic."""

    def publish(self, message: str, attributes: dict[str, str]) -> str: ...


# --- operations (docs/api.md section 11) ---

class DeadLetterStore(Protocol):
    """The dead-letter queues (storage/dead_letters.py), by queue name."""

    def depth(self, queue: str) -> int: ...

    def receive(self, queue: str, hold_seconds: int, limit: int = ...) -> list[Letter]: ...

    def delete(self, queue: str, letter: Letter) -> None: ...

    def release(self, queue: str, letter: Letter) -> None: ...

    def send(self, queue: str, letter: Letter) -> None: ...

    def incident(self, queue: str) -> str | None: ...

    def open_incident(self, queue: str, opened_at: str) -> None: ...

    def close_incident(self, queue: str) -> None: ...


class StreamRecordReader(Protocol):
    def read_range(self, stream_arn: str, shard_id: str, first: str, last: str,
                   max_reads: int = ...) -> list[dict[str, Any]]:
        """`RecordsTrimmed` when the stream no longer holds them."""


class StageFunctions(Protocol):
    """The stage's own functions (storage/functions.py): `FunctionFailed` when one fails."""

    def invoke(self, function: str, event: dict[str, Any]) -> Any: ...

    def start(self, function: str, event: dict[str, Any]) -> None: ...


class TransactionAnnouncer(Protocol):
    """A transaction's version moved on, nothing else (storage/announcements.py)."""

    def reannounce(self, provider: str, payment_id: str, requester: str) -> bool: ...


class ReceivedEvents(Protocol):
    """The events table's index by provider and received time (storage/events.py)."""

    def received_between(
        self, provider: str, start: datetime, end: datetime, after: dict[str, Any] | None, limit: int,
    ) -> ReceivedPage: ...
# --- reconciliation (docs/api.md section 10) ---

class ReconciledPayments(Protocol):
    """The transactions table as reconciliation reads it (storage/reconciliation/payments.py)."""

    requests: int

    def summaries(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], StoredPayment]:
        """At most 100 distinct (provider, id) keys; absent keys are absent from the answer."""

    def created_on(self, provider: str, day: date) -> Iterator[str]:
        """Ids of the provider's transactions (live or archived) created on `day`."""


class VerifiedIngest(Protocol):
    """The ingest service's door for events whose origin is already established
    (services/ingest.py): provider sync and backfill."""

    def accept_verified(self, events: Sequence[ParsedEvent], *, dedupe_forever: bool) -> list[EventReceipt]: ...


class ReconciliationExports(Protocol):
    """The archive bucket's `reconciliation/` prefix (storage/reconciliation/exports.py)."""

    def incoming(self) -> Iterator[ExportObject]: ...

    def lines(self, export: ExportObject) -> Iterator[bytes]: ...

    def report(self, name: str) -> ReportSummary | None: ...

    def put_report(self, name: str, export: ExportObject, report: dict[str, Any], counts: dict[str, int],
                   at: datetime) -> ReportSummary: ...

    def move(self, export: ExportObject, to: str) -> None: ...

    def latest_reports(self, limit: int) -> list[ReportSummary]: ...


class RiskRecords(Protocol):
    """What risk assessment reads and writes beyond the transaction itself (storage/risk.py)."""

    def customer_activity(self, customer_id: str, since: datetime, until: datetime) -> list[CustomerActivity]:
        """The customer's transactions created from `since` to `until`, inclusive."""

    def record(self, provider: str, payment_id: str, risk: RiskAssessment, assessed_version: int, bump: bool) -> bool:
        """False when the transaction is no longer at `assessed_version` (stale)."""
