"""Operation commands: recurring work, its cadence and its occurrences."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from contracts import commands as body
from domain import operation
from domain.cadence import Cadence, make_cadence
from domain.catalog import OPERATION, TEAM
from services.command.actions.common import member_active, on, refuse_nulls
from services.command.handler import Action, Reply, Session
from services.infrastructure.ids import new_id

WEEKDAY_NUMBERS = {name: number for number, name in enumerate(body.WEEKDAYS)}


def cadence_of(data: body.Cadence) -> Cadence:
    weekdays = tuple(WEEKDAY_NUMBERS[day] for day in data.weekdays or ())
    return make_cadence(data.every, data.interval, weekdays, data.day_of_month)


def create_operation(data: body.CreateOperation) -> Action:
    operation_id = new_id()

    def action(s: Session) -> Reply:
        s.require(TEAM, data.team_id, "team_id")
        s.decide(
            OPERATION,
            operation_id,
            operation.CreateOperation(
                operation_id=operation_id,
                title=data.title,
                team_id=data.team_id,
                owner_id=data.owner_id,
                cadence=cadence_of(data.cadence),
                start_date=data.start_date,
                end_date=data.end_date,
                assignee_id=data.assignee_id,
                runbook=tuple(data.runbook),
                estimate=data.estimate,
                owner_active=member_active(s, data.owner_id, "owner_id"),
                assignee_active=member_active(s, data.assignee_id, "assignee_id"),
            ),
        )
        return Reply(operation_id, created=True)

    return action


def update_operation(operation_id: UUID, data: body.UpdateOperation) -> Action:
    refuse_nulls(data, ("runbook",))

    def action(s: Session) -> Reply:
        s.require(OPERATION, operation_id, "operation_id")
        if "assignee_id" in data.model_fields_set:
            active = member_active(s, data.assignee_id, "assignee_id")
            command = operation.ChangeOperationAssignee(data.assignee_id, active)
            s.decide(OPERATION, operation_id, command)
        if data.runbook is not None:
            s.decide(OPERATION, operation_id, operation.EditRunbook(tuple(data.runbook)))
        return Reply(operation_id)

    return action


def change_cadence(operation_id: UUID, data: body.ChangeCadence) -> Action:
    def action(s: Session) -> Reply:
        s.require(OPERATION, operation_id, "operation_id")
        s.decide(OPERATION, operation_id, operation.ChangeCadence(cadence_of(data.cadence)))
        return Reply(operation_id)

    return action


def schedule_occurrences(operation_id: UUID, until: date) -> Action:
    def action(s: Session) -> Reply:
        s.require(OPERATION, operation_id, "operation_id")
        events = s.decide(OPERATION, operation_id, operation.ScheduleOccurrences(until))
        return Reply(operation_id, extra={"scheduled": len(events)})

    return action


def pause_operation(operation_id: UUID) -> Action:
    return on(OPERATION, operation_id, operation.PauseOperation())


def resume_operation(operation_id: UUID) -> Action:
    return on(OPERATION, operation_id, operation.ResumeOperation())


def retire_operation(operation_id: UUID) -> Action:
    return on(OPERATION, operation_id, operation.RetireOperation())


def complete_occurrence(operation_id: UUID, due_date: date, data: body.OccurrenceNote) -> Action:
    extra = {"occurrence_id": str(operation.occurrence_id(operation_id, due_date))}
    command = operation.CompleteOccurrence(due_date, data.note)
    return on(OPERATION, operation_id, command, extra=extra)


def skip_occurrence(operation_id: UUID, due_date: date, data: body.OccurrenceNote) -> Action:
    extra = {"occurrence_id": str(operation.occurrence_id(operation_id, due_date))}
    command = operation.SkipOccurrence(due_date, data.note)
    return on(OPERATION, operation_id, command, extra=extra)
