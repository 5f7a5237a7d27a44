"""Request bodies of the command API. Unknown fields are refused; sizes are bounded; values are
read strictly as their JSON types (``contracts.inputs``)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from contracts.inputs import Day, Id, Kept, Number, Whole

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(max_length=50_000)]
Note = Annotated[str, StringConstraints(max_length=5_000)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Points = Annotated[Number, Field(ge=0, le=1_000_000)]
Amount = Annotated[Number, Field(ge=-1e15, le=1e15)]
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
    name: Kept[Name] = None
    weekly_capacity: Points | None = None


class AddTeamMember(Body):
    member_id: Id


class AddTeamLead(Body):
    member_id: Id


class WorkingAgreement(Body):
    text: LongText


class DefinitionOfDone(Body):
    items: Annotated[list[Annotated[str, StringConstraints(max_length=500)]], Field(max_length=100)]


class CreateMember(Body):
    name: Name
    email: Email
    role: Role
    weekly_capacity: Points
    team_ids: Annotated[list[Id], Field(max_length=50)] = []


class UpdateMember(Body):
    name: Kept[Name] = None
    role: Kept[Role] = None
    weekly_capacity: Kept[Points] = None


class CreateGoal(Body):
    title: Title
    owner_id: Id
    team_id: Id | None = None
    period_start: Day
    period_end: Day
    parent_id: Id | None = None


class UpdateGoal(Body):
    title: Kept[Title] = None
    parent_id: Id | None = None


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
    owner_id: Id
    team_id: Id
    start_date: Day
    target_date: Day
    goal_ids: Annotated[list[Id], Field(max_length=50)] = []


class UpdateProject(Body):
    name: Kept[Name] = None
    start_date: Kept[Day] = None
    target_date: Kept[Day] = None


class ProjectStatusChange(Body):
    status: ProjectStatus


class ProjectHealth(Body):
    health: Health
    note: Note = ""


class AddMilestone(Body):
    name: Name
    due_date: Day


class LinkGoal(Body):
    goal_id: Id


class CreateIssue(Body):
    title: Title
    kind: IssueKind
    team_id: Id
    project_id: Id | None = None
    description: LongText = ""
    priority: Priority = "none"
    severity: Severity | None = None
    estimate: Points | None = None
    due_date: Day | None = None
    labels: Annotated[list[Label], Field(max_length=50)] = []
    parent_id: Id | None = None
    goal_ids: Annotated[list[Id], Field(max_length=50)] = []
    assignee_id: Id | None = None


class UpdateIssue(Body):
    """Only the fields present change; ``null`` clears a field that may be empty."""

    title: Kept[Title] = None
    description: LongText | None = None
    priority: Kept[Priority] = None
    severity: Severity | None = None
    estimate: Points | None = None
    due_date: Day | None = None
    labels: Kept[Annotated[list[Label], Field(max_length=50)]] = None
    parent_id: Id | None = None


class AssignIssue(Body):
    assignee_id: Id | None


class TransitionIssue(Body):
    status: IssueStatus


class BlockIssue(Body):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]


class AddDependency(Body):
    blocked_by_id: Id


class LinkIssue(Body):
    kind: Literal["goal", "affects"]
    target_id: Id


class Comment(Body):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class Watch(Body):
    member_id: Id


class Cadence(Body):
    every: Literal["day", "week", "month"]
    interval: Annotated[Whole, Field(ge=1, le=366)] = 1
    weekdays: Annotated[list[Weekday], Field(max_length=7)] | None = None
    day_of_month: Annotated[Whole, Field(ge=1, le=31)] | None = None


class CreateOperation(Body):
    title: Title
    team_id: Id
    owner_id: Id
    assignee_id: Id | None = None
    cadence: Cadence
    start_date: Day
    end_date: Day | None = None
    runbook: Annotated[
        list[Annotated[str, StringConstraints(max_length=500)]], Field(max_length=100)
    ] = []
    estimate: Points | None = None


class ChangeCadence(Body):
    cadence: Cadence


class UpdateOperation(Body):
    assignee_id: Id | None = None
    runbook: Kept[
        Annotated[list[Annotated[str, StringConstraints(max_length=500)]], Field(max_length=100)]
    ] = None


class Tick(Body):
    until: Day | None = None


class OccurrenceNote(Body):
    note: Note = ""


class Empty(Body):
    """A command that takes no fields; an empty body or ``{}``."""
