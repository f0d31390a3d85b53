from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client

from chalicelib import wiring
from tests.support.signing import REPO_ROOT


@pytest.fixture
def client(aws) -> Iterator[Client]:
    """The Chalice app in-process, its boto3 clients pointed at a clean emulator stage."""
    wiring.reset()
    from app import app

    # The local stage's config.json variables are applied per request, like chalice local.
    with Client(app, stage_name="local", project_dir=str(REPO_ROOT)) as test_client:
        yield test_client
    wiring.reset()
