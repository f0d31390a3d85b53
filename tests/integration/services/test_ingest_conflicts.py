"""A write DynamoDB cancels because another transaction touched the same item at the same
moment (`TransactionConflict`) is retried, on every path of ingest, never a 500."""
from __future__ import annotations

from botocore.awsrequest import AWSResponse

from tests.support.signing import payment_intent, stripe_event, stripe_headers


def cancel_first_transactions(services, reasons: list[str], times: int = 1) -> list[int]:
    """The next `times` TransactWriteItems are cancelled with `reasons`, as DynamoDB does
    when a concurrent delivery of the same event is in flight."""
    calls = [0]

    def cancel(model, **_):
        calls[0] += 1
        if calls[0] > times:
            return None
        error = {"Error": {"Code": "TransactionCanceledException", "Message": "injected"},
                 "CancellationReasons": [{"Code": code} for code in reasons],
                 "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("", 400, {}, None), error

    services.aws_client("dynamodb").meta.events.register(
        "before-call.dynamodb.TransactWriteItems", cancel, unique_id="cancel")
    return calls


def test_a_conflict_on_the_single_request_path_is_retried_and_the_event_applied(services) -> None:
    body = stripe_event("evt_conflict", "payment_intent.succeeded", 1767261600,
                        payment_intent("pi_conflict", "succeeded"))
    calls = cancel_first_transactions(services, ["TransactionConflict", "None"])
    receipt = services.ingest_service().receive("stripe", body, stripe_headers(body))
    assert receipt.events[0].outcome.value == "applied"
    assert calls[0] >= 2
    assert services.transactions().get("stripe", "pi_conflict").status.value == "succeeded"


def test_a_conflict_with_the_winning_duplicate_is_answered_duplicate(services) -> None:
    body = stripe_event("evt_twice", "payment_intent.succeeded", 1767261600,
                        payment_intent("pi_twice", "succeeded"))
    services.ingest_service().receive("stripe", body, stripe_headers(body))
    cancel_first_transactions(services, ["TransactionConflict", "None"])
    receipt = services.ingest_service().receive("stripe", body, stripe_headers(body))
    assert receipt.events[0].outcome.value == "duplicate"
    assert len(services.transactions().get("stripe", "pi_twice").events) == 1
