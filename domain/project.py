"""Project: a bounded piece of work with a key, a schedule, milestones, health reports, issues."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal, assert_never
from uuid import UUID

from domain.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidTransition,
    MemberInactive,
    NotFound,
    ProjectClosed,
)
from domain.rules import require_text

ProjectStatus = Literal["proposed", "active", "on_hold", "completed", "cancelled"]
ProjectHealth = Literal["on_track", "at_risk", "off_track"]

ALLOWED_MOVES: frozenset[tuple[ProjectStatus, ProjectStatus]] = frozenset(
    {
        ("proposed", "active"),
        ("proposed", "cancelled"),
        ("active", "on_hold"),
        ("on_hold", "active"),
        ("active", "completed"),
        ("active", "cancelled"),
        ("on_hold", "completed"),
        ("on_hold", "cancelled"),
    }
)
CLOSED_STATUSES: frozenset[ProjectStatus] = frozenset({"completed", "cancelled"})

_KEY = re.compile(r"[A-Z][A-Z0-9]{1,9}")

# Commands


@dataclass(frozen=True)
class CreateProject:
    """``key_in_use``: whether another project already has this key (looked up by the caller)."""

    project_id: UUID
    name: str
    key: str
    owner_id: UUID
    team_id: UUID
    start_date: date
    target_date: date
    owner_active: bool
    key_in_use: bool


@dataclass(frozen=True)
class RenameProject:
    name: str


@dataclass(frozen=True)
class RescheduleProject:
    start_date: date
    target_date: date


@dataclass(frozen=True)
class ChangeProjectStatus:
    """Move the project along its lifecycle; ``status`` is the status to move to."""

    status: str


@dataclass(frozen=True)
class AddMilestone:
    milestone_id: UUID
    name: str
    due_date: date


@dataclass(frozen=True)
class CompleteMilestone:
    milestone_id: UUID


@dataclass(frozen=True)
class LinkProjectGoal:
    goal_id: UUID
    goal_exists: bool


@dataclass(frozen=True)
class PostProjectHealth:
    """``health`` is one of ``on_track``, ``at_risk`` or ``off_track``."""

    health: str
    note: str = ""


@dataclass(frozen=True)
class AddIssueToProject:
    issue_id: UUID


ProjectCommand = (
    CreateProject
    | RenameProject
    | RescheduleProject
    | ChangeProjectStatus
    | AddMilestone
    | CompleteMilestone
    | LinkProjectGoal
    | PostProjectHealth
    | AddIssueToProject
)

# Events


@dataclass(frozen=True)
class ProjectCreated:
    project_id: UUID
    name: str
    key: str
    owner_id: UUID
    team_id: UUID
    start_date: date
    target_date: date


@dataclass(frozen=True)
class ProjectRenamed:
    name: str


@dataclass(frozen=True)
class ProjectRescheduled:
    start_date: date
    target_date: date


@dataclass(frozen=True)
class ProjectStatusChanged:
    status: ProjectStatus


@dataclass(frozen=True)
class MilestoneAdded:
    milestone_id: UUID
    name: str
    due_date: date


@dataclass(frozen=True)
class MilestoneCompleted:
    milestone_id: UUID


@dataclass(frozen=True)
class ProjectGoalLinked:
    goal_id: UUID


@dataclass(frozen=True)
class ProjectHealthPosted:
    health: ProjectHealth
    note: str


@dataclass(frozen=True)
class ProjectIssueAdded:
    issue_id: UUID
    number: int


ProjectEvent = (
    ProjectCreated
    | ProjectRenamed
    | ProjectRescheduled
    | ProjectStatusChanged
    | MilestoneAdded
    | MilestoneCompleted
    | ProjectGoalLinked
    | ProjectHealthPosted
    | ProjectIssueAdded
)

# State


@dataclass(frozen=True)
class Milestone:
    id: UUID
    name: str
    due_date: date
    done: bool = False


@dataclass(frozen=True)
class Project:
    id: UUID
    name: str
    key: str
    owner_id: UUID
    team_id: UUID
    start_date: date
    target_date: date
    status: ProjectStatus = "proposed"
    milestones: tuple[Milestone, ...] = ()
    goal_ids: frozenset[UUID] = frozenset()
    health: ProjectHealth | None = None
    health_note: str = ""
    issue_count: int = 0


def normalise_key(key: str) -> str:
    """A project key in upper case: a letter, then letters or digits, 2 to 10 in all."""
    normalised = key.strip().upper()
    if not _KEY.fullmatch(normalised):
        raise InvalidInput(
            "key must be 2-10 letters or digits, starting with a letter (like PAY)", field="key"
        )
    return normalised


def issue_key(project: Project, number: int) -> str:
    """The human key of the project's issue ``number``, like ``PAY-12``."""
    return f"{project.key}-{number}"


def find_milestone(project: Project, milestone_id: UUID) -> Milestone | None:
    """The project's milestone with id ``milestone_id``, or ``None``."""
    return next((m for m in project.milestones if m.id == milestone_id), None)


def _status(value: str) -> ProjectStatus:
    match value:
        case "proposed" | "active" | "on_hold" | "completed" | "cancelled":
            return value
    raise InvalidInput(
        "status must be proposed, active, on_hold, completed or cancelled", field="status"
    )


def _health(value: str) -> ProjectHealth:
    match value:
        case "on_track" | "at_risk" | "off_track":
            return value
    raise InvalidInput("health must be on_track, at_risk or off_track", field="health")


def _check_schedule(start_date: date, target_date: date) -> None:
    if target_date < start_date:
        raise InvalidInput("the target date can't be before the start date", field="target_date")


def _require_open(state: Project, what: str) -> None:
    if state.status in CLOSED_STATUSES:
        raise ProjectClosed(f"the project is {state.status}: no new {what}")


def decide(command: ProjectCommand, state: Project | None, now: datetime) -> list[ProjectEvent]:
    """The events that ``command`` causes on a project in ``state`` (``None``: not created yet)."""
    if isinstance(command, CreateProject):
        if state is not None:
            raise AlreadyExists("the project exists already")
        name = require_text(command.name, "name")
        key = normalise_key(command.key)
        if command.key_in_use:
            raise AlreadyExists(f"another project has the key {key}", field="key")
        _check_schedule(command.start_date, command.target_date)
        if not command.owner_active:
            raise MemberInactive("a deactivated member can't own a project", field="owner_id")
        return [
            ProjectCreated(
                command.project_id,
                name,
                key,
                command.owner_id,
                command.team_id,
                command.start_date,
                command.target_date,
            )
        ]
    if state is None:
        raise NotFound("no such project")
    match command:
        case RenameProject(name=name):
            name = require_text(name, "name")
            return [] if name == state.name else [ProjectRenamed(name)]
        case RescheduleProject(start_date=start_date, target_date=target_date):
            _check_schedule(start_date, target_date)
            if (start_date, target_date) == (state.start_date, state.target_date):
                return []
            return [ProjectRescheduled(start_date, target_date)]
        case ChangeProjectStatus(status=raw):
            status = _status(raw)
            if (state.status, status) not in ALLOWED_MOVES:
                raise InvalidTransition(f"a {state.status} project can't become {status}")
            return [ProjectStatusChanged(status)]
        case AddMilestone(milestone_id=milestone_id, name=name, due_date=due_date):
            _require_open(state, "milestones")
            if find_milestone(state, milestone_id) is not None:
                raise AlreadyExists("the milestone exists already", field="milestone_id")
            return [MilestoneAdded(milestone_id, require_text(name, "name"), due_date)]
        case CompleteMilestone(milestone_id=milestone_id):
            milestone = find_milestone(state, milestone_id)
            if milestone is None:
                raise NotFound("no such milestone", field="milestone_id")
            return [] if milestone.done else [MilestoneCompleted(milestone_id)]
        case LinkProjectGoal(goal_id=goal_id, goal_exists=goal_exists):
            if goal_id in state.goal_ids:
                return []
            if not goal_exists:
                raise NotFound("no such goal", field="goal_id")
            return [ProjectGoalLinked(goal_id)]
        case PostProjectHealth(health=raw, note=note):
            # Every post is a report in the project's history, even when the health is unchanged.
            return [ProjectHealthPosted(_health(raw), note.strip())]
        case AddIssueToProject(issue_id=issue_id):
            _require_open(state, "issues")
            return [ProjectIssueAdded(issue_id, state.issue_count + 1)]
        case _:
            assert_never(command)


def evolve(state: Project | None, event: ProjectEvent) -> Project | None:
    """The project after ``event``. Total: an event is a fact and is never refused."""
    if isinstance(event, ProjectCreated):
        return Project(
            event.project_id,
            event.name,
            event.key,
            event.owner_id,
            event.team_id,
            event.start_date,
            event.target_date,
        )
    if state is None:
        return None
    match event:
        case ProjectRenamed(name=name):
            return replace(state, name=name)
        case ProjectRescheduled(start_date=start_date, target_date=target_date):
            return replace(state, start_date=start_date, target_date=target_date)
        case ProjectStatusChanged(status=status):
            return replace(state, status=status)
        case MilestoneAdded(milestone_id=milestone_id, name=name, due_date=due_date):
            others = tuple(m for m in state.milestones if m.id != milestone_id)
            return replace(state, milestones=(*others, Milestone(milestone_id, name, due_date)))
        case MilestoneCompleted(milestone_id=milestone_id):
            milestones = tuple(
                replace(m, done=True) if m.id == milestone_id else m for m in state.milestones
            )
            return replace(state, milestones=milestones)
        case ProjectGoalLinked(goal_id=goal_id):
            return replace(state, goal_ids=state.goal_ids | {goal_id})
        case ProjectHealthPosted(health=health, note=note):
            return replace(state, health=health, health_note=note)
        case ProjectIssueAdded(number=number):
            # Never lower the count, so a number once handed out is never handed out again.
            return replace(state, issue_count=max(state.issue_count, number))
        case _:
            assert_never(event)
