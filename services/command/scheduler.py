"""The operation scheduler: ticks create occurrences of recurring work ahead of time.

A tick asks every operation to schedule its due dates up to a horizon. Each operation is its own
command with an expected version, and an operation schedules only dates after the last one it
already holds, with ids derived from the date; so ticks running at once in several processes, or
repeated, never create an occurrence twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.catalog import OPERATION
from domain.operation import OperationCreated
from services.command.actions import operations as actions
from services.command.authority import NotLed
from services.command.handler import CommandContext, CommandHandler
from services.infrastructure.ids import new_id
from services.infrastructure.metrics import SchedulerMetrics

log = logging.getLogger("workledger.scheduler")

# A tick looks at most this far ahead, so one request can't ask for centuries of occurrences.
MAX_TICK_AHEAD = timedelta(days=366)


@dataclass(frozen=True)
class TickResult:
    operations: int
    scheduled: int
    position: int


class Scheduler:
    """Runs ticks on demand, and on a timer inside ``serve`` and ``worker``."""

    def __init__(
        self,
        handler: CommandHandler,
        *,
        horizon: timedelta,
        clock: Callable[[], datetime],
        metrics: SchedulerMetrics | None = None,
    ) -> None:
        self._handler = handler
        self._metrics = metrics or SchedulerMetrics.detached()
        self._horizon = horizon
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def default_until(self) -> date:
        return (self._clock() + self._horizon).date()

    def latest_until(self) -> date:
        return (self._clock() + MAX_TICK_AHEAD).date()

    def tick(self, context: CommandContext, until: date | None = None) -> TickResult:
        """Schedules every operation's occurrences up to ``until`` (default: now + horizon)."""
        self._metrics.ticks.inc()
        until = until or self.default_until()
        store = self._handler.store
        operation_ids = store.streams_created_by(OperationCreated.__name__)
        scheduled = 0
        position = store.last_position()
        ticked = 0
        for operation_id in operation_ids:
            try:
                accepted = self._handler.execute(
                    context,
                    actions.schedule_occurrences(operation_id, until),
                    target=(OPERATION, operation_id),
                )
            except NotLed:
                # A manager's tick schedules the operations of the teams they lead, and no other.
                continue
            ticked += 1
            count = _scheduled_count(accepted.body)
            if count:
                self._metrics.occurrences.inc(count)
                scheduled += count
                position = max(position, int(accepted.body["position"]))
        return TickResult(ticked, scheduled, position)

    def system_context(self) -> CommandContext:
        correlation = new_id()
        return CommandContext(
            actor="system:scheduler",
            principal="system:scheduler",
            now=self._clock(),
            correlation_id=correlation,
            causation_id=correlation,
        )

    def start(self, interval_seconds: float) -> None:
        """Ticks every ``interval_seconds`` on a background thread until ``stop``."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    result = self.tick(self.system_context())
                    if result.scheduled:
                        log.info("scheduled %d occurrences", result.scheduled)
                except Exception:
                    # The next tick retries: scheduling is idempotent, so nothing is lost.
                    log.exception("scheduler tick failed")
                self._stop.wait(interval_seconds)

        self._thread = threading.Thread(target=loop, name="workledger-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _scheduled_count(body: dict[str, object]) -> int:
    count = body.get("scheduled", 0)
    return count if isinstance(count, int) else 0
