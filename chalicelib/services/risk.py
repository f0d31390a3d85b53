"""Assessing a transaction's risk after it changed (docs/api.md section 8; docs/risk.md).

One use case: read the transaction as it is now, the customer's recent transactions, run
the rules, and write the finding back under a condition on the version that was read.

- **Always the current state.** A notice of a change only says *which* transaction to
  assess: it is read afresh (consistently), so a late or redelivered notice assesses the
  newest state and agrees with any other assessment of it.
- **Stale loses.** If the transaction changes between the read and the write, the write's
  version condition fails and the finding is dropped: that newer change is published in
  turn and gets its own assessment.
- **Nothing to say, nothing written.** A finding equal to the stored one (but for its
  time) is not written, so a redelivery costs no write and changes nothing.
- **The version moves only with the level.** A new level (`low` counts for a transaction
  never assessed) is a change of the transaction the feed publishes; a new score or new
  reasons at the same level are written without moving the version, and so publish nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from chalicelib.domain.risk import RiskThresholds, assess, same_finding
from chalicelib.domain.risk_assessment import RiskAssessment, risk_level
from chalicelib.services.ports import RiskRecords, TransactionReader


class AssessmentOutcome(str, Enum):
    RECORDED = "recorded"  # written, the level unchanged
    LEVEL_CHANGED = "level_changed"  # written with the version moved on
    UNCHANGED = "unchanged"  # the stored finding already says this
    STALE = "stale"  # the transaction changed meanwhile; its newer change is assessed instead
    MISSING = "missing"  # no such transaction


@dataclass(frozen=True)
class Assessment:
    outcome: AssessmentOutcome
    risk: RiskAssessment | None = None


class RiskService:
    def __init__(
        self, transactions: TransactionReader, records: RiskRecords, thresholds: RiskThresholds,
        clock: Callable[[], datetime],
    ) -> None:
        self._transactions = transactions
        self._records = records
        self._thresholds = thresholds
        self._clock = clock

    def assess(self, provider: str, payment_id: str) -> Assessment:
        txn = self._transactions.get(provider, payment_id)
        if txn is None:
            return Assessment(AssessmentOutcome.MISSING)
        recent = (
            self._records.customer_activity(txn.customer_id, txn.created_at - self._thresholds.lookback,
                                            txn.created_at)
            if txn.customer_id else []
        )
        risk = assess(txn, recent, self._thresholds, self._clock())
        if same_finding(risk, txn.risk):
            return Assessment(AssessmentOutcome.UNCHANGED, txn.risk)
        bump = risk.level is not risk_level(txn.risk)
        if not self._records.record(txn.provider, txn.id, risk, txn.version, bump):
            return Assessment(AssessmentOutcome.STALE, risk)
        return Assessment(AssessmentOutcome.LEVEL_CHANGED if bump else AssessmentOutcome.RECORDED, risk)
