"""The single-request update for an in-order event: well-formed for DynamoDB (every name and
value placeholder it sends is used, and every one it uses is sent), small (recurring values
once), and the same for every event of one shape."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from chalicelib.domain.events import CanonicalEvent, PaymentFacts
from chalicelib.domain.status import Status
from chalicelib.domain.transaction import in_order_write
from chalicelib.storage.in_order_update import in_order_update

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
RECEIVED = T0 + timedelta(days=1)
PAYMENT = dict(amount=2000, currency="USD", created_at=T0, customer_id="cus_9", merchant_id="acct_1")


def event(event_id: str, minute: int, status: Status, refund_by_amount: bool = False,
          **facts: object) -> CanonicalEvent:
    return CanonicalEvent(
        provider="stripe", event_id=event_id, type=f"test.{event_id}",
        occurred_at=T0 + timedelta(minutes=minute), payment_id="pi_1", status=status,
        refund_by_amount=refund_by_amount, facts=PaymentFacts(**facts),
    )


def update_for(item: CanonicalEvent) -> dict:
    write = in_order_write(item, RECEIVED)
    assert write is not None
    return in_order_update("transactions", write)


def placeholders(update: dict, sigil: str) -> set[str]:
    text = update["UpdateExpression"] + " " + update["ConditionExpression"]
    return set(re.findall(sigil + r"\w+", text))


def test_every_placeholder_sent_is_used_and_every_one_used_is_sent() -> None:
    for item in (event("created", 0, Status.PENDING, **PAYMENT),
                 event("paid", 1, Status.SUCCEEDED, amount=2000),
                 event("refunded", 2, Status.REFUNDED, True, amount=2000, currency="USD", amount_refunded=2000)):
        update = update_for(item)
        assert placeholders(update, "#") == set(update["ExpressionAttributeNames"]), item.event_id
        assert placeholders(update, ":") == set(update["ExpressionAttributeValues"]), item.event_id


def test_the_order_key_and_event_time_are_sent_once_however_many_attributes_carry_them() -> None:
    update = update_for(event("created", 0, Status.PENDING, **PAYMENT))
    values = update["ExpressionAttributeValues"]
    order_key = in_order_write(event("created", 0, Status.PENDING, **PAYMENT), RECEIVED).order_key
    assert [v for v in values.values() if v == {"S": order_key}] == [{"S": order_key}]
    assert "#src_amount = :key" in update["UpdateExpression"]
    assert "#frontier = :key" in update["UpdateExpression"]
    assert "#last_event_at = :at" in update["UpdateExpression"]
    assert values[":at"] == {"S": "2026-11-20T10:00:00Z"}


def test_a_new_payment_may_create_the_item_and_a_later_event_may_only_update_it() -> None:
    created = update_for(event("created", 0, Status.PENDING, **PAYMENT))
    later = update_for(event("paid", 1, Status.SUCCEEDED, amount=2000))
    assert created["ConditionExpression"].startswith("attribute_not_exists(#pk) OR (")
    assert "attribute_not_exists(#archived)" in created["ConditionExpression"]
    assert later["ConditionExpression"].startswith("attribute_exists(#pk) AND ")
    assert "#created_key" in created["UpdateExpression"] and "#created_key" not in later["UpdateExpression"]


def test_a_reported_refund_total_may_only_grow() -> None:
    update = update_for(event("refunded", 2, Status.REFUNDED, True, amount=2000, currency="USD", amount_refunded=2000))
    assert "#amount_refunded <= :cap" in update["ConditionExpression"]
    assert update["ExpressionAttributeValues"][":cap"] == {"N": "2000"}


def test_events_of_one_shape_send_the_same_expressions_with_their_own_values() -> None:
    first = update_for(event("paid", 1, Status.SUCCEEDED, amount=2000))
    second = update_for(event("paid-again", 3, Status.SUCCEEDED, amount=2500))
    assert first["UpdateExpression"] == second["UpdateExpression"]
    assert first["ConditionExpression"] == second["ConditionExpression"]
    assert first["ExpressionAttributeValues"] != second["ExpressionAttributeValues"]
