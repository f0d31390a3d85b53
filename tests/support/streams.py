"""The emulator's transactions stream fed to one of the app's stream handlers, in-process,
by the same poller `make run` uses."""
from __future__ import annotations

from typing import Any

from local.stream_poller import MemoryCheckpoints, StreamPoller


def consumer_poller(aws: Any, function: str = "update_daily_analytics", **options: Any) -> StreamPoller:
    """A poller from the start of the stream, for the handler the app registered as `function`."""
    from app import app

    return StreamPoller(aws.client("dynamodbstreams"), aws.outputs["TransactionsStreamArn"],
                        app.handler_map[function], MemoryCheckpoints(), function=function,
                        report=lambda line: None, **options)
