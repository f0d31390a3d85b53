"""The codec writes the service's own value types directly; every value must come out as
boto3's general serializer would write it, and read back as it went in."""
from __future__ import annotations

from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeSerializer

from chalicelib.storage.codec import from_attributes, to_attributes, to_value

VALUES = [
    "pi_123", "", 0, 2000, 2**63 - 1, True, False, b"\x00raw", [], ["a", 1, True],
    {"nested": {"list": [1, {"deep": "x"}]}}, {"amount": 5, "currency": "EUR"},
    Decimal("12.5"), None, {"tags"},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_every_value_is_written_as_boto3s_serializer_writes_it(value: object) -> None:
    assert to_value(value) == TypeSerializer().serialize(value)


def test_a_bool_is_a_bool_and_not_a_number() -> None:
    assert to_value(True) == {"BOOL": True}


def test_an_item_reads_back_as_it_was_written_without_its_absent_values() -> None:
    plain = {"pk": "stripe#pi_1", "amount": 2000, "live": False, "raw": b"\x78\x9c",
             "events": [{"event_id": "evt_1", "n": 1}], "merchant_id": None}
    expected = {name: value for name, value in plain.items() if value is not None}
    assert from_attributes(to_attributes(plain)) == expected
