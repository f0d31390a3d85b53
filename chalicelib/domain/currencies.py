"""ISO 4217 currencies and their minor units.

Embedded rather than imported from a package because the Lambda package should not carry a
locale database for one table; `tests/unit/domain/test_currencies.py` checks it against
pycountry's ISO 4217 list so a typo cannot hide here.
"""
from __future__ import annotations

import re

_ZERO_DECIMAL = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMAL = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMAL = "CLF UYW"
_TWO_DECIMAL = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD "
    "FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW "
    "KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR "
    "MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG "
    "SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD "
    "USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)
# Withdrawn from ISO 4217 recently (ANG -> XCG 2025, BGN -> EUR 2026, SLL -> SLE, ZWL ->
# ZWG 2024) but still accepted: a refund or dispute can arrive months after a payment made
# in one, and refusing it would lose the event. All had two minor units.
_RECENTLY_WITHDRAWN = "ANG BGN SLL ZWL"
RECENTLY_WITHDRAWN = frozenset(_RECENTLY_WITHDRAWN.split())

MINOR_UNITS: dict[str, int] = {
    **{code: 2 for code in _TWO_DECIMAL.split()},
    **{code: 2 for code in _RECENTLY_WITHDRAWN.split()},
    **{code: 0 for code in _ZERO_DECIMAL.split()},
    **{code: 3 for code in _THREE_DECIMAL.split()},
    **{code: 4 for code in _FOUR_DECIMAL.split()},
}


class UnknownCurrency(ValueError):
    """A currency code that is neither a current ISO 4217 code nor a recently withdrawn one."""


def normalise_currency(code: str) -> str:
    """Upper-case a provider's currency code (Stripe sends 'usd') and reject unknown ones."""
    upper = code.strip().upper()
    if upper not in MINOR_UNITS:
        raise UnknownCurrency(f"'{code}' is not an ISO 4217 currency code")
    return upper


def minor_units(code: str) -> int:
    """Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD."""
    return MINOR_UNITS[normalise_currency(code)]


class InvalidAmount(ValueError):
    """A decimal amount that is not a plain non-negative decimal, or that has more decimals
    than its currency has minor units (a fraction of a cent cannot be stored, and rounding
    it would misstate the money)."""


_MAX_DECIMAL_TEXT = 32
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")  # PayPal's money pattern, unsigned


def to_minor_units(value: str, currency: str) -> int:
    """A decimal string ("20.00" USD, "500" JPY, "1.250" KWD) as an integer of minor units.

    Exact, never through a float; fewer decimals than the currency has are padded
    ("20.5" USD is 2050); more are refused, even trailing zeros: the provider wrote an
    amount the currency cannot have."""
    exponent = minor_units(currency)
    if len(value) > _MAX_DECIMAL_TEXT or not _DECIMAL.fullmatch(value):
        raise InvalidAmount(f"'{value[:_MAX_DECIMAL_TEXT]}' is not a non-negative decimal amount")
    whole, _, fraction = value.partition(".")
    if len(fraction) > exponent:
        raise InvalidAmount(
            f"'{value}' has {len(fraction)} decimals and {normalise_currency(currency)} has {exponent}"
        )
    return int((whole or "0") + fraction.ljust(exponent, "0"))
