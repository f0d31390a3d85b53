"""Write units as DynamoDB documents them: item sizes, transactional doubling, sparse indexes."""
from __future__ import annotations

from benchmarks.support.write_units import Index, Write, item_size, number_size

BY_MERCHANT = Index("by-merchant", ("merchant_id", "created_key"))


def test_an_item_is_its_attribute_names_plus_their_values() -> None:
    assert item_size({"pk": {"S": "stripe#evt_1"}}) == 2 + 12
    assert item_size({"raw": {"B": b"\x00" * 100}, "live": {"BOOL": False}}) == 3 + 100 + 4 + 1
    # a list or map: 3 bytes, plus each element and 1 byte per element (a map's names count)
    assert item_size({"events": {"L": [{"M": {"id": {"S": "e1"}}}]}}) == 6 + 3 + (3 + (2 + 2 + 1)) + 1


def test_a_number_is_one_byte_per_two_significant_digits_plus_one() -> None:
    assert [number_size(n) for n in ("2000", "1767261600", "-12.50", "7")] == [2, 5, 3, 2]


def test_a_transactional_write_costs_two_units_per_started_kb_of_the_larger_image() -> None:
    small, large = {"pk": {"S": "a"}}, {"pk": {"S": "a"}, "raw": {"B": b"x" * 1500}}
    assert Write("t", None, small, small, transactional=True).table_units() == 2
    assert Write("t", large, small, None, transactional=True).table_units() == 4
    assert Write("t", None, large, large, transactional=False).table_units() == 2


def test_an_index_is_written_only_for_items_it_holds_and_twice_when_their_key_moves() -> None:
    keyed = {"pk": {"S": "a"}, "merchant_id": {"S": "m-1"}, "created_key": {"S": "k1"}}
    unkeyed = {"pk": {"S": "a"}, "status": {"S": "pending"}}
    assert Write("t", None, unkeyed, None, True).index_units(BY_MERCHANT) == 0
    assert Write("t", None, keyed, None, True).index_units(BY_MERCHANT) == 1
    assert Write("t", keyed, {**keyed, "status": {"S": "paid"}}, None, True).index_units(BY_MERCHANT) == 1
    assert Write("t", keyed, {**keyed, "created_key": {"S": "k2"}}, None, True).index_units(BY_MERCHANT) == 2
    assert Write("t", keyed, keyed, None, True).index_units(BY_MERCHANT) == 0  # a cancelled write


def test_a_keys_only_index_is_written_only_when_an_item_enters_it_leaves_it_or_its_key_moves() -> None:
    by_provider = Index("by-provider", ("provider", "created_key"), ("pk", "provider", "created_key"))
    keyed = {"pk": {"S": "a"}, "provider": {"S": "stripe"}, "created_key": {"S": "k1"}, "events": {"S": "x" * 2000}}
    assert Write("t", None, keyed, None, True).index_units(by_provider) == 1  # keys only: one small entry
    assert Write("t", keyed, {**keyed, "status": {"S": "paid"}}, None, True).index_units(by_provider) == 0
    assert Write("t", keyed, {**keyed, "created_key": {"S": "k2"}}, None, True).index_units(by_provider) == 2
