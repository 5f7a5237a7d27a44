"""What each operation event changes in the entities, registered in ``HANDLERS``.

Occurrences get rows of their own, so that a daily operation's years of occurrences are not
rewritten with every tick.
"""

from __future__ import annotations

from contracts.commands import WEEKDAYS
from domain import operation
from domain.cadence import Cadence
from services.projections.dispatch import Change
from services.projections.readmodel import iso_date

from .handlers import HANDLERS
from .rows import Doc, create, id_text, load, revise, save
from .tables import OCCURRENCES, OPERATIONS


def _cadence(cadence: Cadence) -> Doc:
    return {
        "every": cadence.every,
        "interval": cadence.interval,
        "weekdays": [WEEKDAYS[day] for day in cadence.weekdays],
        "day_of_month": cadence.day_of_month,
    }


@HANDLERS.on(operation.OperationCreated)
def operation_created(change: Change, event: operation.OperationCreated) -> None:
    create(
        change,
        OPERATIONS,
        {
            "title": event.title,
            "team_id": str(event.team_id),
            "owner_id": str(event.owner_id),
            "assignee_id": id_text(event.assignee_id),
            "cadence": _cadence(event.cadence),
            "cadence_effective_from": event.start_date.isoformat(),
            "start_date": event.start_date.isoformat(),
            "end_date": iso_date(event.end_date),
            "runbook": list(event.runbook),
            "estimate": event.estimate,
            "status": "active",
        },
    )


@HANDLERS.on(operation.OperationCadenceChanged)
def operation_cadence_changed(change: Change, event: operation.OperationCadenceChanged) -> None:
    current = load(change, OPERATIONS)
    if current is None:
        return
    current.set(
        cadence=_cadence(event.cadence), cadence_effective_from=event.effective_from.isoformat()
    )
    save(change, current)


@HANDLERS.on(operation.OperationPaused)
def operation_paused(change: Change, event: operation.OperationPaused) -> None:
    revise(change, OPERATIONS, status="paused")


@HANDLERS.on(operation.OperationResumed)
def operation_resumed(change: Change, event: operation.OperationResumed) -> None:
    revise(change, OPERATIONS, status="active")


@HANDLERS.on(operation.OperationRetired)
def operation_retired(change: Change, event: operation.OperationRetired) -> None:
    revise(change, OPERATIONS, status="retired")


@HANDLERS.on(operation.OccurrenceScheduled)
def occurrence_scheduled(change: Change, event: operation.OccurrenceScheduled) -> None:
    current = load(change, OPERATIONS)
    if current is None:
        return
    scheduled = {
        "operation_id": change.subject,
        "due_date": event.due_date.isoformat(),
        "occurrence_id": str(event.occurrence_id),
        "status": "scheduled",
        "assignee_id": id_text(event.assignee_id),
        "estimate": event.estimate,
        "note": "",
    }
    change.put(OCCURRENCES, scheduled)
    save(change, current)


@HANDLERS.on(operation.OccurrenceCompleted)
def occurrence_completed(change: Change, event: operation.OccurrenceCompleted) -> None:
    current = load(change, OPERATIONS)
    if current is None:
        return
    occurrence = (change.subject, event.due_date.isoformat())
    change.update(OCCURRENCES, occurrence, {"status": "completed", "note": event.note})
    save(change, current)


@HANDLERS.on(operation.OccurrenceSkipped)
def occurrence_skipped(change: Change, event: operation.OccurrenceSkipped) -> None:
    current = load(change, OPERATIONS)
    if current is None:
        return
    occurrence = (change.subject, event.due_date.isoformat())
    change.update(OCCURRENCES, occurrence, {"status": "skipped", "note": event.note})
    save(change, current)


@HANDLERS.on(operation.OperationAssigneeChanged)
def operation_assignee_changed(change: Change, event: operation.OperationAssigneeChanged) -> None:
    revise(change, OPERATIONS, assignee_id=id_text(event.assignee_id))


@HANDLERS.on(operation.RunbookEdited)
def runbook_edited(change: Change, event: operation.RunbookEdited) -> None:
    revise(change, OPERATIONS, runbook=list(event.items))
