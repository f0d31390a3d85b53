"""The composition root: every factory builds once, is typed, and is forgotten by reset()."""
from __future__ import annotations

import inspect

import pytest

from chalicelib import wiring

NOT_FACTORIES = {"utc_now", "reset", "built_once", "run_functions_in_process"}  # the last: app.py hands over its handlers


def factories() -> dict[str, object]:
    return {
        name: obj for name, obj in vars(wiring).items()
        if callable(obj) and getattr(obj, "__module__", None) == wiring.__name__
        and not name.startswith("_") and not inspect.isclass(obj) and name not in NOT_FACTORIES
    }


def test_every_factory_is_built_once_and_registered_for_reset() -> None:
    assert "ingest_service" in factories() and "aws_client" in factories()
    for name, factory in factories().items():
        assert hasattr(factory, "cache_clear"), f"{name} is not built once (@built_once)"
        assert factory in wiring._BUILT, f"{name} is cached but reset() would not forget it"


def test_every_factory_names_the_type_it_hands_out() -> None:
    for name, factory in factories().items():
        returns = inspect.signature(factory).return_annotation
        assert returns not in (inspect.Signature.empty, "Any"), f"{name} hands out Any"


def test_reset_forgets_what_was_built_and_the_settings_it_was_built_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("STAGE", "first")
    wiring.reset()
    metrics, client = wiring.metrics(), wiring.aws_client("s3")
    assert wiring.metrics() is metrics and wiring.aws_client("s3") is client
    monkeypatch.setenv("STAGE", "second")
    wiring.reset()
    assert wiring.metrics() is not metrics and wiring.aws_client("s3") is not client
    assert wiring.get_settings().stage == "second"
    wiring.reset()


def test_a_factory_added_later_is_forgotten_by_reset_without_touching_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wiring, "_BUILT", list(wiring._BUILT))
    built: list[object] = []

    @wiring.built_once
    def risk_service() -> object:
        built.append(object())
        return built[-1]

    assert risk_service() is risk_service()
    wiring.reset()
    assert risk_service() is not built[0]
    assert len(built) == 2
