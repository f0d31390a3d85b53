"""How long an id may be: 255 characters (the contract) and at most `MAX_ID_BYTES` bytes
of UTF-8 (DynamoDB's key limits, which moto does not enforce).

A transaction's `created_key` (its time, `#`, provider, `#`, id) is the sort key of the
listing indexes, and DynamoDB refuses a sort key over 1,024 bytes: a 255-character id of
four-byte characters would make every write of it fail, a 503 on every retry for ever.
The byte bound leaves room for the time and provider around the id; partition keys (2,048
bytes) are then never at risk either. Checked wherever an id is read from a caller."""
from __future__ import annotations

MAX_ID_CHARS = 255
MAX_ID_BYTES = 960


def id_problem(value: str) -> str | None:
    """Why `value` cannot be an id (a provider's payment or event id, as it appears in a
    path), or None when it can."""
    if not 1 <= len(value) <= MAX_ID_CHARS:
        return f"must be 1 to {MAX_ID_CHARS} characters"
    if "/" in value:
        return "must not contain '/'"
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate: no storage can keep it
        return "must be valid Unicode text"
    if size > MAX_ID_BYTES:
        return f"longer than {MAX_ID_BYTES} bytes of UTF-8"
    return None
