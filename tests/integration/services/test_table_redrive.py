"""Re-applying a stream failure from the table (services/table_redrive.py) on the emulator:
the recount's write is conditional on the figures it read, so a bucket the live consumer
moves between the read and the write is read again, and the marks are never touched."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain.analytics import DailyFigures, DayBucket
from chalicelib.domain.dead_letters import StreamFailure
from chalicelib.domain.status import Status
from chalicelib.providers.registry import provider_names
from chalicelib.services.table_redrive import ANALYTICS, Reapplied, TableRedrive
from chalicelib.storage.analytics import AnalyticsRepository
from chalicelib.storage.announcements import TransactionAnnouncements
from chalicelib.storage.errors import PreconditionFailed
from chalicelib.storage.events import EventRepository
from chalicelib.storage.reconciliation.payments import ReconciledPayments
from chalicelib.storage.transactions import TransactionRepository
from tests.support.signing import payment_intent, stripe_event, stripe_headers

JAN_1 = DayBucket(date(2026, 1, 1), "stripe", "USD")
LANE = "shardId-1"
FAILURE = StreamFailure(ANALYTICS, "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x", LANE, "7", "8")


class ConsumerRacingTheRecount(AnalyticsRepository):
    """The live consumer applies a change to the bucket just before the recount's first write."""

    raced = 0

    def replace(self, bucket: DayBucket, figures: DailyFigures, expected: DailyFigures | None) -> None:
        if not self.raced:
            self.raced += 1
            self.add_after(bucket, DailyFigures(count=1, by_status={Status.FAILED: 1}), LANE, "5", "6")
        super().replace(bucket, figures, expected)


def table_redrive(services, aws, figures: AnalyticsRepository, now: datetime) -> TableRedrive:
    client = aws.client("dynamodb")
    events = EventRepository(client, aws.env["EVENTS_TABLE"])
    return TableRedrive(provider_names(), events, events, TransactionRepository(client, aws.env["TRANSACTIONS_TABLE"]),
                        TransactionAnnouncements(client, aws.env["TRANSACTIONS_TABLE"]),
                        ReconciledPayments(client, aws.env["TRANSACTIONS_TABLE"]), figures, lambda: now)


def received_now(services, count: int) -> tuple[datetime, datetime]:
    start = datetime.now(timezone.utc)
    for n in range(count):
        body = stripe_event(f"evt_recount_{n}", "payment_intent.succeeded", 1767261600,
                            payment_intent(f"pi_recount_{n}", "succeeded"))
        receipt = services.ingest_service().receive("stripe", body, stripe_headers(body))
        assert [e.outcome.value for e in receipt.events] == ["applied"]
    return start, datetime.now(timezone.utc)


def test_a_recount_whose_bucket_moved_meanwhile_reads_again_sets_the_table_figures_and_keeps_the_marks(
        services, aws) -> None:
    window = received_now(services, 2)
    figures = ConsumerRacingTheRecount(aws.client("dynamodb"), aws.env["ANALYTICS_TABLE"])
    figures.add_unseen(JAN_1, DailyFigures(count=1, by_status={Status.SUCCEEDED: 1}, gross_volume=2000), LANE, "5", "5")
    settled = window[1] + timedelta(hours=26)

    assert table_redrive(services, aws, figures, settled).reapply(FAILURE, window, lambda: False) == Reapplied(buckets=1)
    assert figures.raced == 1  # the first write was refused: the figures it read had moved
    assert figures.day_buckets(JAN_1.day, "stripe") == {
        JAN_1: DailyFigures(count=2, by_status={Status.SUCCEEDED: 2}, gross_volume=4000)}
    assert figures.mark(JAN_1, LANE) == "6"
    assert table_redrive(services, aws, figures, settled).reapply(FAILURE, window, lambda: False) == Reapplied()


def test_a_recount_write_is_refused_unless_the_bucket_holds_what_was_read(services, aws) -> None:
    figures = AnalyticsRepository(aws.client("dynamodb"), aws.env["ANALYTICS_TABLE"])
    one = DailyFigures(count=1, by_status={Status.SUCCEEDED: 1}, gross_volume=2000)
    with pytest.raises(PreconditionFailed):
        figures.replace(JAN_1, one, expected=one)  # there is no bucket yet
    figures.replace(JAN_1, one, expected=None)
    with pytest.raises(PreconditionFailed):
        figures.replace(JAN_1, one, expected=None)  # there is one now
    with pytest.raises(PreconditionFailed):
        figures.replace(JAN_1, DailyFigures(), expected=DailyFigures(count=1, by_status={Status.FAILED: 1}))
    figures.replace(JAN_1, DailyFigures(), expected=one)
    assert figures.day_buckets(JAN_1.day, "stripe") == {JAN_1: DailyFigures()}
