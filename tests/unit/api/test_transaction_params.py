"""`GET /transactions` and path parameters (contract section 2): anything malformed is
`400 invalid_request`, never a 500, whatever characters or lengths arrive."""
from __future__ import annotations

import pytest

from chalicelib.api.params import path_id, transaction_query
from chalicelib.errors import InvalidRequest


@pytest.mark.parametrize("limit", ["\u00b2", "\u0663", "1\u00b9", "9" * 5000, "0" * 40 + "1", " 5", "+5", "-1", ""])
def test_a_limit_that_is_not_a_short_run_of_ascii_digits_is_invalid_request(limit: str) -> None:
    with pytest.raises(InvalidRequest, match="limit"):
        transaction_query({"merchant_id": "m-1", "limit": limit})


def test_a_limit_in_range_is_read() -> None:
    assert transaction_query({"merchant_id": "m-1", "limit": "200"}).limit == 200


@pytest.mark.parametrize("name", ["merchant_id", "customer_id"])
def test_an_owner_id_longer_than_any_stored_one_is_invalid_request(name: str) -> None:
    # 2,048 bytes is DynamoDB's limit for an index partition key: AWS would refuse the
    # query on every retry (a 503), moto does not.
    with pytest.raises(InvalidRequest, match=name):
        transaction_query({name: "\U0001F600" * 600})


def test_a_cursor_longer_than_any_issued_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="cursor"):
        transaction_query({"merchant_id": "m-1", "cursor": "a" * 20000})


def test_a_255_character_id_of_four_byte_characters_is_invalid_request() -> None:
    # As a transaction id it would put `created_key` over DynamoDB's 1,024-byte sort key.
    with pytest.raises(InvalidRequest, match="id"):
        path_id("id", "\U0001F600" * 255)


def test_an_id_of_255_ascii_characters_is_read() -> None:
    assert path_id("id", "a" * 255) == "a" * 255
