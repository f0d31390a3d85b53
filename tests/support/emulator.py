"""A private AWS emulator per test process, provisioned from infra/resources.json.

Why a subprocess (not `mock_aws` or an in-process ThreadedMotoServer): it is the same
serialised emulator `make run` uses, `mock_aws` elsewhere in the process cannot wipe it,
and each pytest-xdist worker gets its own on a port the OS picked, so workers never share
state. Between tests the state is reset and the template redeployed (measured ~0.08 s).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from local import provision
from local.emulator_process import REPO_ROOT, EmulatorProcess
from local.run import app_env

STAGE = "local"


class Emulator:
    """A running emulator plus the stage deployed into it; `fresh_state` gives a clean one."""

    def __init__(self, process: EmulatorProcess, secrets_file: Path) -> None:
        self.process = process
        self.endpoint_url = process.endpoint_url
        self.secrets_file = secrets_file
        self.outputs = provision.provision(self.endpoint_url, STAGE, secrets_file)
        self._pristine = True

    def fresh_state(self) -> dict[str, str]:
        """Wipe everything and redeploy, unless nothing can have touched it since the last time."""
        if not self._pristine:
            provision.reset_emulator(self.endpoint_url)
            self.outputs = provision.provision(self.endpoint_url, STAGE, self.secrets_file)
        self._pristine = False
        return self.outputs


def stack_env(endpoint_url: str, outputs: dict[str, str]) -> dict[str, str]:
    """What the app and any boto3 client need to talk to this emulator's stage: exactly
    what `make run` gives the app."""
    return app_env(endpoint_url, outputs, base={})


@dataclass
class AwsStack:
    """What the `aws` fixture hands a test: a clean, provisioned stage in the emulator."""

    endpoint_url: str
    outputs: dict[str, str]
    env: dict[str, str]
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        """A boto3 client bound to the emulator (cached for the test)."""
        return self._cached("client", service)

    def resource(self, service: str) -> Any:
        """A boto3 resource (`dynamodb`, `s3`, ...) bound to the emulator."""
        return self._cached("resource", service)

    def _cached(self, kind: str, service: str) -> Any:
        key = (kind, service)
        if key not in self._clients:
            self._clients[key] = getattr(self._session, kind)(service, endpoint_url=self.endpoint_url)
        return self._clients[key]

    @cached_property
    def _session(self) -> Any:
        import boto3

        return boto3.session.Session(region_name=provision.DEFAULT_REGION,
                                     **provision.DUMMY_CREDENTIALS)


def clear_settings_cache() -> None:
    """The app reads settings once (an lru_cache); tests that change env must drop it."""
    try:
        from chalicelib.settings import get_settings
    except ImportError:
        return
    get_settings.cache_clear()
