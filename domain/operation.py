"""Operation: recurring operational work, scheduled as occurrences on a cadence.

The operation's stream holds its occurrences too. An occurrence's id follows from the operation
and its due date, and the scheduler only ever adds due dates after the last one scheduled, so
repeated or concurrent ticks can't schedule the same occurrence twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Literal, assert_never
from uuid import UUID, uuid5

from domain.cadence import Cadence, due_dates, make_cadence
from domain.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidTransition,
    MemberInactive,
    NotFound,
    RuleViolation,
)
from domain.rules import require_non_negative, require_text

Status = Literal["active", "paused", "retired"]
OccurrenceStatus = Literal["scheduled", "completed", "skipped"]

LIFECYCLE: dict[Status, frozenset[Status]] = {
    "active": frozenset({"paused", "retired"}),
    "paused": frozenset({"active", "retired"}),
    "retired": frozenset(),
}

OCCURRENCE_NAMESPACE = UUID("5ea7e999-bd61-481a-8cfc-023206a9e7f0")


# One tick schedules at most this many occurrences of an operation, so an operation that starts
# long ago is backfilled over several ticks instead of in one enormous command.
MAX_OCCURRENCES_PER_TICK = 500
# An operation starts at most this many days before the day it is created: what it owes from
# before then is no one's work now, and a start in year 1 would be backfilled for centuries.
MAX_DAYS_STARTED_BEFORE = 366
RETIRED_NOTE = "the operation was retired"


def occurrence_id(operation_id: UUID, due_date: date) -> UUID:
    """The id of the operation's occurrence due on ``due_date``: the same wherever it's computed."""
    return uuid5(OCCURRENCE_NAMESPACE, f"{operation_id}/{due_date.isoformat()}")


# Commands


@dataclass(frozen=True)
class CreateOperation:
    operation_id: UUID
    title: str
    team_id: UUID
    owner_id: UUID
    cadence: Cadence
    start_date: date
    end_date: date | None = None
    assignee_id: UUID | None = None
    runbook: tuple[str, ...] = ()
    estimate: float | None = None
    owner_active: bool = True
    assignee_active: bool = True


@dataclass(frozen=True)
class ChangeCadence:
    """Takes effect after today and after the last scheduled occurrence, never before."""

    cadence: Cadence


@dataclass(frozen=True)
class PauseOperation:
    pass


@dataclass(frozen=True)
class ResumeOperation:
    """Due dates that passed while paused are not caught up; scheduling resumes from today."""


@dataclass(frozen=True)
class RetireOperation:
    pass


@dataclass(frozen=True)
class ScheduleOccurrences:
    """The scheduler's tick: schedule every due date up to ``until`` not scheduled yet."""

    until: date


@dataclass(frozen=True)
class CompleteOccurrence:
    due_date: date
    note: str = ""


@dataclass(frozen=True)
class SkipOccurrence:
    due_date: date
    note: str = ""


@dataclass(frozen=True)
class ChangeOperationAssignee:
    """The default assignee of occurrences scheduled from now on; ``None`` leaves them open."""

    assignee_id: UUID | None
    assignee_active: bool = True


@dataclass(frozen=True)
class EditRunbook:
    items: tuple[str, ...]


OperationCommand = (
    CreateOperation
    | ChangeCadence
    | PauseOperation
    | ResumeOperation
    | RetireOperation
    | ScheduleOccurrences
    | CompleteOccurrence
    | SkipOccurrence
    | ChangeOperationAssignee
    | EditRunbook
)

# Events


@dataclass(frozen=True)
class OperationCreated:
    operation_id: UUID
    title: str
    team_id: UUID
    owner_id: UUID
    assignee_id: UUID | None
    cadence: Cadence
    start_date: date
    end_date: date | None
    runbook: tuple[str, ...]
    estimate: float | None


@dataclass(frozen=True)
class OperationCadenceChanged:
    cadence: Cadence
    effective_from: date


@dataclass(frozen=True)
class OperationPaused:
    pass


@dataclass(frozen=True)
class OperationResumed:
    resumed_on: date


@dataclass(frozen=True)
class OperationRetired:
    pass


@dataclass(frozen=True)
class OccurrenceScheduled:
    occurrence_id: UUID
    due_date: date
    assignee_id: UUID | None
    estimate: float | None


@dataclass(frozen=True)
class OccurrenceCompleted:
    occurrence_id: UUID
    due_date: date
    note: str


@dataclass(frozen=True)
class OccurrenceSkipped:
    occurrence_id: UUID
    due_date: date
    note: str


@dataclass(frozen=True)
class OperationAssigneeChanged:
    assignee_id: UUID | None


@dataclass(frozen=True)
class RunbookEdited:
    items: tuple[str, ...]


OperationEvent = (
    OperationCreated
    | OperationCadenceChanged
    | OperationPaused
    | OperationResumed
    | OperationRetired
    | OccurrenceScheduled
    | OccurrenceCompleted
    | OccurrenceSkipped
    | OperationAssigneeChanged
    | RunbookEdited
)

# State


@dataclass(frozen=True)
class CadenceSegment:
    """A cadence in effect from ``anchor`` until the next segment's anchor."""

    cadence: Cadence
    anchor: date


@dataclass(frozen=True)
class Occurrence:
    id: UUID
    due_date: date
    assignee_id: UUID | None
    estimate: float | None
    status: OccurrenceStatus = "scheduled"
    note: str = ""


@dataclass(frozen=True)
class Operation:
    id: UUID
    title: str
    team_id: UUID
    owner_id: UUID
    assignee_id: UUID | None
    start_date: date
    end_date: date | None
    runbook: tuple[str, ...]
    estimate: float | None
    segments: tuple[CadenceSegment, ...]
    status: Status = "active"
    # Nothing is scheduled before this day: the start, or the day the operation last resumed.
    schedule_from: date = date.min
    last_due: date | None = None
    occurrences: Mapping[date, Occurrence] = field(default_factory=dict)

    @property
    def cadence(self) -> Cadence:
        """The cadence in effect for the latest due dates."""
        return self.segments[-1].cadence


def is_late(occurrence: Occurrence, today: date) -> bool:
    """Still to be done, and its due date has passed."""
    return occurrence.status == "scheduled" and occurrence.due_date < today


def _day_after(day: date) -> date:
    return day if day == date.max else day + timedelta(days=1)


def _day_before(day: date) -> date:
    return day if day == date.min else day - timedelta(days=1)


def _normalised(cadence: Cadence, anchor: date) -> Cadence:
    """The checked cadence, with a weekly cadence's weekday made explicit from its anchor."""
    checked = make_cadence(cadence.every, cadence.interval, cadence.weekdays, cadence.day_of_month)
    if checked.every == "week" and not checked.weekdays:
        return replace(checked, weekdays=(anchor.weekday(),))
    return checked


def _runbook(items: tuple[str, ...], name: str) -> tuple[str, ...]:
    return tuple(require_text(item, name) for item in items)


def _due_to_schedule(state: Operation, until: date) -> list[date]:
    """Due dates up to ``until`` after the last scheduled one, across every cadence segment."""
    after = state.last_due
    if state.schedule_from > date.min:
        floor = _day_before(state.schedule_from)
        after = floor if after is None or floor > after else after
    found: list[date] = []
    for segment, following in zip(state.segments, (*state.segments[1:], None), strict=True):
        stop = until
        if following is not None and following.anchor <= stop:
            stop = _day_before(following.anchor)
        if stop >= segment.anchor:
            found.extend(due_dates(segment.cadence, segment.anchor, after, stop, state.end_date))
    return found


def _transition(state: Operation, to: Status) -> None:
    if to not in LIFECYCLE[state.status]:
        raise InvalidTransition(f"the operation is {state.status} and can't become {to}")


def _require_not_retired(state: Operation) -> None:
    if state.status == "retired":
        raise RuleViolation("the operation is retired")


def _occurrence(state: Operation, due_date: date) -> Occurrence:
    occurrence = state.occurrences.get(due_date)
    if occurrence is None:
        raise NotFound("no occurrence is scheduled on that date", field="due_date")
    if occurrence.status != "scheduled":
        raise InvalidTransition(f"the occurrence is {occurrence.status} already")
    return occurrence


def _create(command: CreateOperation, today: date) -> OperationCreated:
    title = require_text(command.title, "title")
    if (today - command.start_date).days > MAX_DAYS_STARTED_BEFORE:
        raise InvalidInput(
            f"an operation may start at most {MAX_DAYS_STARTED_BEFORE} days before it is created",
            field="start_date",
        )
    cadence = _normalised(command.cadence, command.start_date)
    if command.end_date is not None and command.end_date < command.start_date:
        raise InvalidInput("the end date can't be before the start date", field="end_date")
    require_non_negative(command.estimate, "estimate")
    runbook = _runbook(command.runbook, "runbook")
    if not command.owner_active:
        raise MemberInactive("a deactivated member can't own an operation", field="owner_id")
    if command.assignee_id is not None and not command.assignee_active:
        raise MemberInactive("a deactivated member can't be assigned", field="assignee_id")
    return OperationCreated(
        command.operation_id,
        title,
        command.team_id,
        command.owner_id,
        command.assignee_id,
        cadence,
        command.start_date,
        command.end_date,
        runbook,
        command.estimate,
    )


def decide(
    command: OperationCommand, state: Operation | None, now: datetime
) -> list[OperationEvent]:
    """The events that ``command`` causes on an operation in ``state`` (``None``: not created)."""
    if isinstance(command, CreateOperation):
        if state is not None:
            raise AlreadyExists("the operation exists already")
        return [_create(command, now.date())]
    if state is None:
        raise NotFound("no such operation")
    today = now.date()
    match command:
        case ChangeCadence(cadence=cadence):
            _require_not_retired(state)
            effective_from = max(_day_after(today), state.start_date)
            if state.last_due is not None:
                effective_from = max(effective_from, _day_after(state.last_due))
            cadence = _normalised(cadence, effective_from)
            if cadence == state.cadence:
                return []
            return [OperationCadenceChanged(cadence, effective_from)]
        case PauseOperation():
            _transition(state, "paused")
            return [OperationPaused()]
        case ResumeOperation():
            _transition(state, "active")
            return [OperationResumed(today)]
        case RetireOperation():
            _transition(state, "retired")
            # Retired work is no longer owed: what was still scheduled is skipped with it.
            open_occurrences = sorted(
                (o for o in state.occurrences.values() if o.status == "scheduled"),
                key=lambda occurrence: occurrence.due_date,
            )
            return [
                OperationRetired(),
                *(
                    OccurrenceSkipped(occurrence.id, occurrence.due_date, RETIRED_NOTE)
                    for occurrence in open_occurrences
                ),
            ]
        case ScheduleOccurrences(until=until):
            if state.status != "active":
                return []
            return [
                OccurrenceScheduled(
                    occurrence_id(state.id, due), due, state.assignee_id, state.estimate
                )
                for due in _due_to_schedule(state, until)[:MAX_OCCURRENCES_PER_TICK]
            ]
        case CompleteOccurrence(due_date=due_date, note=note):
            occurrence = _occurrence(state, due_date)
            return [OccurrenceCompleted(occurrence.id, due_date, note)]
        case SkipOccurrence(due_date=due_date, note=note):
            occurrence = _occurrence(state, due_date)
            return [OccurrenceSkipped(occurrence.id, due_date, note)]
        case ChangeOperationAssignee(assignee_id=assignee_id, assignee_active=active):
            _require_not_retired(state)
            if assignee_id is not None and not active:
                raise MemberInactive("a deactivated member can't be assigned", field="assignee_id")
            if assignee_id == state.assignee_id:
                return []
            return [OperationAssigneeChanged(assignee_id)]
        case EditRunbook(items=items):
            _require_not_retired(state)
            runbook = _runbook(items, "items")
            return [] if runbook == state.runbook else [RunbookEdited(runbook)]
        case _:
            assert_never(command)


def _settle(state: Operation, due_date: date, status: OccurrenceStatus, note: str) -> Operation:
    occurrence = state.occurrences.get(due_date)
    if occurrence is None:
        return state
    settled = replace(occurrence, status=status, note=note)
    return replace(state, occurrences={**state.occurrences, due_date: settled})


def evolve(state: Operation | None, event: OperationEvent) -> Operation | None:
    """The operation after ``event``. Total: an event is a fact and is never refused."""
    if isinstance(event, OperationCreated):
        return Operation(
            event.operation_id,
            event.title,
            event.team_id,
            event.owner_id,
            event.assignee_id,
            event.start_date,
            event.end_date,
            event.runbook,
            event.estimate,
            segments=(CadenceSegment(event.cadence, event.start_date),),
            schedule_from=event.start_date,
        )
    if state is None:
        return None
    match event:
        case OperationCadenceChanged(cadence=cadence, effective_from=effective_from):
            # A later change on the same day replaces an earlier one that hasn't taken effect.
            kept = tuple(s for s in state.segments if s.anchor < effective_from)
            return replace(state, segments=(*kept, CadenceSegment(cadence, effective_from)))
        case OperationPaused():
            return replace(state, status="paused")
        case OperationResumed(resumed_on=resumed_on):
            return replace(
                state, status="active", schedule_from=max(state.schedule_from, resumed_on)
            )
        case OperationRetired():
            return replace(state, status="retired")
        case OccurrenceScheduled(
            occurrence_id=id_, due_date=due_date, assignee_id=assignee_id, estimate=estimate
        ):
            occurrence = Occurrence(id_, due_date, assignee_id, estimate)
            last_due = due_date if state.last_due is None else max(state.last_due, due_date)
            return replace(
                state,
                occurrences={**state.occurrences, due_date: occurrence},
                last_due=last_due,
            )
        case OccurrenceCompleted(due_date=due_date, note=note):
            return _settle(state, due_date, "completed", note)
        case OccurrenceSkipped(due_date=due_date, note=note):
            return _settle(state, due_date, "skipped", note)
        case OperationAssigneeChanged(assignee_id=assignee_id):
            return replace(state, assignee_id=assignee_id)
        case RunbookEdited(items=items):
            return replace(state, runbook=items)
        case _:
            assert_never(event)
