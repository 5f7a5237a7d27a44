"""Group commit: commands that arrive together are written in one transaction.

A single committer thread takes every command waiting in its queue and commits them as one batch.
While one batch is being made durable the next one gathers, so under load each fsync carries many
commands, and with no load a lone command is committed at once, with no added wait.

Given a wait, a command that the committer has not taken within it (the batch before is held up
by a database that is slow or silent) is withdrawn, written nowhere, and its caller told the
database is unavailable; the committer's own round trips to the database each wait at most as
long (``answer_limit``), so a batch it took is answered within about that too.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from eventsourcing.persistence import OperationalError

from services.infrastructure.answer_limit import answers_within
from services.infrastructure.metrics import CommitterMetrics
from services.infrastructure.store import (
    CommitOutcome,
    CommitOutcomeUnknown,
    EventStore,
    PendingCommit,
)


@dataclass(frozen=True)
class _Job:
    pending: PendingCommit
    future: Future[CommitOutcome]


class CommitterStopped(RuntimeError):
    """The committer is not running, so nothing can be written."""


class CommandNotTaken(OperationalError):
    """The committer did not take the command within the wait: nothing of it was written, and
    the database is to be taken as unavailable."""


class GroupCommitter:
    """Feeds the event store batches of whatever commands are waiting, one batch at a time."""

    def __init__(
        self,
        store: EventStore,
        *,
        max_batch: int = 512,
        metrics: CommitterMetrics | None = None,
        wait_seconds: float | None = None,
    ) -> None:
        self._store = store
        self._max_batch = max_batch
        self._wait_seconds = wait_seconds
        self._metrics = metrics or CommitterMetrics.detached()
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.commands = 0

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="workledger-committer", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                # Under the lock, so every command accepted before the stop is queued before it.
                self._queue.put(None)
        if thread is not None:
            thread.join()

    def submit(self, pending: PendingCommit) -> CommitOutcome:
        """Commits ``pending`` with whatever else is waiting, and returns its own outcome."""
        future: Future[CommitOutcome] = Future()
        with self._lock:
            if self._thread is None:
                raise CommitterStopped("the committer is not running")
            self._queue.put(_Job(pending, future))
        try:
            return future.result(self._wait_seconds)
        except TimeoutError:
            if future.cancel():
                raise CommandNotTaken(
                    f"the database took no command for {self._wait_seconds:g} s"
                ) from None
        # Taken into a batch, whose round trips each wait at most as long: its outcome comes.
        return future.result()

    def _run(self) -> None:
        with answers_within(self._wait_seconds):
            while self._next_batch():
                pass

    def _next_batch(self) -> bool:
        """Commits the next batch; whether to go on."""
        first = self._queue.get()
        if first is None:
            return False
        jobs = [first]
        stopping = False
        while len(jobs) < self._max_batch:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                stopping = True
                break
            jobs.append(job)
        # A command whose caller gave up waiting is withdrawn; the others can't be any more.
        taken = [job for job in jobs if job.future.set_running_or_notify_cancel()]
        if taken:
            self._commit(taken)
        return not stopping

    def _commit(self, jobs: Sequence[_Job]) -> None:
        started = time.perf_counter()
        try:
            outcomes = self._store.commit([job.pending for job in jobs])
        except CommitOutcomeUnknown as error:
            # Trying again could write a command twice: each one hears that it may have been.
            for job in jobs:
                job.future.set_exception(error)
            return
        except BaseException as error:  # every waiting command must hear of the failure
            if len(jobs) == 1:
                jobs[0].future.set_exception(error)
                return
            # Nothing was written (the store says so, even of a commit whose reply was lost).
            # One command can spoil a batch, so each is tried alone and gets its own answer.
            for job in jobs:
                self._commit([job])
            return
        self._metrics.commit_seconds.observe(time.perf_counter() - started)
        self._metrics.batch_size.observe(len(jobs))
        self.batches += 1
        self.commands += len(jobs)
        for job, outcome in zip(jobs, outcomes, strict=True):
            job.future.set_result(outcome)
