"""Reading another system's export: CSV or JSON Lines, normalised by the webhooks' rules,
refused at the first malformed line with its number and field, and read lazily."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.domain.ledger_export import LedgerRecord, MalformedExport, read_export
from chalicelib.domain.status import Status

PROVIDERS = ("adyen", "generic", "stripe")
HEADER = b"provider,id,amount,currency,status,created_at,amount_refunded,merchant_id\n"


def records(lines: list[bytes]) -> list[tuple[int, LedgerRecord]]:
    return list(read_export(lines, PROVIDERS))


def refusal(lines: list[bytes]) -> tuple[int, str]:
    with pytest.raises(MalformedExport) as raised:
        records(lines)
    return raised.value.line, raised.value.field


def test_csv_and_json_lines_give_the_same_normalised_records() -> None:
    csv_lines = [b"\xef\xbb\xbf" + HEADER, b"stripe,pi_1,2000,usd,succeeded,2026-11-20T11:00:00+01:00,,acct_1\n",
                 b"\n", b"adyen,PSP1,500,JPY,refunded,2026-11-20T10:00:00Z,500,\n"]
    json_lines = [b'{"provider": "stripe", "id": "pi_1", "amount": 2000, "currency": "usd", "status": "succeeded",'
                  b' "created_at": "2026-11-20T11:00:00+01:00", "merchant_id": "acct_1"}\n', b"\n",
                  b'{"provider": "adyen", "id": "PSP1", "amount": 500, "currency": "JPY", "status": "refunded",'
                  b' "created_at": "2026-11-20T10:00:00Z", "amount_refunded": 500, "merchant_id": null}']
    at = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    expected = [LedgerRecord("stripe", "pi_1", 2000, "USD", Status.SUCCEEDED, at, merchant_id="acct_1"),
                LedgerRecord("adyen", "PSP1", 500, "JPY", Status.REFUNDED, at, amount_refunded=500)]
    assert [r for _, r in records(csv_lines)] == expected
    assert [r for _, r in records(json_lines)] == expected
    assert [n for n, _ in records(csv_lines)] == [2, 4]  # the header is line 1


@pytest.mark.parametrize("row, field", [
    (b"stripe,pi_1,20.00,USD,succeeded,2026-11-20T10:00:00Z,,", "amount"),
    (b"stripe,pi_1,-5,USD,succeeded,2026-11-20T10:00:00Z,,", "amount"),
    (b"stripe,pi_1,2000,XYZ,succeeded,2026-11-20T10:00:00Z,,", "currency"),
    (b"stripe,pi_1,2000,USD,paid,2026-11-20T10:00:00Z,,", "status"),
    (b"stripe,pi_1,2000,USD,succeeded,2026-11-20 10:00:00,,", "created_at"),
    (b"paypal2,pi_1,2000,USD,succeeded,2026-11-20T10:00:00Z,,", "provider"),
    (b"stripe,pi/1,2000,USD,succeeded,2026-11-20T10:00:00Z,,", "id"),
    (b"stripe,,2000,USD,succeeded,2026-11-20T10:00:00Z,,", "id"),
    (b"stripe,pi_1,2000,USD,refunded,2026-11-20T10:00:00Z,2001,", "amount_refunded"),
    (b"stripe,pi_1,2000,USD,succeeded", "(line)"),
    (b"stripe,pi_1,2000,USD,succeeded,2026-11-20T10:00:00Z,,\xff", "(line)"),
])
def test_a_malformed_csv_line_is_named_with_its_field(row: bytes, field: str) -> None:
    good = b"stripe,pi_0,2000,USD,succeeded,2026-11-20T10:00:00Z,,\n"
    assert refusal([HEADER, good, row + b"\n"]) == (3, field)


def test_a_header_without_a_required_column_is_line_one() -> None:
    assert refusal([b"provider,id,amount,currency,status\n", b"stripe,pi_1,1,USD,succeeded\n"]) == (1, "created_at")


@pytest.mark.parametrize("line, field", [
    (b'{"provider": "stripe", "id": "pi_1", "amount": 20.5, "currency": "USD", "status": "succeeded", '
     b'"created_at": "2026-11-20T10:00:00Z"}', "amount"),
    (b'{"provider": "stripe", "id": "pi_1", "amount": true, "currency": "USD", "status": "succeeded", '
     b'"created_at": "2026-11-20T10:00:00Z"}', "amount"),
    (b'{"provider": "stripe", "id": 7, "amount": 1, "currency": "USD", "status": "succeeded", '
     b'"created_at": "2026-11-20T10:00:00Z"}', "id"),
    (b'{"provider": "stripe", "id": "pi_1", "amount": 1, "currency": "USD", "status": "succeeded"}', "created_at"),
    (b'["not", "an", "object"]', "(line)"),
    (b'{"provider": "stripe", "id": "pi_1",', "(line)"),
])
def test_a_malformed_json_line_is_named_with_its_field(line: bytes, field: str) -> None:
    good = (b'{"provider": "stripe", "id": "pi_0", "amount": 1, "currency": "USD", "status": "succeeded", '
            b'"created_at": "2026-11-20T10:00:00Z"}\n')
    assert refusal([good, b"\n", line + b"\n"]) == (3, field)


def test_the_export_is_read_lazily_one_line_at_a_time() -> None:
    def endless():
        yield HEADER
        n = 0
        while True:
            n += 1
            yield f"stripe,pi_{n},100,EUR,succeeded,2026-11-20T10:00:00Z,,\n".encode()

    reader = read_export(endless(), PROVIDERS)
    assert [next(reader)[1].id for _ in range(3)] == ["pi_1", "pi_2", "pi_3"]
