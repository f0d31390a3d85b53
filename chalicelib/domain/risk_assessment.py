"""A transaction's risk assessment as it is stored and shown (docs/api.md section 8).

Only the shape lives here: the rules that produce an assessment are the risk module's.
The change feed reads the level from it (a rise to `review` or `high` is a business
change, docs/api.md section 7), and the item mapping stores it as the `risk` map
(`score`, `level`, `reasons` [{`rule`, `detail`}], `assessed_at`). Pure: no I/O."""
from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel, ConfigDict


class RiskLevel(str, Enum):
    """Declaration order is severity: a change to a later level is a rise."""

    LOW = "low"
    REVIEW = "review"
    HIGH = "high"

    @property
    def severity(self) -> int:
        return list(RiskLevel).index(self)


class RiskReason(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    detail: str


class RiskAssessment(BaseModel):
    model_config = ConfigDict(frozen=True)

    score: int
    level: RiskLevel
    reasons: tuple[RiskReason, ...] = ()
    assessed_at: datetime


def risk_level(assessment: RiskAssessment | None) -> RiskLevel:
    """Not yet assessed counts as `low`: a first assessment at `low` raises nothing."""
    return assessment.level if assessment is not None else RiskLevel.LOW
