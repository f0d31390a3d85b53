"""Dead letters: what is waiting in each dead-letter queue, and redriving it (docs/api.md
section 11).

Each queue is redriven the way its records came to be there (`DeadLetterQueue.redrive`):
- `stream`: Lambda's on-failure record of a stream consumer names a range of one shard; the
  records are read again from the stream and handed, as the same Lambda event, to the
  consumer the record names (its function ARN). Consumers are idempotent per record
  (analytics keeps marks per shard), so a second redrive of the same range changes nothing.
  A range the stream no longer holds (older than 24 hours) cannot be re-read: the
  transactions it names are re-applied from the table instead (services/table_redrive.py),
  and what that changed is reported as `reapplied`;
- `schedule`: a scheduled job's failed invocation; the job is invoked again with the same
  event (jobs are idempotent: archival resumes, the watch re-checks);
- `queue`: a message an SQS consumer gave up on; it goes back to the queue it came from,
  whose consumer is idempotent per message.
A letter is deleted only once its redrive succeeded; one that fails again stays in its
queue, counted as failed. Work per request is bounded by `budget_seconds` (the API answers
within its 29-second timeout): what is left is reported with `complete: false`.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.dead_letters import UnreadableLetter, arrival_window, failed_job, stream_failure
from chalicelib.errors import NotFound
from chalicelib.observability.logs import log
from chalicelib.services.ports import DeadLetterStore, StageFunctions, StreamRecordReader
from chalicelib.settings import DeadLetterQueue
from chalicelib.storage.dead_letters import Letter
from chalicelib.storage.functions import FunctionFailed
from chalicelib.services.table_redrive import NotReapplied, Reapplied, TableRedrive
from chalicelib.storage.stream_records import RecordsTrimmed, lambda_event

HOLD_SECONDS = 60
"""A received letter stays invisible this long: longer than any one request handles it."""


@dataclass(frozen=True)
class QueueDepth:
    name: str
    depth: int


@dataclass(frozen=True)
class RedriveReport:
    redriven: int
    failed: int
    complete: bool
    reapplied: Reapplied | None = None
    """Set when some letter's records were re-applied from the table (or tried)."""


class DeadLetterService:
    def __init__(
        self, queues: tuple[DeadLetterQueue, ...], store: DeadLetterStore, stream: StreamRecordReader,
        functions: StageFunctions, function_prefix: str, clock: Callable[[], datetime],
        budget_seconds: float = 20.0, monotonic: Callable[[], float] = time.monotonic,
        table: TableRedrive | None = None,
    ) -> None:
        self._queues = {queue.name: queue for queue in queues}
        self._store = store
        self._stream = stream
        self._functions = functions
        self._prefix = function_prefix
        self._clock = clock
        self._budget = budget_seconds
        self._monotonic = monotonic
        self._table = table
        self._reapplied: Reapplied | None = None
        self._deadline = 0.0

    def names(self) -> list[str]:
        return list(self._queues)

    def depths(self) -> list[QueueDepth]:
        return [QueueDepth(q.name, self._store.depth(q.queue)) for q in self._queues.values()]

    def redrive(self, name: str) -> RedriveReport:
        queue = self._queues.get(name)
        if queue is None:
            raise NotFound(f"no dead-letter queue named {name!r} (GET /admin/dead-letters lists them)")
        deadline = self._deadline = self._monotonic() + self._budget
        self._reapplied = None
        redriven, failed_again, complete = 0, [], False
        unsettled: list[Letter] = []  # received, not yet deleted or failed: released if a call fails midway
        try:
            while self._monotonic() < deadline:
                letters = self._store.receive(queue.queue, HOLD_SECONDS)
                if not letters:
                    complete = True
                    break
                unsettled = list(letters)
                for letter in letters:
                    if self._monotonic() >= deadline:  # not tried: visible again now
                        failed_again.extend(unsettled)
                        unsettled = []
                        break
                    if self._redrive_one(queue, letter):
                        self._store.delete(queue.queue, letter)
                        redriven += 1
                    else:
                        failed_again.append(letter)
                    unsettled.remove(letter)
        finally:
            for letter in failed_again + unsettled:  # visible again now, not after the hold
                self._store.release(queue.queue, letter)
        tried = redriven + len(failed_again)
        log("dead letters redriven", queue=name, redriven=redriven, failed=len(failed_again),
            complete=complete, tried=tried)
        return RedriveReport(redriven, len(failed_again), complete, self._reapplied)

    def _redrive_one(self, queue: DeadLetterQueue, letter: Letter) -> bool:
        try:
            if queue.redrive == "stream":
                self._redrive_stream_failure(letter)
            elif queue.redrive == "schedule":
                job, event = failed_job(letter.body, self._prefix)
                self._functions.start(job, event)
            elif queue.redrive == "queue" and queue.source:
                self._store.send(queue.source, letter)
            else:
                raise UnreadableLetter(f"queue {queue.name} has no redrive of kind {queue.redrive!r}")
        except (UnreadableLetter, RecordsTrimmed, FunctionFailed, NotReapplied) as exc:
            log("dead letter not redriven", logging.WARNING, queue=queue.name,
                message_id=letter.message_id, reason=str(exc))
            return False
        return True

    def _redrive_stream_failure(self, letter: Letter) -> None:
        failure = stream_failure(letter.body, self._prefix)
        try:
            records = self._stream.read_range(failure.stream_arn, failure.shard_id,
                                              failure.first_sequence, failure.last_sequence)
        except RecordsTrimmed:
            if self._table is None:
                raise
            self._reapplied = self._reapplied or Reapplied()
            done = self._table.reapply(failure, arrival_window(letter.body),
                                       out_of_time=lambda: self._monotonic() >= self._deadline)
            self._reapplied += done
            log("stream failure re-applied from the table", consumer=failure.consumer, shard=failure.shard_id,
                first=failure.first_sequence, last=failure.last_sequence, transactions=done.transactions,
                buckets=done.buckets)
            return
        event = lambda_event(records, failure.stream_arn, failure.shard_id, self._clock())
        answer = self._functions.invoke(failure.consumer, event)
        failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
        if failures:
            raise FunctionFailed(f"{failure.consumer} failed {len(failures)} of the records again")
