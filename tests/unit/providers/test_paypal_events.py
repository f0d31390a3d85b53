"""PayPal events to canonical events (contract section 12), beyond what the fixtures'
conformance test pins: the id rules, the amounts and what a malformed event is told."""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from chalicelib.domain.events import CanonicalEvent
from chalicelib.domain.status import Status
from chalicelib.errors import InvalidPayload
from chalicelib.providers.payload import Fields
from chalicelib.providers.paypal.events import canonical_event
from tests.support.signing import fixture_bytes

CAPTURE_ID = "42311647XV020574X"


def fixture(name: str) -> dict[str, Any]:
    return json.loads(fixture_bytes("paypal", name))


def parse(document: dict[str, Any]) -> CanonicalEvent:
    return canonical_event(Fields(document, ""))


def with_amount(value: str, currency: str) -> dict[str, Any]:
    event = fixture("PAYMENT.CAPTURE.COMPLETED")
    event["resource"]["amount"] = {"currency_code": currency, "value": value}
    return event


@pytest.mark.parametrize("value, currency, minor", [("20.00", "USD", 2000), ("500", "JPY", 500), ("1.250", "KWD", 1250)])
def test_a_capture_amount_is_converted_to_minor_units_by_its_currency(value, currency, minor):
    facts = parse(with_amount(value, currency)).facts
    assert (facts.amount, facts.currency) == (minor, currency)


@pytest.mark.parametrize("value, currency", [("20.001", "USD"), ("500.5", "JPY"), ("1.2500", "KWD")])
def test_an_amount_with_more_decimals_than_its_currency_has_is_invalid_naming_the_field(value, currency):
    with pytest.raises(InvalidPayload, match=r"^resource\.amount\.value: .* decimals and "):
        parse(with_amount(value, currency))


@pytest.mark.parametrize("value", ["-20.00", "20,00", "twenty"])
def test_an_amount_that_is_not_a_non_negative_decimal_is_invalid(value):
    with pytest.raises(InvalidPayload, match=r"^resource\.amount\.value: "):
        parse(with_amount(value, "USD"))


def test_an_amount_beyond_the_stored_range_is_invalid():
    with pytest.raises(InvalidPayload, match="out of range"):
        parse(with_amount("92233720368547758.08", "USD"))


def test_an_unknown_currency_is_invalid_naming_the_field():
    with pytest.raises(InvalidPayload, match=r"^resource\.amount\.currency_code: "):
        parse(with_amount("20.00", "XYZ"))


def test_events_are_ordered_by_the_event_s_create_time_not_the_resource_s():
    event = parse(fixture("PAYMENT.CAPTURE.REFUNDED_partial"))
    assert event.occurred_at.isoformat() == "2026-01-02T09:00:04.112000+00:00"


def test_a_refund_is_put_on_the_capture_its_up_link_names():
    assert parse(fixture("PAYMENT.CAPTURE.REFUNDED_full")).payment_id == CAPTURE_ID


def test_a_refund_without_a_link_to_its_capture_is_invalid():
    event = fixture("PAYMENT.CAPTURE.REFUNDED_full")
    event["resource"]["links"] = [link for link in event["resource"]["links"] if link["rel"] != "up"]
    with pytest.raises(InvalidPayload, match=r"^resource\.links: no 'up' link"):
        parse(event)


def test_a_refund_without_the_refunded_total_is_counted_by_its_own_id_and_amount():
    event = fixture("PAYMENT.CAPTURE.REFUNDED_full")
    del event["resource"]["seller_payable_breakdown"]
    parsed = parse(event)
    assert parsed.refund_by_amount and parsed.facts.amount_refunded is None
    assert (parsed.facts.refund.id, parsed.facts.refund.amount) == ("0XH00157RA6352634", 1500)


@pytest.mark.parametrize("status", ["PENDING", "FAILED", "CANCELLED"])
def test_a_refund_that_moved_no_money_yet_is_ignored(status):
    event = fixture("PAYMENT.CAPTURE.REFUNDED_partial")
    event["resource"]["status"] = status
    parsed = parse(event)
    assert (parsed.payment_id, parsed.status, parsed.describes_payment) == (None, None, False)


def test_a_reversal_is_refunded_whatever_the_amount():
    parsed = parse(fixture("PAYMENT.CAPTURE.REVERSED"))
    assert (parsed.status, parsed.refund_by_amount) == (Status.REFUNDED, False)


def test_a_dispute_is_put_on_the_seller_transaction_it_names_and_its_amount_is_not_the_payment_s():
    parsed = parse(fixture("CUSTOMER.DISPUTE.CREATED"))
    assert (parsed.payment_id, parsed.status) == (CAPTURE_ID, Status.DISPUTED)
    assert parsed.facts.amount is None and parsed.facts.currency == "USD"


def test_a_dispute_naming_no_transaction_is_invalid():
    event = fixture("CUSTOMER.DISPUTE.CREATED")
    event["resource"]["disputed_transactions"] = []
    with pytest.raises(InvalidPayload, match=r"^resource\.disputed_transactions: must not be empty"):
        parse(event)


@pytest.mark.parametrize("event_type", ["PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"])
def test_a_denied_or_declined_capture_is_failed(event_type):
    event = fixture("PAYMENT.CAPTURE.DENIED")
    event["event_type"] = event_type
    assert parse(event).status == Status.FAILED


@pytest.mark.parametrize("event_type", ["CHECKOUT.ORDER.APPROVED", "PAYMENT.AUTHORIZATION.CREATED", "CUSTOMER.DISPUTE.RESOLVED"])
def test_other_event_types_are_ignored(event_type):
    event = copy.deepcopy(fixture("CHECKOUT.ORDER.APPROVED"))
    event["event_type"] = event_type
    assert not parse(event).describes_payment


@pytest.mark.parametrize("field", ["id", "event_type", "create_time"])
def test_an_event_missing_its_envelope_field_is_invalid_naming_it(field):
    event = fixture("PAYMENT.CAPTURE.COMPLETED")
    del event[field]
    with pytest.raises(InvalidPayload, match=f"^{field}: is required"):
        parse(event)
