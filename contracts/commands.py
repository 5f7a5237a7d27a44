"""Request bodies of the command API. Unknown fields are refused; sizes are bounded."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(max_length=50_000)]
Note = Annotated[str, StringConstraints(max_length=5_000)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Points = Annotated[float, Field(ge=0, le=1_000_000)]
Amount = Annotated[float, Field(ge=-1e15, le=1e15)]
ProjectKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z][A-Za-z0-9]{1,9}$"),
]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=320,
        pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$",
    ),
]
Role = Literal["admin", "manager", "member", "viewer"]
Priority = Literal["urgent", "high", "medium", "low", "none"]
Severity = Literal["sev1", "sev2", "sev3", "sev4"]
IssueKind = Literal["task", "bug", "incident", "request"]
IssueStatus = Literal["triage", "backlog", "todo", "in_progress", "in_review", "done", "cancelled"]
ProjectStatus = Literal["proposed", "active", "on_hold", "completed", "cancelled"]
Health = Literal["on_track", "at_risk", "off_track"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, BaseModel):
        return any(_holds_nul(getattr(value, name)) for name in type(value).model_fields)
    return False


class Body(BaseModel):
    """Every command body: strict about unknown fields; no text may hold a NUL character."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _refuse_nul(self) -> Self:
        for name in type(self).model_fields:
            if _holds_nul(getattr(self, name)):
                raise ValueError(f"{name} must not contain NUL characters")
        return self


class CreateTeam(Body):
    name: Name
    weekly_capacity: Points | None = None


class UpdateTeam(Body):
    name: Name | None = None
    weekly_capacity: Points | None = None


class AddTeamMember(Body):
    member_id: UUID


class WorkingAgreement(Body):
    text: LongText


class DefinitionOfDone(Body):
    items: Annotated[list[Annotated[str, StringConstraints(max_length=500)]], Field(max_length=100)]


class CreateMember(Body):
    name: Name
    email: Email
    role: Role
    weekly_capacity: Points
    team_ids: Annotated[list[UUID], Field(max_length=50)] = []


class UpdateMember(Body):
    name: Name | None = None
    role: Role | None = None
    weekly_capacity: Points | None = None


class CreateGoal(Body):
    title: Title
    owner_id: UUID
    team_id: UUID | None = None
    period_start: date
    period_end: date
    parent_id: UUID | None = None


class UpdateGoal(Body):
    title: Title | None = None
    parent_id: UUID | None = None


class CloseGoal(Body):
    outcome: Literal["achieved", "missed", "abandoned"]


class AddKeyResult(Body):
    title: Title
    unit: Literal["number", "percent", "currency", "boolean"]
    start: Amount
    target: Amount


class CheckIn(Body):
    value: Amount
    note: Note = ""


class CreateProject(Body):
    name: Name
    key: ProjectKey
    owner_id: UUID
    team_id: UUID
    start_date: date
    target_date: date
    goal_ids: Annotated[list[UUID], Field(max_length=50)] = []


class UpdateProject(Body):
    name: Name | None = None
    start_date: date | None = None
    target_date: date | None = None


class ProjectStatusChange(Body):
    status: ProjectStatus


class ProjectHealth(Body):
    health: Health
    note: Note = ""


class AddMilestone(Body):
    name: Name
    due_date: date


class LinkGoal(Body):
    goal_id: UUID


class CreateIssue(Body):
    title: Title
    kind: IssueKind
    team_id: UUID
    project_id: UUID | None = None
    description: LongText = ""
    priority: Priority = "none"
    severity: Severity | None = None
    estimate: Points | None = None
    due_date: date | None = None
    labels: Annotated[list[Label], Field(max_length=50)] = []
    parent_id: UUID | None = None
    goal_ids: Annotated[list[UUID], Field(max_length=50)] = []
    assignee_id: UUID | None = None


class UpdateIssue(Body):
    """Only the fields present change; ``null`` clears a field that may be empty."""

    title: Title | None = None
    description: LongText | None = None
    priority: Priority | None = None
    severity: Severity | None = None
    estimate: Points | None = None
    due_date: date | None = None
    labels: Annotated[list[Label], Field(max_length=50)] | None = None
    parent_id: UUID | None = None


class AssignIssue(Body):
    assignee_id: UUID | None


class TransitionIssue(Body):
    status: IssueStatus


class BlockIssue(Body):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]


class AddDependency(Body):
    blocked_by_id: UUID


class LinkIssue(Body):
    kind: Literal["goal", "affects"]
    target_id: UUID


class Comment(Body):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class Watch(Body):
    member_id: UUID


class Cadence(Body):
    every: Literal["day", "week", "month"]
    interval: Annotated[int, Field(ge=1, le=366)] = 1
    weekdays: Annotated[list[Weekday], Field(max_length=7)] | None = None
    day_of_month: Annotated[int, Field(ge=1, le=31)] | None = None


class CreateOperation(Body):
    title: Title
    team_id: UUID
    owner_id: UUID
    assignee_id: UUID | None = None
    cadence: Cadence
    start_date: date
    end_date: date | None = None
    runbook: Annotated[
        list[Annotated[str, StringConstraints(max_length=500)]], Field(max_length=100)
    ] = []
    estimate: Points | None = None


class ChangeCadence(Body):
    cadence: Cadence


class UpdateOperation(Body):
    assignee_id: UUID | None = None
    runbook: (
        Annotated[list[Annotated[str, StringConstraints(max_length=500)]], Field(max_length=100)]
        | None
    ) = None


class Tick(Body):
    until: date | None = None


class OccurrenceNote(Body):
    note: Note = ""


class Empty(Body):
    """A command that takes no fields; an empty body or ``{}``."""
