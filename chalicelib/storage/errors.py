"""Translating botocore failures into domain outcomes in one place."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import StorageUnavailable


class DuplicateEvent(Exception):
    """The event id is already stored: the conditional put refused it."""


class WriteConflict(Exception):
    """Another writer changed the transaction between our read and our write."""


class PreconditionFailed(Exception):
    """A conditional single-request write found the item not in the state it assumed."""


@contextmanager
def storage_errors() -> Iterator[None]:
    """Any storage failure that is not a domain outcome becomes 503, so the provider retries.
    The AWS error code is kept in the message for logs; no request data is."""
    try:
        yield
    except (DuplicateEvent, WriteConflict, PreconditionFailed):
        raise
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        raise StorageUnavailable(f"storage is unavailable ({code}); retry later") from exc
    except BotoCoreError as exc:
        raise StorageUnavailable(f"storage is unavailable ({type(exc).__name__}); retry later") from exc


def cancellation_codes(exc: ClientError) -> list[str]:
    """Per-item reasons of a cancelled TransactWriteItems, in request order."""
    return [reason.get("Code", "None") for reason in exc.response.get("CancellationReasons", [])]


def is_code(exc: ClientError, *codes: str) -> bool:
    return exc.response.get("Error", {}).get("Code") in codes
