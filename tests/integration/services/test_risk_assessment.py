"""Risk assessment against the emulator (docs/risk.md): the version condition, no loops,
redelivery, and the customer rules read through the `by-customer` index."""
from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

from app import assess_payment_risk
from chalicelib.domain.documents import transaction_document
from chalicelib.domain.risk_assessment import RiskLevel
from chalicelib.services.risk import AssessmentOutcome, RiskService
from chalicelib.settings import risk_thresholds
from chalicelib.storage.risk import RiskRecords
from local.invocation import FakeLambdaContext
from tests.support.signing import payment_intent, stripe_event, stripe_headers

T0 = 1767261600  # 2026-01-01T10:00:00Z
HIGH_USD = 1_000_000


def ingest(services, intent: str, status: str, at: int, amount: int = 2000, customer: str = "cus_1",
           created: int = T0) -> None:
    body = stripe_event(f"evt_{uuid.uuid4().hex[:12]}", f"payment_intent.{status}", at,
                        payment_intent(intent, status, amount=amount, created=created, customer=customer))
    receipt = services.ingest_service().receive("stripe", body, stripe_headers(body))
    assert receipt.events[0].outcome.value == "applied"


def refund_fully(services, intent: str, at: int, amount: int) -> None:
    body = stripe_event(f"evt_{uuid.uuid4().hex[:12]}", "charge.refunded", at, {
        "id": f"ch_{intent}", "object": "charge", "amount": amount, "amount_refunded": amount, "currency": "usd",
        "payment_intent": intent, "created": T0, "payment_method_details": {"type": "card"}})
    assert services.ingest_service().receive("stripe", body, stripe_headers(body)).events[0].outcome.value == "applied"


def feed_message(services, intent: str, cause: dict | None = None, detail_type: str = "payment.succeeded",
                 message_id: str | None = None) -> dict[str, Any]:
    """An SQS record carrying a change-feed event (docs/api.md section 7), as the rule delivers it."""
    txn = services.transactions().get("stripe", intent)
    detail = {"id": f"stripe/{intent}/{txn.version}", "version": txn.version,
              "transaction": transaction_document(txn, with_events=False), "previous": None,
              "cause": cause if cause is not None else None}
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": "payment-webhooks",
             "account": "123456789012", "time": "2026-01-01T10:00:00Z", "region": "us-east-1",
             "resources": [], "detail": detail}
    return {"messageId": message_id or str(uuid.uuid4()), "receiptHandle": "r", "body": json.dumps(event),
            "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:payment-webhooks-local-risk-assessments"}


CAUSED = {"event_id": "evt_x", "type": "payment_intent.succeeded"}


def count_requests(services) -> Counter:
    counts: Counter = Counter()
    services.aws_client("dynamodb").meta.events.register(
        "before-call.dynamodb", lambda model, **_: counts.update([model.name]))
    return counts


def handle(*records: dict[str, Any]) -> dict[str, Any]:
    return assess_payment_risk({"Records": list(records)}, FakeLambdaContext("assess_payment_risk"))


def test_a_high_amount_payment_is_assessed_high_and_its_version_moves_on_once(services) -> None:
    ingest(services, "pi_big", "succeeded", T0, amount=HIGH_USD)
    before = services.transactions().get("stripe", "pi_big")
    assert before.risk is None
    message = feed_message(services, "pi_big", CAUSED)
    counts = count_requests(services)
    assert handle(message) == {"batchItemFailures": []}
    assert counts == Counter({"GetItem": 1, "Query": 1, "UpdateItem": 1})  # the AWS calls of one assessment
    after = services.transactions().get("stripe", "pi_big")
    assert after.risk.level is RiskLevel.HIGH and after.risk.reasons[0].rule == "amount_over_threshold"
    assert after.version == before.version + 1


def test_an_assessment_racing_a_newer_change_loses_and_the_newer_change_gets_its_own(services) -> None:
    ingest(services, "pi_race", "succeeded", T0, amount=HIGH_USD)

    class ChangedMeanwhile:
        """The real repository, but a refund lands right after the assessment's read."""

        def get(self, provider: str, payment_id: str):
            read = services.transactions().get(provider, payment_id)
            ingest(services, "pi_race", "canceled", T0 + 60, amount=HIGH_USD)
            return read

    records = RiskRecords(services.aws_client("dynamodb"), services.get_settings().transactions_table)
    racing = RiskService(ChangedMeanwhile(), records, risk_thresholds({}), services.utc_now)
    assert racing.assess("stripe", "pi_race").outcome is AssessmentOutcome.STALE
    stored = services.transactions().get("stripe", "pi_race")
    assert stored.risk is None and stored.status.value == "canceled"

    handle(feed_message(services, "pi_race", CAUSED, detail_type="payment.canceled"))
    assert services.transactions().get("stripe", "pi_race").risk.level is RiskLevel.HIGH


def test_a_redelivered_message_is_harmless_and_writes_nothing_the_second_time(services) -> None:
    ingest(services, "pi_again", "succeeded", T0, amount=HIGH_USD)
    message = feed_message(services, "pi_again", CAUSED, message_id="m-1")
    handle(message)
    first = services.transactions().get("stripe", "pi_again")
    counts = count_requests(services)
    assert handle(message, message) == {"batchItemFailures": []}
    assert counts == Counter({"GetItem": 2, "Query": 2})
    again = services.transactions().get("stripe", "pi_again")
    assert (again.risk, again.version) == (first.risk, first.version)


def test_the_risk_consumers_own_changes_are_not_assessed_again(services) -> None:
    """A rise of the level is published with no provider cause (`payment.risk_flagged`, or
    `payment.updated` for `review`): reading such an event makes no AWS call at all."""
    ingest(services, "pi_loop", "succeeded", T0, amount=HIGH_USD)
    handle(feed_message(services, "pi_loop", CAUSED))
    own = [feed_message(services, "pi_loop", None, detail_type="payment.risk_flagged"),
           feed_message(services, "pi_loop", None, detail_type="payment.updated"),
           feed_message(services, "pi_loop", CAUSED, detail_type="payment.risk_flagged")]
    counts = count_requests(services)
    assert handle(*own) == {"batchItemFailures": []}
    assert counts == Counter()


def test_a_new_score_at_the_same_level_is_written_without_moving_the_version(services) -> None:
    """A risk write that leaves the level as it was is not a change the feed publishes."""
    ingest(services, "pi_same", "succeeded", T0, amount=HIGH_USD, customer="cus_same")
    handle(feed_message(services, "pi_same", CAUSED))
    high = services.transactions().get("stripe", "pi_same")
    refund_fully(services, "pi_same", T0 + 60, HIGH_USD)
    refunded = services.transactions().get("stripe", "pi_same")
    handle(feed_message(services, "pi_same", CAUSED, detail_type="payment.refunded"))
    rescored = services.transactions().get("stripe", "pi_same")
    assert (high.risk.score, rescored.risk.score) == (70, 100)
    assert rescored.risk.level is RiskLevel.HIGH and rescored.version == refunded.version


def test_velocity_and_card_testing_read_the_customers_recent_transactions_through_the_index(services) -> None:
    """Three failures then three payments a minute apart: the third failure is card
    testing, and the sixth transaction in ten minutes is velocity as well (high)."""
    for n in range(6):
        status = "payment_failed" if n < 3 else "succeeded"
        ingest(services, f"pi_card{n}", status, T0 + 60 * n, customer="cus_tester", created=T0 + 60 * n)
    for n in range(3):  # counted, they would make the third failure velocity too
        ingest(services, f"pi_other{n}", "succeeded", T0 + n, customer="cus_someone_else", created=T0 + n)
    ingest(services, "pi_card_later", "succeeded", T0 + 3600 * 2, customer="cus_tester", created=T0 + 3600 * 2)
    handle(*(feed_message(services, f"pi_card{n}", CAUSED) for n in (*range(6), "_later")))
    found = {n: services.transactions().get("stripe", f"pi_card{n}").risk for n in (*range(6), "_later")}
    assert [r.level.value for r in found.values()] == ["low", "low", "review", "review", "review", "high", "low"]
    assert [reason.rule for reason in found[2].reasons] == ["card_testing"]
    assert [reason.rule for reason in found[5].reasons] == ["velocity", "card_testing"]


def test_a_message_that_is_not_a_feed_event_goes_back_to_the_queue(services) -> None:
    unreadable = {"messageId": "bad-1", "receiptHandle": "r", "body": "{\"detail\": 1}"}
    assert handle(unreadable) == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}


def test_the_rule_on_the_change_feed_delivers_only_changes_a_provider_event_caused(aws) -> None:
    """The template's rule and queue, in the emulator: the first filter against loops."""
    events, sqs = aws.client("events"), aws.client("sqs")
    entries = [
        {"Source": "payment-webhooks", "DetailType": detail_type, "EventBusName": "payment-webhooks-local",
         "Detail": json.dumps({"id": f"stripe/pi_1/{n}", "version": n, "transaction": {"provider": "stripe", "id": "pi_1"},
                               "previous": None, "cause": cause})}
        for n, (detail_type, cause) in enumerate([("payment.succeeded", CAUSED), ("payment.risk_flagged", None),
                                                  ("payment.updated", None)], start=1)
    ]
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    url = sqs.get_queue_url(QueueName="payment-webhooks-local-risk-assessments")["QueueUrl"]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [json.loads(m["Body"])["detail"]["version"] for m in received] == [1]
