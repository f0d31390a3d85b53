"""The dead-letter watch (`watch_dead_letters`, every 5 minutes): one `dead_letter` alert
per queue incident (docs/api.md section 9).

An incident of a queue opens when a check first finds it holding records and closes when
a check finds it empty; its key is `<queue name>/<when it opened>` (kept as a tag on the
queue, storage/dead_letters.py). So records that keep waiting, or more records arriving
while some wait, are the same incident, alerted once; records arriving after the queue was
drained are a new incident, alerted again. The alert raiser sends each key once, so a
check that died after tagging and before the alert left sends it at the next check."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.alerts import DEAD_LETTER, PaymentAlert
from chalicelib.domain.dead_letters import incident_key
from chalicelib.domain.timestamps import format_iso
from chalicelib.services.ports import AlertRaiser, DeadLetterStore
from chalicelib.settings import DeadLetterQueue


@dataclass(frozen=True)
class QueueCheck:
    name: str
    depth: int
    alerted: bool  # an alert was sent by this check


class DeadLetterWatch:
    def __init__(self, queues: tuple[DeadLetterQueue, ...], store: DeadLetterStore, alerts: AlertRaiser,
                 clock: Callable[[], datetime]) -> None:
        self._queues = queues
        self._store = store
        self._alerts = alerts
        self._clock = clock

    def check(self) -> list[QueueCheck]:
        return [self._check(queue) for queue in self._queues]

    def _check(self, queue: DeadLetterQueue) -> QueueCheck:
        depth = self._store.depth(queue.queue)
        opened = self._store.incident(queue.queue)
        if depth == 0:
            if opened is not None:
                self._store.close_incident(queue.queue)
            return QueueCheck(queue.name, 0, False)
        now = self._clock()
        if opened is None:
            opened = format_iso(now)
            self._store.open_incident(queue.queue, opened)
        alert = PaymentAlert(
            kind=DEAD_LETTER, key=incident_key(queue.name, opened), at=now,
            summary=f"{depth} record(s) waiting in the {queue.name} dead-letter queue since {opened}; "
                    f"redrive with POST /admin/dead-letters/{queue.name}/redrive",
        )
        return QueueCheck(queue.name, depth, self._alerts.raise_alert(alert))
