"""Reading a provider's JSON body field by field, with errors that name the field.

Every provider module reads its payload through `Fields` so that a `400 invalid_payload`
always says where the problem is (`data.object.amount: is required`,
`notificationItems[1].NotificationRequestItem.amount.value: must be an integer ...`) and
never echoes a long value back. Pydantic would do the validation too, but its locations
do not follow the provider's own nesting once a module has to pick a branch by event type.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from chalicelib.domain.currencies import UnknownCurrency, normalise_currency
from chalicelib.domain.events import CanonicalEvent, ParsedEvent
from chalicelib.domain.identifiers import id_problem
from chalicelib.domain.timestamps import InvalidTimestamp, from_epoch, parse_iso
from chalicelib.errors import InvalidPayload

MAX_AMOUNT = 2**63 - 1
MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z
MAX_TEXT = 255
_MAX_TIMESTAMP_TEXT = 64


def load_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; `body: ...` (400) for anything else, including NaN.

    Strict, because whatever is decoded here may be stored, re-serialised and logged:
    bytes that are not text in the detected encoding, and a lone surrogate written as an
    escape (`"\\ud800"`, valid JSON that no UTF-8 store can keep), are refused; so is
    nesting deeper than `MAX_DEPTH`, which no provider sends and which re-serialising
    (the kept Adyen item, the DynamoDB encoder) would pay for in recursion."""
    try:
        encoding = json.detect_encoding(raw)
        text = raw.decode(encoding)
        document = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidPayload("body: not valid JSON") from exc
    if not isinstance(document, dict):
        raise InvalidPayload("body: must be a JSON object")
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH:  # else it cannot be deeper (UTF-8)
        utf8 = raw if encoding == "utf-8" else text.encode("utf-8")
        if _depth(utf8.translate(None, _NOT_BRACKETS)) > MAX_DEPTH \
                and _depth(_STRING.sub(b"", utf8).translate(None, _NOT_BRACKETS)) > MAX_DEPTH:
            raise InvalidPayload(f"body: nested deeper than {MAX_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(raw) is not None or encoding != "utf-8":
        try:
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidPayload("body: holds a lone surrogate (not Unicode text)") from None
    return document


def _depth(brackets: bytes) -> int:
    """How deep the bracket sequence of a JSON text nests: the innermost pairs are
    removed pass by pass (each pass in C), counting passes, until none are left or the
    bound is passed. Brackets inside strings can only add passes, so the first, cheap
    call (the whole text's brackets) may say too deep; only then is it asked again with
    the strings taken out."""
    depth = 0
    while brackets and depth <= MAX_DEPTH:
        brackets = brackets.replace(b"{}", b"").replace(b"[]", b"")
        depth += 1
    return depth


MAX_DEPTH = 64
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# What `json.loads(raw, parse_constant=...)` does, without building a decoder per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def one_event(raw: bytes, to_event: Callable[[Fields], CanonicalEvent]) -> list[ParsedEvent]:
    """A body that is one event (Square, PayPal): that event, kept with the exact bytes."""
    return [ParsedEvent(event=to_event(Fields(load_object(raw), "")), raw=raw)]


def stored_event(raw: bytes, event_id: str, to_event: Callable[[Fields], CanonicalEvent],
                 id_field: str) -> CanonicalEvent:
    """The event `one_event` kept as `raw`, parsed again for replay; it must be `event_id`."""
    event = to_event(Fields(load_object(raw), ""))
    if event.event_id != event_id:
        raise InvalidPayload(f"{id_field}: stored event {event_id!r} holds event {event.event_id!r}")
    return event


def build_event(envelope: dict[str, Any], **fields: Any) -> CanonicalEvent:
    """A canonical event from fields the readers have already checked."""
    try:
        return CanonicalEvent(**envelope, **fields)
    except ValidationError as exc:  # a safety net: the readers check first
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise InvalidPayload(f"{where}: {error['msg']}") from None


class Fields:
    """A JSON object being read, and its dotted path for error messages.

    Readers return `None` for an absent or null optional field and raise `InvalidPayload`
    naming the field for a missing required one or a value of the wrong type."""

    __slots__ = ("values", "path")

    def __init__(self, values: dict[str, Any], path: str) -> None:
        self.values, self.path = values, path

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str, required: bool) -> Any:
        value = self.values.get(key)
        if value is None and required:
            raise InvalidPayload(f"{self.where(key)}: is required")
        return value

    def _wrong(self, key: str, expected: str, value: Any) -> InvalidPayload:
        return InvalidPayload(f"{self.where(key)}: must be {expected}, not {json_type(value)}")

    def object(self, key: str) -> Fields:
        value = self._get(key, True)
        if not isinstance(value, dict):
            raise self._wrong(key, "an object", value)
        return Fields(value, self.where(key))

    def optional_object(self, key: str) -> Fields | None:
        return self.object(key) if self.values.get(key) is not None else None

    def objects(self, key: str) -> list[Fields]:
        """A required, non-empty array of objects, each named `key[i]`."""
        value = self._get(key, True)
        if not isinstance(value, list):
            raise self._wrong(key, "an array", value)
        if not value:
            raise InvalidPayload(f"{self.where(key)}: must not be empty")
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise InvalidPayload(
                    f"{self.where(key)}[{index}]: must be an object, not {json_type(item)}"
                )
            items.append(Fields(item, f"{self.where(key)}[{index}]"))
        return items

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        if not value and required:
            raise InvalidPayload(f"{self.where(key)}: must not be empty")
        if len(value) > MAX_TEXT:
            raise InvalidPayload(f"{self.where(key)}: longer than {MAX_TEXT} characters")
        return value or None

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        """A required string that must be one of `allowed` (not echoed back if it is not)."""
        value = self.text(key, required=True)
        if value not in allowed:
            raise InvalidPayload(f"{self.where(key)}: must be one of {', '.join(allowed)}")
        return value

    def identifier(self, key: str) -> str:
        """An id that can appear in a URL path and in a DynamoDB key (`id_problem`)."""
        value = self.text(key, required=True)
        assert value is not None  # nosec B101 # required=True returns a value or raises; this narrows the type
        problem = id_problem(value)
        if problem is not None:
            raise InvalidPayload(f"{self.where(key)}: {problem}")
        return value

    def optional_identifier(self, key: str) -> str | None:
        return self.identifier(key) if self.values.get(key) not in (None, "") else None

    def reference(self, key: str) -> str | None:
        """Another object's id: a string, or the object itself when it was expanded."""
        value = self.values.get(key)
        if isinstance(value, dict):
            return Fields(value, self.where(key)).identifier("id")
        return self.identifier(key) if value is not None else None

    def amount(self, key: str) -> int:
        value = self._get(key, True)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(key, "an integer amount in minor units", value)
        if not 0 <= value <= MAX_AMOUNT:
            raise InvalidPayload(f"{self.where(key)}: {value} is out of range")
        return value

    def counter(self, key: str) -> int | None:
        """An optional non-negative integer such as a version number."""
        value = self.values.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(key, "a non-negative integer", value)
        if not 0 <= value <= MAX_AMOUNT:
            raise InvalidPayload(f"{self.where(key)}: {value} is out of range")
        return value

    def currency(self, key: str) -> str:
        value = self.text(key, required=True)
        if len(value or "") > 8:  # do not echo a long value back
            raise InvalidPayload(f"{self.where(key)}: is not an ISO 4217 currency code")
        try:
            return normalise_currency(value or "")
        except UnknownCurrency as exc:
            raise InvalidPayload(f"{self.where(key)}: {exc}") from None

    def epoch(self, key: str, *, required: bool = False) -> datetime | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(key, "a unix time in seconds", value)
        if not 0 <= value <= MAX_EPOCH:
            raise InvalidPayload(f"{self.where(key)}: {value} is out of range")
        return from_epoch(value)

    def timestamp(self, key: str, *, required: bool = False) -> datetime | None:
        """ISO-8601 with a UTC offset or `Z` (RFC 3339), from 1970 on."""
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "an ISO-8601 timestamp", value)
        if len(value) > _MAX_TIMESTAMP_TEXT:
            raise InvalidPayload(f"{self.where(key)}: is not an ISO-8601 timestamp")
        try:
            parsed = parse_iso(value)
        except InvalidTimestamp as exc:
            raise InvalidPayload(f"{self.where(key)}: {exc}") from None
        if parsed.year < 1970:
            raise InvalidPayload(f"{self.where(key)}: '{value}' is before 1970")
        return parsed

    def flag(self, key: str) -> bool | None:
        value = self.values.get(key)
        if value is not None and not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {
        str: "a string", int: "a number", float: "a number", list: "an array",
        dict: "an object", type(None): "null",
    }.get(type(value), type(value).__name__)
