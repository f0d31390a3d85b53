"""The nightly validation (docs/api.md section 10): every export placed under
`reconciliation/incoming/` is reconciled, its report written, one `reconciliation_mismatch`
alert raised if it differs, and the export moved to `reconciliation/processed/`.

Crash-safe by order and by idempotence: the report is written before the alert and the
move, and a rerun that finds an export's report already written (for that very object, by
ETag) reuses it instead of reconciling again, so a run killed anywhere and run again gives
the same reports; the alert raiser sends a (kind, key) once, so the alert is raised once.
The export's name is the alert's key: give exports unique names (a date in each).

Time: like archival, the run stops taking exports once the Lambda's remaining time falls
under a margin, and abandons the export it is reading when the margin is reached (nothing
of it is written); the next run starts that one again. An export must therefore be
reconcilable within one run; split larger ones."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.ledger_export import MalformedExport
from chalicelib.observability.logs import log
from chalicelib.services.archive.run import Deadline
from chalicelib.services.ports import ReconciliationExports
from chalicelib.services.reconcile.run import OutOfTime, ReconciliationService

if TYPE_CHECKING:
    from chalicelib.services.ports import AlertRaiser
    from chalicelib.storage.reconciliation.exports import ExportObject, ReportSummary

DEFAULT_MARGIN = timedelta(seconds=60)


@dataclass
class ValidationRun:
    reconciled: list[str] = field(default_factory=list)
    with_differences: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    alerts_sent: int = 0
    complete: bool = False
    """Every waiting export was handled (the run was not cut short by time)."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class ScheduledValidation:
    def __init__(self, reconciliation: ReconciliationService, exports: ReconciliationExports,
                 alerts: AlertRaiser, clock: Callable[[], datetime], margin: timedelta = DEFAULT_MARGIN) -> None:
        self._reconciliation, self._exports, self._alerts = reconciliation, exports, alerts
        self._clock, self._margin = clock, margin

    def run(self, remaining_ms: Callable[[], int]) -> ValidationRun:
        deadline = Deadline(remaining_ms, self._margin)
        run = ValidationRun()
        for export in self._exports.incoming():
            if deadline.near():
                log("reconciliation.run", **run.as_dict())
                return run
            try:
                summary = self._report_of(export, deadline)
            except OutOfTime:
                log("reconciliation.stopped", export=export.name)
                return run
            except MalformedExport as exc:
                self._reject(export, exc, run)
                continue
            run.reconciled.append(export.name)
            if summary.differs:
                run.with_differences.append(export.name)
                run.alerts_sent += self._alert(summary)
            self._exports.move(export, "processed")
        run.complete = True
        log("reconciliation.run", **run.as_dict())
        return run

    def _report_of(self, export: ExportObject, deadline: Deadline) -> ReportSummary:
        """The export's report: the one a previous run wrote for this very object, or a new one."""
        written = self._exports.report(export.name)
        if written is not None and written.export_etag == export.etag:
            return written
        report = self._reconciliation.reconcile(export.name, self._exports.lines(export), stop=deadline.near)
        summary = self._exports.put_report(export.name, export, report.as_dict(), report.counts(), self._clock())
        log("reconciliation.report", export=export.name, **report.counts())
        return summary

    def _alert(self, summary: ReportSummary) -> bool:
        from chalicelib.domain.alerts import RECONCILIATION_MISMATCH, PaymentAlert

        counts = summary.counts
        text = (f"reconciliation of {summary.name}: {counts['missing']} missing, {counts['mismatched']} "
                f"mismatched, {counts['extra']} extra of {counts['checked']} records")
        return self._alerts.raise_alert(PaymentAlert(RECONCILIATION_MISMATCH, summary.name, text, summary.at))

    def _reject(self, export: ExportObject, problem: MalformedExport, run: ValidationRun) -> None:
        """A malformed export cannot be reconciled: set aside, and said so by an alert."""
        from chalicelib.domain.alerts import RECONCILIATION_MISMATCH, PaymentAlert

        run.rejected.append(export.name)
        log("reconciliation.rejected", export=export.name, problem=str(problem))
        run.alerts_sent += self._alerts.raise_alert(PaymentAlert(
            RECONCILIATION_MISMATCH, export.name, f"export {export.name} cannot be read: {problem}", self._clock()))
        self._exports.move(export, "rejected")
