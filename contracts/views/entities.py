"""One object's full state, and filtered lists of them, as ``GET /v1/{teams,...}`` answer them.

Every object answers its ``version`` (its stream's version: what ``If-Match`` compares) and the
``position`` of the log event that last changed it, so a client can tell exactly which state it
reads. With ``as_of`` an object is answered as it was then.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

Role = Literal["admin", "manager", "member", "viewer"]
GoalStatus = Literal["draft", "active", "achieved", "missed", "abandoned"]
KeyResultUnit = Literal["number", "percent", "currency", "boolean"]
ProgressBasis = Literal["key_results", "work"]
ProjectStatus = Literal["proposed", "active", "on_hold", "completed", "cancelled"]
HealthStatus = Literal["on_track", "at_risk", "off_track"]
IssueKind = Literal["task", "bug", "incident", "request"]
IssueStatus = Literal["triage", "backlog", "todo", "in_progress", "in_review", "done", "cancelled"]
Priority = Literal["urgent", "high", "medium", "low", "none"]
Severity = Literal["sev1", "sev2", "sev3", "sev4"]
AffectedKind = Literal["project", "operation", "goal"]
OperationStatus = Literal["active", "paused", "retired"]
OccurrenceStatus = Literal["scheduled", "completed", "skipped"]
Every = Literal["day", "week", "month"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class Entity(BaseModel):
    """What every object answers besides its own fields."""

    id: UUID
    version: int = Field(description="The object's stream version, as `ETag` and `If-Match`.")
    position: int = Field(description="The log position of the event that last changed it.")
    created_at: datetime
    updated_at: datetime = Field(description="When the object last changed (as of the answer).")


class TeamDetail(Entity):
    name: str
    weekly_capacity: float | None = Field(
        description="The capacity set for the team; null means the sum of its members'."
    )
    capacity: float = Field(
        description="`weekly_capacity`, or when unset the sum of its active members' capacities."
    )
    member_ids: list[UUID] = Field(description="Its members, in the order they joined.")
    lead_ids: list[UUID] = Field(
        description="The members who lead it, in the order they became leads: a manager token "
        "acting as one of them manages the team and its work."
    )
    working_agreement: str
    agreement_revision: int = Field(description="0 until the first agreement is written.")
    definition_of_done: list[str]


class MemberDetail(Entity):
    name: str
    email: str
    role: Role
    weekly_capacity: float
    active: bool = Field(description="False once deactivated: work can't be assigned to them.")
    team_ids: list[UUID]


class KeyResultDetail(BaseModel):
    id: UUID
    title: str
    unit: KeyResultUnit
    start: float
    target: float
    current: float
    progress: float = Field(
        ge=0, le=1, description="(current - start) / (target - start), clamped to [0, 1]."
    )


class GoalDetail(Entity):
    title: str
    owner_id: UUID
    team_id: UUID | None
    period_start: date
    period_end: date
    parent_id: UUID | None
    children_ids: list[UUID] = Field(description="Goals aligned directly under this one.")
    status: GoalStatus
    key_results: list[KeyResultDetail]
    progress: float | None = Field(
        ge=0,
        le=1,
        description="The mean of its key results' progress; with none, the share of its linked "
        "issues (by estimate, or by count when none is estimated, cancelled ones left out) that "
        "is done; null when there is neither.",
    )
    progress_basis: ProgressBasis | None


class MilestoneDetail(BaseModel):
    id: UUID
    name: str
    due_date: date
    done: bool
    completed_on: date | None
    overdue: bool = Field(description="Not done, and due before the day the answer describes.")


class HealthDetail(BaseModel):
    """The latest health update posted on a project."""

    status: HealthStatus
    note: str
    posted_at: datetime


class ProjectDetail(Entity):
    name: str
    key: str
    owner_id: UUID
    team_id: UUID
    start_date: date
    target_date: date
    status: ProjectStatus
    milestones: list[MilestoneDetail]
    goal_ids: list[UUID]
    health: HealthDetail | None
    issue_count: int = Field(description="Issues numbered in the project so far.")


class AffectsLink(BaseModel):
    """Something an issue hurts."""

    target_id: UUID
    target_kind: AffectedKind


class IssueDetail(Entity):
    key: str | None = Field(description="The human key, like PAY-12, for issues in a project.")
    number: int | None
    kind: IssueKind
    title: str
    description: str
    team_id: UUID
    project_id: UUID | None
    assignee_id: UUID | None
    status: IssueStatus
    priority: Priority
    severity: Severity | None
    estimate: float | None
    due_date: date | None
    overdue: bool = Field(description="Open, and due before the day the answer describes.")
    labels: list[str]
    parent_id: UUID | None
    sub_issue_ids: list[UUID]
    goal_ids: list[UUID]
    affects: list[AffectsLink]
    blocked: bool
    blocked_reason: str | None
    blocked_by: list[UUID] = Field(description="Issues this one waits on.")
    blocks: list[UUID] = Field(description="Issues that wait on this one.")
    watchers: list[UUID]
    comment_count: int


class CommentDetail(BaseModel):
    id: UUID
    author: str = Field(description="The member who wrote it, or `system`.")
    body: str
    created_at: datetime
    position: int


class CadenceDetail(BaseModel):
    every: Every
    interval: int
    weekdays: list[Weekday]
    day_of_month: int | None


class OccurrenceDetail(BaseModel):
    id: UUID
    due_date: date
    status: OccurrenceStatus
    assignee_id: UUID | None
    estimate: float | None
    note: str
    late: bool = Field(description="Still scheduled, and due before the day the answer describes.")


class OperationSummary(Entity):
    """An operation with its occurrences counted (a list item)."""

    title: str
    team_id: UUID
    owner_id: UUID
    assignee_id: UUID | None = Field(description="Assigned to occurrences scheduled from now on.")
    cadence: CadenceDetail = Field(description="The latest cadence.")
    cadence_effective_from: date = Field(description="The first day the latest cadence applies.")
    start_date: date
    end_date: date | None
    runbook: list[str]
    estimate: float | None = Field(description="Points per occurrence.")
    status: OperationStatus
    open_occurrences: int = Field(description="Occurrences still scheduled, late ones included.")
    late_occurrences: int
    next_due_date: date | None = Field(
        description="The earliest scheduled occurrence due on or after the day described."
    )


class OperationDetail(OperationSummary):
    """An operation with every occurrence, by due date."""

    occurrences: list[OccurrenceDetail]


class TeamList(BaseModel):
    items: list[TeamDetail]
    next_cursor: str | None


class MemberList(BaseModel):
    items: list[MemberDetail]
    next_cursor: str | None


class GoalList(BaseModel):
    items: list[GoalDetail]
    next_cursor: str | None


class ProjectList(BaseModel):
    items: list[ProjectDetail]
    next_cursor: str | None


class IssueList(BaseModel):
    items: list[IssueDetail]
    next_cursor: str | None


class OperationList(BaseModel):
    items: list[OperationSummary]
    next_cursor: str | None


class CommentList(BaseModel):
    items: list[CommentDetail]
    next_cursor: str | None
