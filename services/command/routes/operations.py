"""Operation (recurring work) commands and the scheduler tick."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from contracts import commands as body
from contracts.answers import TickAnswer
from contracts.inputs import Day, Id
from domain.catalog import OPERATION
from services.command.actions import operations as actions
from services.command.deps import Run, SchedulerDep
from services.command.routes.common import MANAGER, MEMBER, command
from services.infrastructure.http import ProblemError, Routes

router = Routes(tags=["operations"])


@router.post("/operations", **command(MANAGER, created=True))
def create_operation(data: body.CreateOperation, run: Run) -> Response:
    """Creates recurring work with a cadence, a runbook and an estimate per occurrence."""
    return run(actions.create_operation(data), payload=data)


@router.patch("/operations/{operation_id}", **command(MANAGER))
def update_operation(operation_id: Id, data: body.UpdateOperation, run: Run) -> Response:
    """Changes the default assignee of future occurrences, or the runbook."""
    action = actions.update_operation(operation_id, data)
    return run(action, target=(OPERATION, operation_id), payload=data)


@router.put("/operations/{operation_id}/cadence", **command(MANAGER))
def change_cadence(operation_id: Id, data: body.ChangeCadence, run: Run) -> Response:
    """Changes the cadence; occurrences already scheduled stay, only future dates follow it."""
    action = actions.change_cadence(operation_id, data)
    return run(action, target=(OPERATION, operation_id), payload=data)


@router.post("/operations/tick", **command(MANAGER, answer=TickAnswer))
def tick_operations(scheduler: SchedulerDep, run: Run, data: body.Tick | None = None) -> Response:
    """Creates every operation's occurrences due up to `until` (default: now + horizon).

    Ticking again schedules nothing twice; with the same `Idempotency-Key`, a retry answers
    what the first tick answered."""
    tick = data or body.Tick()
    if tick.until is not None and tick.until > scheduler.latest_until():
        raise ProblemError(
            422,
            "validation_error",
            "until may be at most a year ahead",
            errors=[{"field": "until", "message": "at most a year ahead"}],
        )

    def schedule() -> tuple[int, dict[str, Any]]:
        result = scheduler.tick(run.context, tick.until)
        answer = {
            "operations": result.operations,
            "scheduled": result.scheduled,
            "position": result.position,
        }
        return 200, answer

    return run.once(schedule, payload=data)


@router.post("/operations/{operation_id}/pause", **command(MANAGER))
def pause_operation(operation_id: Id, run: Run) -> Response:
    """Pauses an active operation: no occurrences are scheduled while paused."""
    return run(actions.pause_operation(operation_id), target=(OPERATION, operation_id))


@router.post("/operations/{operation_id}/resume", **command(MANAGER))
def resume_operation(operation_id: Id, run: Run) -> Response:
    """Resumes a paused operation from today; dates missed while paused are not caught up."""
    return run(actions.resume_operation(operation_id), target=(OPERATION, operation_id))


@router.post("/operations/{operation_id}/retire", **command(MANAGER))
def retire_operation(operation_id: Id, run: Run) -> Response:
    """Retires an operation for good."""
    return run(actions.retire_operation(operation_id), target=(OPERATION, operation_id))


@router.post("/operations/{operation_id}/occurrences/{due_date}/complete", **command(MEMBER))
def complete_occurrence(
    operation_id: Id, due_date: Day, run: Run, data: body.OccurrenceNote | None = None
) -> Response:
    """Completes the occurrence due on `due_date`, with an optional note."""
    data = data or body.OccurrenceNote()
    action = actions.complete_occurrence(operation_id, due_date, data)
    return run(action, target=(OPERATION, operation_id), payload=data)


@router.post("/operations/{operation_id}/occurrences/{due_date}/skip", **command(MEMBER))
def skip_occurrence(
    operation_id: Id, due_date: Day, run: Run, data: body.OccurrenceNote | None = None
) -> Response:
    """Skips the occurrence due on `due_date`, with an optional note."""
    data = data or body.OccurrenceNote()
    action = actions.skip_occurrence(operation_id, due_date, data)
    return run(action, target=(OPERATION, operation_id), payload=data)
