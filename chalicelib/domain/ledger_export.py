"""Another system of record's export (docs/api.md section 10), read one line at a time.

An export is CSV with a header row or JSON Lines (told apart by its first non-blank line:
JSON Lines start with `{`). Each record is normalised by the rules a webhook's payment is
held to (ISO 4217 codes upper-cased and checked, integer minor units, a section 2 status,
ISO-8601 times in UTC), so that a difference in the report is a difference in money, not
in spelling. A record that breaks a rule stops the read with `MalformedExport`, naming the
line (a CSV header is line 1) and the field: reconciling a file only partly read would
report everything after that line as `extra`."""
from __future__ import annotations

import csv
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.currencies import UnknownCurrency, normalise_currency
from chalicelib.domain.identifiers import MAX_ID_CHARS, id_problem
from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import InvalidTimestamp, parse_iso

REQUIRED_FIELDS = ("provider", "id", "amount", "currency", "status", "created_at")
OPTIONAL_FIELDS = ("amount_refunded", "merchant_id", "customer_id", "updated_at")
MAX_AMOUNT = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")
_MAX_ECHO = 40  # characters of a bad value repeated in a message


@dataclass(frozen=True)
class LedgerRecord:
    """One payment as the other system knows it; `None` means the export does not say."""

    provider: str
    id: str
    amount: int
    currency: str
    status: Status
    created_at: datetime
    amount_refunded: int | None = None
    merchant_id: str | None = None
    customer_id: str | None = None
    updated_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.id)


class MalformedExport(ValueError):
    def __init__(self, line: int, field: str, problem: str) -> None:
        super().__init__(f"line {line}: {field}: {problem}")
        self.line, self.field, self.problem = line, field, problem


def read_export(raw_lines: Iterable[bytes], providers: Collection[str]) -> Iterator[tuple[int, LedgerRecord]]:
    """(line number, record) for every record, lazily: memory holds one line at a time."""
    lines = _text_lines(raw_lines)
    for number, first in lines:
        if not first.strip():
            continue
        rest = _chain(number, first, lines)
        if first.lstrip().startswith("{"):
            yield from _json_lines(rest, providers)
        else:
            yield from _csv_rows(rest, providers)
        return


def _text_lines(raw_lines: Iterable[bytes]) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(raw_lines, start=1):
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise MalformedExport(number, "(line)", "is not UTF-8 text") from None
        yield number, text


def _chain(number: int, first: str, rest: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    yield number, first
    yield from rest


def _json_lines(lines: Iterator[tuple[int, str]], providers: Collection[str]) -> Iterator[tuple[int, LedgerRecord]]:
    for number, text in lines:
        if not text.strip():
            continue
        try:
            values = json.loads(text)
        except ValueError:
            raise MalformedExport(number, "(line)", "is not a JSON object") from None
        if not isinstance(values, dict):
            raise MalformedExport(number, "(line)", "is not a JSON object")
        yield number, ledger_record(values, number, providers, text_fields=False)


def _csv_rows(lines: Iterator[tuple[int, str]], providers: Collection[str]) -> Iterator[tuple[int, LedgerRecord]]:
    numbers = [1]  # the line the reader took last: where its current row ends

    def texts() -> Iterator[str]:
        for number, text in lines:
            numbers[-1] = number
            yield text

    rows = csv.reader(texts())
    try:
        header = [name.strip() for name in next(rows)]
        for name in REQUIRED_FIELDS:
            if name not in header:
                raise MalformedExport(numbers[-1], name, "missing from the CSV header")
        for row in rows:
            if not row:
                continue
            if len(row) != len(header):
                raise MalformedExport(numbers[-1], "(line)", f"has {len(row)} fields, the header {len(header)}")
            values = {name: cell for name, cell in zip(header, row) if cell != ""}
            yield numbers[-1], ledger_record(values, numbers[-1], providers, text_fields=True)
    except csv.Error as exc:
        raise MalformedExport(numbers[-1], "(line)", f"is not valid CSV ({exc})") from None


def ledger_record(
    values: Mapping[str, Any], line: int, providers: Collection[str], *, text_fields: bool,
) -> LedgerRecord:
    """One record normalised; CSV gives every value as text (`text_fields`), JSON its own types."""
    def problem(field: str, text: str) -> MalformedExport:
        return MalformedExport(line, field, text)

    def present(field: str) -> Any:
        value = values.get(field)
        if value is None:
            raise problem(field, "is required")
        return value

    def text(field: str, value: Any) -> str:
        if not isinstance(value, str):
            raise problem(field, "must be a string")
        if not 1 <= len(value) <= MAX_ID_CHARS:
            raise problem(field, f"must be 1 to {MAX_ID_CHARS} characters")
        return value

    def amount(field: str, value: Any) -> int:
        if text_fields and isinstance(value, str) and _DIGITS.fullmatch(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
            raise problem(field, "must be a non-negative integer amount in minor units")
        return value

    def moment(field: str, value: Any) -> datetime:
        try:
            return parse_iso(text(field, value))
        except InvalidTimestamp as exc:
            raise problem(field, str(exc)[:_MAX_ECHO * 2]) from None

    provider = text("provider", present("provider"))
    if provider not in providers:
        raise problem("provider", f"'{provider[:_MAX_ECHO]}' is not one of {', '.join(sorted(providers))}")
    payment_id = text("id", present("id"))
    if (id_reason := id_problem(payment_id)) is not None:
        raise problem("id", id_reason)
    try:
        currency = normalise_currency(text("currency", present("currency")))
    except UnknownCurrency:
        raise problem("currency", "is not an ISO 4217 currency code") from None
    try:
        status = Status(present("status"))
    except ValueError:
        raise problem("status", f"must be one of {', '.join(s.value for s in Status)}") from None
    record = LedgerRecord(
        provider=provider, id=payment_id, amount=amount("amount", present("amount")),
        currency=currency, status=status, created_at=moment("created_at", present("created_at")),
    )
    optional: dict[str, Any] = {}
    if values.get("amount_refunded") is not None:
        optional["amount_refunded"] = amount("amount_refunded", values["amount_refunded"])
        if optional["amount_refunded"] > record.amount:
            raise problem("amount_refunded", "larger than amount")
    for field in ("merchant_id", "customer_id"):
        if values.get(field) is not None:
            optional[field] = text(field, values[field])
    if values.get("updated_at") is not None:
        optional["updated_at"] = moment("updated_at", values["updated_at"])
    return LedgerRecord(**{**record.__dict__, **optional}) if optional else record
