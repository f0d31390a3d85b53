"""The composition root: builds each service once per process, lazily.

Import stays cheap (nothing here runs at import), Lambda reuses what was built across
invocations, and tests reset everything with `reset()` after changing the environment."""
from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from chalicelib.settings import get_settings


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@lru_cache(maxsize=None)
def aws_client(service: str) -> Any:
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


@lru_cache(maxsize=1)
def metrics() -> Any:
    from chalicelib.observability.metrics import MetricsWriter

    return MetricsWriter(get_settings().stage)


@lru_cache(maxsize=1)
def secrets() -> Any:
    from chalicelib.providers.secrets import load_document
    from chalicelib.storage.secrets import SecretsRepository

    settings = get_settings()
    return SecretsRepository(
        aws_client("secretsmanager"), settings.webhook_secrets_id,
        settings.secrets_cache_seconds, time.monotonic, parse=load_document,
    )


@lru_cache(maxsize=1)
def providers() -> Any:
    from chalicelib.providers.registry import ProviderRegistry

    return ProviderRegistry(tolerance_seconds=get_settings().signature_tolerance_seconds)


@lru_cache(maxsize=1)
def ledger() -> Any:
    from chalicelib.storage.ledger import PaymentLedger

    settings = get_settings()
    return PaymentLedger(aws_client("dynamodb"), settings.events_table, settings.transactions_table)


@lru_cache(maxsize=1)
def transactions() -> Any:
    from chalicelib.storage.transactions import TransactionRepository

    return TransactionRepository(aws_client("dynamodb"), get_settings().transactions_table)


@lru_cache(maxsize=1)
def events() -> Any:
    from chalicelib.storage.events import EventRepository

    return EventRepository(aws_client("dynamodb"), get_settings().events_table)


@lru_cache(maxsize=1)
def ingest_service() -> Any:
    from chalicelib.observability import tracing
    from chalicelib.services.ingest import IngestService

    settings = get_settings()
    return IngestService(
        providers=providers().get, secrets=secrets(), ledger=ledger(),
        transactions=transactions(), clock=utc_now, max_body_bytes=settings.max_body_bytes,
        retention=timedelta(days=settings.event_retention_days), trace=tracing.subsegment,
    )


@lru_cache(maxsize=1)
def query_service() -> Any:
    from chalicelib.services.cursor import CursorCodec
    from chalicelib.services.queries import QueryService

    # Cursors are signed with a key derived from the secrets document: nothing extra to
    # provision, and a leaked cursor cannot be altered without it.
    document = secrets().current().model_dump_json().encode()
    key = hashlib.sha256(b"payment-webhooks cursor key\x00" + document).digest()
    return QueryService(transactions(), events(), CursorCodec(key))


@lru_cache(maxsize=1)
def replay_service() -> Any:
    from chalicelib.services.replay import ReplayService

    return ReplayService(providers().get, events(), transactions(), ledger(), utc_now)


@lru_cache(maxsize=1)
def analytics_service() -> Any:
    from chalicelib.services.analytics import AnalyticsService
    from chalicelib.storage.analytics import AnalyticsRepository

    return AnalyticsService(AnalyticsRepository(aws_client("dynamodb"), get_settings().analytics_table))


@lru_cache(maxsize=1)
def archivable() -> Any:
    from chalicelib.storage.archive.archivable import ArchivableTransactions

    return ArchivableTransactions(aws_client("dynamodb"), get_settings().transactions_table)


@lru_cache(maxsize=1)
def archive_bucket() -> Any:
    from chalicelib.storage.archive.bucket import ArchiveBucket

    return ArchiveBucket(aws_client("s3"), get_settings().archive_bucket)


@lru_cache(maxsize=1)
def archival_service() -> Any:
    from chalicelib.services.archive.run import ArchivalService
    from chalicelib.storage.archive.lease import ArchiveLease

    settings = get_settings()
    return ArchivalService(
        archivable(), archive_bucket(), ArchiveLease(aws_client("s3"), settings.archive_bucket),
        clock=utc_now, after_days=settings.archive_after_days,
    )


@lru_cache(maxsize=1)
def archive_restore_service() -> Any:
    from chalicelib.services.archive.restore import ArchiveRestoreService

    return ArchiveRestoreService(archivable(), archive_bucket())


def reset() -> None:
    """Forget every built object (tests change the environment between cases)."""
    get_settings.cache_clear()
    for built in (aws_client, metrics, secrets, providers, ledger, transactions, events, ingest_service,
                  query_service, replay_service, archivable, archive_bucket, archival_service,
                  archive_restore_service, analytics_service):
        built.cache_clear()
