"""ClientRequestToken bookkeeping of the emulator's transactions, and the moto version pin."""
from __future__ import annotations

import pytest

from local.emulator import patch_moto
from local.emulator_transactions import ClientRequestTokens, IdempotentParameterMismatchException


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_is_unknown_until_its_transaction_completes() -> None:
    tokens = ClientRequestTokens(Clock())

    assert not tokens.completed("t-1", "request")
    tokens.remember("t-1", "request")
    assert tokens.completed("t-1", "request")


def test_the_same_token_with_another_request_is_a_mismatch() -> None:
    tokens = ClientRequestTokens(Clock())
    tokens.remember("t-1", "request")

    with pytest.raises(IdempotentParameterMismatchException):
        tokens.completed("t-1", "another request")


def test_a_token_is_forgotten_ten_minutes_after_its_transaction_completed() -> None:
    clock = Clock()
    tokens = ClientRequestTokens(clock)
    tokens.remember("t-old", "request")
    clock.now += 300
    tokens.remember("t-new", "request")

    clock.now += 300.5
    assert not tokens.completed("t-old", "another request")
    assert tokens.completed("t-new", "request")


def test_the_emulator_refuses_a_moto_version_its_patches_were_not_checked_against() -> None:
    with pytest.raises(RuntimeError, match="patches moto 0.0.1"):
        patch_moto(version="0.0.1")
