"""Comparing another system's records with ours, and the report of what differs
(docs/api.md section 10).

A record is `matched` when every field it states equals ours, `mismatched` otherwise (each
differing field with both values, in the contract's forms), `missing` when we hold no such
transaction. `extra` are ours that the export lacks, among the providers and creation days
it covers. Optional fields are compared only when the export states them: an export that
does not carry `merchant_id` says nothing about it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from chalicelib.domain.ledger_export import LedgerRecord
from chalicelib.domain.status import Status
from chalicelib.domain.timestamps import format_iso

COMPARED_FIELDS = ("amount", "currency", "status", "created_at", "amount_refunded", "merchant_id", "customer_id")
ALWAYS_COMPARED = frozenset({"amount", "currency", "status", "created_at"})


@dataclass(frozen=True)
class StoredPayment:
    """The fields of one of our transactions that an export can state."""

    provider: str
    id: str
    status: Status
    created_at: datetime
    amount: int | None = None
    currency: str | None = None
    amount_refunded: int = 0
    merchant_id: str | None = None
    customer_id: str | None = None

    @property
    def created_day(self) -> date:
        return self.created_at.date()


def _shown(value: Any) -> Any:
    if isinstance(value, Status):
        return value.value
    if isinstance(value, datetime):
        return format_iso(value)
    return value


def differences(theirs: LedgerRecord, ours: StoredPayment) -> dict[str, dict[str, Any]]:
    """`{"<field>": {"theirs": …, "ours": …}}` for every stated field that differs."""
    found = {}
    for name in COMPARED_FIELDS:
        their_value = getattr(theirs, name)
        if their_value is None and name not in ALWAYS_COMPARED:
            continue
        our_value = getattr(ours, name)
        if their_value != our_value:
            found[name] = {"theirs": _shown(their_value), "ours": _shown(our_value)}
    return found


@dataclass
class ReconciliationReport:
    """The report of one export, filled in as the export is read."""

    source: str
    checked: int = 0
    matched: int = 0
    missing: list[dict[str, str]] = field(default_factory=list)
    mismatched: list[dict[str, Any]] = field(default_factory=list)
    extra: list[dict[str, str]] = field(default_factory=list)

    def compare(self, theirs: LedgerRecord, ours: StoredPayment | None) -> dict[str, dict[str, Any]] | None:
        """Count one record; the differing fields (empty when matched), None when missing."""
        self.checked += 1
        if ours is None:
            self.missing.append({"provider": theirs.provider, "id": theirs.id})
            return None
        fields = differences(theirs, ours)
        if fields:
            self.mismatched.append({"provider": theirs.provider, "id": theirs.id, "fields": fields})
        else:
            self.matched += 1
        return fields

    def add_extra(self, provider: str, payment_id: str) -> None:
        self.extra.append({"provider": provider, "id": payment_id})

    @property
    def differs(self) -> bool:
        return bool(self.missing or self.mismatched or self.extra)

    def counts(self) -> dict[str, int]:
        return {"checked": self.checked, "matched": self.matched, "missing": len(self.missing),
                "mismatched": len(self.mismatched), "extra": len(self.extra)}

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "checked": self.checked, "matched": self.matched,
                "missing": self.missing, "mismatched": self.mismatched, "extra": self.extra}

    def summary(self, shown: int = 10) -> str:
        """A person's reading of the report: the counts, then the first few of each kind."""
        counts = self.counts()
        verdict = "DIFFERENCES FOUND" if self.differs else "everything matches"
        lines = [f"reconciled {self.source}: {verdict}",
                 "  " + ", ".join(f"{name} {count:,}" for name, count in counts.items())]
        for kind, entries in (("missing", self.missing), ("extra", self.extra)):
            for entry in entries[:shown]:
                lines.append(f"  {kind:<10} {entry['provider']}/{entry['id']}")
            if len(entries) > shown:
                lines.append(f"  {kind:<10} ... and {len(entries) - shown:,} more")
        for entry in self.mismatched[:shown]:
            detail = "; ".join(f"{name} theirs {values['theirs']!r} ours {values['ours']!r}"
                               for name, values in entry["fields"].items())
            lines.append(f"  mismatched {entry['provider']}/{entry['id']}: {detail}")
        if len(self.mismatched) > shown:
            lines.append(f"  mismatched ... and {len(self.mismatched) - shown:,} more")
        return "\n".join(lines)
