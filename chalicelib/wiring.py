"""The composition root: builds each service once per process, lazily.

Import stays cheap (nothing here runs at import; the types named in annotations are only
imported for type checkers), Lambda reuses what was built across invocations, and tests
reset everything with `reset()` after changing the environment. Repositories are handed out
as the interfaces the services use (`services/ports.py`), not as their boto3 classes."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from chalicelib.observability.metrics import MetricsWriter
    from chalicelib.providers.registry import ProviderRegistry
    from chalicelib.services.alerts import PaymentAlertService
    from chalicelib.services.analytics import AnalyticsService
    from chalicelib.services.archive.restore import ArchiveRestoreService
    from chalicelib.services.archive.run import ArchivalService
    from chalicelib.services.feed import FeedPublisher
    from chalicelib.services.ingest import IngestService
    from chalicelib.services.ports import (
        AlertRaiser, ArchivableRecords, ArchiveStore, EventReader, Ledger, SigningSecrets,
        TransactionReader,
    )
    from chalicelib.services.provider_sync import ProviderSyncService
    from chalicelib.services.ports import ReconciledPayments, ReconciliationExports
    from chalicelib.services.queries import QueryService
    from chalicelib.services.reconcile.run import ReconciliationService
    from chalicelib.services.reconcile.scheduled import ScheduledValidation
    from chalicelib.services.replay import ReplayService
    from chalicelib.services.bulk_replay import BulkReplayService
    from chalicelib.services.dead_letter_watch import DeadLetterWatch
    from chalicelib.services.dead_letters import DeadLetterService
    from chalicelib.services.ports import DeadLetterStore, StageFunctions
    from chalicelib.services.risk import RiskService

Factory = TypeVar("Factory", bound=Callable[..., Any])


class _Cached(Protocol):
    def cache_clear(self) -> None: ...


_BUILT: list[_Cached] = []
"""Every factory `built_once` has cached, in definition order: what `reset()` forgets."""


def built_once(factory: Factory) -> Factory:
    """Build on the first call and reuse afterwards (per distinct arguments), registered so
    that `reset()` forgets it: a factory cannot be cached without being reset too."""
    cached = lru_cache(maxsize=None)(factory)
    _BUILT.append(cached)
    return cast(Factory, cached)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@built_once
def aws_client(service: str) -> BaseClient:
    """Standard retries with few attempts and short timeouts: a webhook must be answered
    (503 at worst) well before API Gateway's 29 s limit, and the provider will retry.
    Client-side parameter validation is off: DynamoDB validates every request itself, and
    walking a TransactWriteItems request on every webhook is pure CPU (benchmarks/ingest.py)."""
    import boto3
    from botocore.config import Config

    from chalicelib.observability import tracing

    tracing.install()  # patches botocore first when this stage traces; else nothing
    config = Config(
        retries={"mode": "standard", "total_max_attempts": 3},
        connect_timeout=2, read_timeout=5, tcp_keepalive=True,
        parameter_validation=False,
    )
    return boto3.session.Session().client(service, config=config)


@built_once
def metrics() -> MetricsWriter:
    from chalicelib.observability.metrics import MetricsWriter

    return MetricsWriter(get_settings().stage)


@built_once
def secrets() -> SigningSecrets:
    from chalicelib.providers.secrets import load_document
    from chalicelib.storage.secrets import SecretsRepository

    settings = get_settings()
    return SecretsRepository(
        aws_client("secretsmanager"), settings.webhook_secrets_id,
        settings.secrets_cache_seconds, time.monotonic, parse=load_document,
    )


@built_once
def providers() -> ProviderRegistry:
    from chalicelib.providers.registry import ProviderRegistry

    return ProviderRegistry(tolerance_seconds=get_settings().signature_tolerance_seconds)


@built_once
def ledger() -> Ledger:
    from chalicelib.storage.ledger import PaymentLedger

    settings = get_settings()
    return PaymentLedger(aws_client("dynamodb"), settings.events_table, settings.transactions_table)


@built_once
def transactions() -> TransactionReader:
    from chalicelib.storage.transactions import TransactionRepository

    return TransactionRepository(aws_client("dynamodb"), get_settings().transactions_table)


@built_once
def events() -> EventReader:
    from chalicelib.storage.events import EventRepository

    return EventRepository(aws_client("dynamodb"), get_settings().events_table)


@built_once
def ingest_service() -> IngestService:
    from chalicelib.observability import tracing
    from chalicelib.services.ingest import IngestService

    settings = get_settings()
    return IngestService(
        providers=providers().get, secrets=secrets(), ledger=ledger(),
        transactions=transactions(), clock=utc_now, max_body_bytes=settings.max_body_bytes,
        retention=timedelta(days=settings.event_retention_days), trace=tracing.subsegment,
    )


@built_once
def query_service() -> QueryService:
    from chalicelib.services.cursor import CursorCodec
    from chalicelib.services.queries import QueryService
    from chalicelib.storage.cursor_keys import CursorKeys

    settings = get_settings()
    keys = CursorKeys(aws_client("secretsmanager"), settings.cursor_key_secret_id,
                      settings.secrets_cache_seconds, time.monotonic)
    return QueryService(transactions(), events(), CursorCodec(keys.current))


@built_once
def replay_service() -> ReplayService:
    from chalicelib.services.replay import ReplayService

    return ReplayService(providers().get, events(), transactions(), ledger(), utc_now)


@built_once
def analytics_service() -> AnalyticsService:
    from chalicelib.services.analytics import AnalyticsService
    from chalicelib.storage.analytics import AnalyticsRepository

    return AnalyticsService(AnalyticsRepository(aws_client("dynamodb"), get_settings().analytics_table))


@built_once
def archivable() -> ArchivableRecords:
    from chalicelib.storage.archive.archivable import ArchivableTransactions

    return ArchivableTransactions(aws_client("dynamodb"), get_settings().transactions_table)


@built_once
def archive_bucket() -> ArchiveStore:
    from chalicelib.storage.archive.bucket import ArchiveBucket

    return ArchiveBucket(aws_client("s3"), get_settings().archive_bucket)


@built_once
def archival_service() -> ArchivalService:
    from chalicelib.services.archive.run import ArchivalService
    from chalicelib.storage.archive.lease import ArchiveLease

    settings = get_settings()
    return ArchivalService(
        archivable(), archive_bucket(), ArchiveLease(aws_client("s3"), settings.archive_bucket),
        clock=utc_now, after_days=settings.archive_after_days,
    )


@built_once
def archive_restore_service() -> ArchiveRestoreService:
    from chalicelib.services.archive.restore import ArchiveRestoreService

    return ArchiveRestoreService(archivable(), archive_bucket())


@built_once
def feed_publisher() -> FeedPublisher:
    from chalicelib.services.feed import FeedPublisher
    from chalicelib.storage.event_bus import ChangeFeedBus

    return FeedPublisher(ChangeFeedBus(aws_client("events"), get_settings().change_feed_bus))


# --- payment alerts (docs/api.md section 9) ---

@built_once
def payment_alert_service() -> PaymentAlertService:
    from chalicelib.services.alerts import PaymentAlertService
    from chalicelib.storage.alert_topic import PaymentAlertsTopic
    from chalicelib.storage.alerts import AlertsRepository

    settings = get_settings()
    return PaymentAlertService(
        AlertsRepository(aws_client("dynamodb"), settings.alerts_table),
        PaymentAlertsTopic(aws_client("sns"), settings.payment_alerts_topic_arn), utc_now,
    )


@built_once
def alert_raiser() -> AlertRaiser:
    """What reconciliation, dead-letter checks and the feed consumer raise alerts through."""
    return payment_alert_service()


# --- provider sync (docs/api.md section 10) ---

@built_once
def provider_sync_service() -> ProviderSyncService:
    from chalicelib.services.provider_sync import ProviderSyncService

    return ProviderSyncService(providers().get, ingest_service())
# --- reconciliation (docs/api.md section 10) ---

@built_once
def reconciled_payments() -> ReconciledPayments:
    from chalicelib.storage.reconciliation.payments import ReconciledPayments as Payments

    return Payments(aws_client("dynamodb"), get_settings().transactions_table)


@built_once
def reconciliation_service() -> ReconciliationService:
    from chalicelib.providers.registry import provider_names
    from chalicelib.services.reconcile.run import ReconciliationService

    return ReconciliationService(reconciled_payments(), provider_names())


@built_once
def reconciliation_exports() -> ReconciliationExports:
    from chalicelib.storage.reconciliation.exports import ReconciliationBucket

    return ReconciliationBucket(aws_client("s3"), get_settings().archive_bucket)


@built_once
def scheduled_validation() -> ScheduledValidation:
    from chalicelib.services.reconcile.scheduled import ScheduledValidation

    return ScheduledValidation(reconciliation_service(), reconciliation_exports(), alert_raiser(), clock=utc_now)


# --- risk (docs/api.md section 8) ---

@built_once
def risk_service() -> RiskService:
    from chalicelib.services.risk import RiskService
    from chalicelib.settings import risk_thresholds
    from chalicelib.storage.risk import RiskRecords

    client, table = aws_client("dynamodb"), get_settings().transactions_table
    return RiskService(transactions(), RiskRecords(client, table), risk_thresholds(), utc_now)


def reset() -> None:
    """Forget every built object (tests change the environment between cases)."""
    get_settings.cache_clear()
    for built in _BUILT:
        built.cache_clear()


# --- operations (docs/api.md section 11) ---

_IN_PROCESS_HANDLERS: list[Mapping[str, Any]] = [{}]


def run_functions_in_process(handlers: Mapping[str, Any]) -> None:
    """app.py hands over its own handlers by function name (the mapping itself, which
    handlers registered later join): the local stage has no Lambda, so a redrive calls the
    consumer or job where the API runs (deployed, Lambda invokes it with its own role)."""
    _IN_PROCESS_HANDLERS[0] = handlers


@built_once
def stage_functions() -> StageFunctions:
    from chalicelib.storage.functions import InProcessFunctions, LambdaFunctions

    settings = get_settings()
    if settings.stage == "local":
        return InProcessFunctions(_IN_PROCESS_HANDLERS[0])
    return LambdaFunctions(aws_client("lambda"), settings.function_prefix)


@built_once
def dead_letter_queues() -> DeadLetterStore:
    from chalicelib.storage.dead_letters import DeadLetterQueues

    return DeadLetterQueues(aws_client("sqs"))


@built_once
def dead_letter_service(budget_seconds: float = 20.0) -> DeadLetterService:
    from chalicelib.providers.registry import provider_names
    from chalicelib.services.dead_letters import DeadLetterService
    from chalicelib.services.table_redrive import TableRedrive
    from chalicelib.storage.analytics import AnalyticsRepository
    from chalicelib.storage.announcements import TransactionAnnouncements
    from chalicelib.storage.events import EventRepository
    from chalicelib.storage.stream_records import StreamRecords

    settings = get_settings()
    received = EventRepository(aws_client("dynamodb"), settings.events_table)
    table = TableRedrive(
        provider_names(), received, received, transactions(),
        TransactionAnnouncements(aws_client("dynamodb"), settings.transactions_table), reconciled_payments(),
        AnalyticsRepository(aws_client("dynamodb"), settings.analytics_table), utc_now,
    )
    return DeadLetterService(
        settings.dead_letters, dead_letter_queues(), StreamRecords(aws_client("dynamodbstreams")),
        stage_functions(), settings.function_prefix, utc_now, budget_seconds=budget_seconds, table=table,
    )


@built_once
def bulk_replay_service() -> BulkReplayService:
    from chalicelib.services.bulk_replay import BulkReplayService
    from chalicelib.services.cursor import CursorCodec
    from chalicelib.storage.cursor_keys import CursorKeys
    from chalicelib.storage.events import EventRepository

    settings = get_settings()
    keys = CursorKeys(aws_client("secretsmanager"), settings.cursor_key_secret_id,
                      settings.secrets_cache_seconds, time.monotonic)
    received = EventRepository(aws_client("dynamodb"), settings.events_table)
    return BulkReplayService(providers().get, received, replay_service(), CursorCodec(keys.current))


@built_once
def dead_letter_watch() -> DeadLetterWatch:
    from chalicelib.services.dead_letter_watch import DeadLetterWatch

    return DeadLetterWatch(get_settings().dead_letters, dead_letter_queues(), alert_raiser(), utc_now)
