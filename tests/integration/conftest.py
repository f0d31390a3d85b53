from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib import wiring


@pytest.fixture
def services(aws) -> Iterator[object]:
    """The app's own composition root, built against a clean emulator stage."""
    wiring.reset()
    yield wiring
    wiring.reset()
