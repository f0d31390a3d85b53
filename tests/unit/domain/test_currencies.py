"""The embedded ISO 4217 table, checked against pycountry's copy of the standard."""
from __future__ import annotations

import pycountry
import pytest

from chalicelib.domain.currencies import (
    MINOR_UNITS,
    RECENTLY_WITHDRAWN,
    InvalidAmount,
    UnknownCurrency,
    minor_units,
    normalise_currency,
    to_minor_units,
)

ISO_4217 = frozenset(currency.alpha_3 for currency in pycountry.currencies)

UNITS_OF_ACCOUNT = frozenset(
    "XAD XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX".split()
)
"""Codes the standard lists with no minor unit: precious metals, bond-market and
supranational units of account, the testing and "no currency" codes. Nobody is paid in
them, so the table leaves them out."""


def test_every_code_in_the_table_is_an_iso_4217_code_or_one_withdrawn_recently():
    assert set(MINOR_UNITS) - ISO_4217 == RECENTLY_WITHDRAWN


def test_recently_withdrawn_codes_really_are_gone_from_the_standard():
    assert RECENTLY_WITHDRAWN.isdisjoint(ISO_4217)


def test_every_iso_4217_currency_one_can_pay_in_is_in_the_table():
    assert ISO_4217 - set(MINOR_UNITS) == UNITS_OF_ACCOUNT


def test_minor_units_are_between_zero_and_four_digits():
    assert set(MINOR_UNITS.values()) == {0, 2, 3, 4}


@pytest.mark.parametrize(
    "code, digits",
    [
        ("JPY", 0), ("KRW", 0), ("ISK", 0), ("VND", 0), ("XOF", 0), ("CLP", 0), ("UGX", 0),
        ("EUR", 2), ("USD", 2), ("GBP", 2), ("HUF", 2), ("IDR", 2), ("XCG", 2), ("ZWG", 2),
        ("KWD", 3), ("BHD", 3), ("JOD", 3), ("OMR", 3), ("TND", 3), ("LYD", 3), ("IQD", 3),
        ("CLF", 4), ("UYW", 4),
    ],
)
def test_a_currency_has_the_minor_units_the_standard_gives_it(code, digits):
    assert minor_units(code) == digits


@pytest.mark.parametrize("given, code", [("usd", "USD"), ("Eur", "EUR"), (" jpy ", "JPY")])
def test_lower_case_codes_as_stripe_sends_them_are_upper_cased(given, code):
    assert normalise_currency(given) == code


@pytest.mark.parametrize("code", ["", "ZZZ", "US", "USDD", "EURO", "XAU", "XXX", "HRK", "€"])
def test_an_unknown_code_is_refused_naming_it(code):
    with pytest.raises(UnknownCurrency, match=f"'{code}' is not an ISO 4217 currency code"):
        normalise_currency(code)


def test_minor_units_of_an_unknown_code_is_refused():
    with pytest.raises(UnknownCurrency):
        minor_units("zzz")


@pytest.mark.parametrize("value, currency, minor", [
    ("20.00", "USD", 2000), ("20.5", "usd", 2050), ("20", "EUR", 2000), (".99", "EUR", 99), ("0", "GBP", 0),
    ("500", "JPY", 500), ("1.250", "KWD", 1250), ("1.2345", "CLF", 12345),
    ("92233720368547758.07", "USD", 2**63 - 1),
])
def test_a_decimal_amount_is_exact_minor_units_by_the_currency_s_exponent(value, currency, minor):
    assert to_minor_units(value, currency) == minor


@pytest.mark.parametrize("value, currency", [
    ("20.001", "USD"), ("20.000", "USD"), ("500.5", "JPY"), ("500.0", "JPY"), ("1.2500", "KWD"),
])
def test_more_decimals_than_the_currency_has_is_refused_even_trailing_zeros(value, currency):
    with pytest.raises(InvalidAmount, match=f"has {len(value.partition('.')[2])} decimals"):
        to_minor_units(value, currency)


@pytest.mark.parametrize("value", ["-1.00", "+1.00", "1e3", "1.", ".", "", " 1.00", "1,00", "1_000", "١٢", "NaN", "9" * 40])
def test_anything_but_a_plain_non_negative_decimal_is_refused(value):
    with pytest.raises(InvalidAmount, match="is not a non-negative decimal amount"):
        to_minor_units(value, "USD")
