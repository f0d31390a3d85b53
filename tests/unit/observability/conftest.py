from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def app_logger_at_info() -> Iterator[logging.Logger]:
    """The level the app configures in Lambda, whatever an earlier test left."""
    logger = logging.getLogger("payment_webhooks")
    level = logger.level
    logger.setLevel(logging.INFO)
    yield logger
    logger.setLevel(level)
