"""Fixtures shared by every test. Nothing here starts unless a test asks for it, so unit
tests (tests/unit) run with no emulator at all."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.provision import secrets_file_from_env
from tests.support.emulator import AwsStack, Emulator, EmulatorProcess, clear_settings_cache, stack_env


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """This test process's own emulator (one per xdist worker), provisioned once.

    Prefer `aws`: it also gives the test a clean state and the environment."""
    process = EmulatorProcess()
    try:
        yield Emulator(process, secrets_file_from_env())
    finally:
        process.stop()


@pytest.fixture
def aws(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsStack]:
    """A clean, provisioned local stage, with os.environ pointing the app and boto3 at it."""
    outputs = emulator.fresh_state()
    env = stack_env(emulator.endpoint_url, outputs)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clear_settings_cache()
    yield AwsStack(emulator.endpoint_url, dict(outputs), env)
    clear_settings_cache()
