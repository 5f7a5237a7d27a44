"""The ``data`` of every published event type, one pydantic model per version: the shapes
``contracts.events`` publishes (its module docstring gives the versioning rules)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

Role = Literal["admin", "manager", "member", "viewer"]
GoalOutcome = Literal["achieved", "missed", "abandoned"]
KeyResultUnit = Literal["number", "percent", "currency", "boolean"]
ProjectStatus = Literal["proposed", "active", "on_hold", "completed", "cancelled"]
ProjectHealth = Literal["on_track", "at_risk", "off_track"]
IssueKind = Literal["task", "bug", "incident", "request"]
IssueStatus = Literal["triage", "backlog", "todo", "in_progress", "in_review", "done", "cancelled"]
Priority = Literal["urgent", "high", "medium", "low", "none"]
Severity = Literal["sev1", "sev2", "sev3", "sev4"]
LinkKind = Literal["goal", "affects"]
LinkTargetKind = Literal["project", "operation", "goal"]
Every = Literal["day", "week", "month"]


class EventData(BaseModel):
    """The ``data`` of a published event; unknown fields are ignored, so later versions parse."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# Teams


class TeamCreatedV1(EventData):
    """A team was created; without a weekly capacity it counts the sum of its members'."""

    team_id: UUID
    name: str
    weekly_capacity: float | None


class TeamRenamedV1(EventData):
    """A team was renamed."""

    name: str


class TeamCapacitySetV1(EventData):
    """A team's weekly capacity in points was set, or cleared to the sum of its members'."""

    weekly_capacity: float | None


class TeamMemberAddedV1(EventData):
    """A member joined a team."""

    member_id: UUID


class TeamMemberRemovedV1(EventData):
    """A member left a team."""

    member_id: UUID


class TeamLeadAddedV1(EventData):
    """A member became a lead of a team: a manager acting as them may manage it."""

    member_id: UUID


class TeamLeadRemovedV1(EventData):
    """A member stopped leading a team."""

    member_id: UUID


class WorkingAgreementUpdatedV1(EventData):
    """A team's working agreement got a new revision."""

    text: str
    revision: int


class DefinitionOfDoneUpdatedV1(EventData):
    """A team's definition of done (a checklist) was replaced."""

    items: list[str]


# Members


class MemberRegisteredV1(EventData):
    """A member was registered."""

    member_id: UUID
    name: str
    email: str
    role: Role
    weekly_capacity: float


class MemberRenamedV1(EventData):
    """A member's name changed."""

    name: str


class MemberRoleChangedV1(EventData):
    """A member's role changed."""

    role: Role


class MemberCapacitySetV1(EventData):
    """A member's weekly capacity in points changed."""

    weekly_capacity: float


class MemberDeactivatedV1(EventData):
    """A member was deactivated: no new work can be assigned to them."""


class MemberReactivatedV1(EventData):
    """A deactivated member was made active again."""


# Goals


class GoalCreatedV1(EventData):
    """A goal (objective) was created as a draft."""

    goal_id: UUID
    title: str
    owner_id: UUID
    team_id: UUID | None
    period_start: date
    period_end: date
    parent_id: UUID | None


class GoalActivatedV1(EventData):
    """A draft goal became active."""


class GoalClosedV1(EventData):
    """An active goal was closed with its outcome."""

    outcome: GoalOutcome


class KeyResultAddedV1(EventData):
    """A key result was added to a goal."""

    kr_id: UUID
    title: str
    unit: KeyResultUnit
    start: float
    target: float


class KeyResultCheckedInV1(EventData):
    """A key result's current value was checked in."""

    kr_id: UUID
    value: float
    note: str


class GoalRetitledV1(EventData):
    """A goal's title changed."""

    title: str


class GoalParentChangedV1(EventData):
    """A goal moved under another goal in the alignment tree, or to its top."""

    parent_id: UUID | None


# Projects


class ProjectCreatedV1(EventData):
    """A project was proposed."""

    project_id: UUID
    name: str
    key: str
    owner_id: UUID
    team_id: UUID
    start_date: date
    target_date: date


class ProjectRenamedV1(EventData):
    """A project was renamed."""

    name: str


class ProjectRescheduledV1(EventData):
    """A project's start or target date moved."""

    start_date: date
    target_date: date


class ProjectStatusChangedV1(EventData):
    """A project moved to another status."""

    status: ProjectStatus


class MilestoneAddedV1(EventData):
    """A milestone was added to a project."""

    milestone_id: UUID
    name: str
    due_date: date


class MilestoneCompletedV1(EventData):
    """A project's milestone was completed."""

    milestone_id: UUID


class ProjectGoalLinkedV1(EventData):
    """A project was linked to a goal it contributes to."""

    goal_id: UUID


class ProjectHealthPostedV1(EventData):
    """A health update was posted on a project."""

    health: ProjectHealth
    note: str


class ProjectIssueAddedV1(EventData):
    """An issue was created in a project and given its number there (``PAY-12``)."""

    issue_id: UUID
    number: int


# Issues


class IssueCreatedV1(EventData):
    """An issue was created."""

    issue_id: UUID
    kind: IssueKind
    title: str
    description: str
    team_id: UUID
    project_id: UUID | None
    number: int | None
    key: str | None
    status: IssueStatus
    priority: Priority
    severity: Severity | None
    estimate: float | None
    due_date: date | None
    labels: list[str]
    parent_id: UUID | None
    goal_ids: list[UUID]
    assignee_id: UUID | None


class IssueRetitledV1(EventData):
    """An issue's title changed."""

    title: str


class IssueDescriptionChangedV1(EventData):
    """An issue's description changed."""

    description: str


class IssuePriorityChangedV1(EventData):
    """An issue's priority changed."""

    priority: Priority


class IssueSeverityChangedV1(EventData):
    """An incident's severity changed, or was cleared."""

    severity: Severity | None


class IssueEstimatedV1(EventData):
    """An issue's estimate in points changed, or was cleared."""

    estimate: float | None


class IssueDueDateChangedV1(EventData):
    """An issue's due date changed, or was cleared."""

    due_date: date | None


class IssueLabelsChangedV1(EventData):
    """An issue's labels were replaced."""

    labels: list[str]


class IssueParentChangedV1(EventData):
    """An issue became a sub-issue of another, or stopped being one."""

    parent_id: UUID | None


class IssueAssignedV1(EventData):
    """An issue was assigned to a member."""

    assignee_id: UUID


class IssueUnassignedV1(EventData):
    """An issue's assignee was removed."""


class IssueTransitionedV1(EventData):
    """An issue moved through its workflow."""

    from_status: IssueStatus
    to_status: IssueStatus


class IssueBlockedV1(EventData):
    """An issue was flagged as blocked, with the reason."""

    reason: str


class IssueUnblockedV1(EventData):
    """An issue's blocked flag was cleared."""


class IssueDependencyAddedV1(EventData):
    """An issue now waits on another issue."""

    blocked_by_id: UUID


class IssueDependencyRemovedV1(EventData):
    """An issue no longer waits on another issue."""

    blocked_by_id: UUID


class IssueLinkedV1(EventData):
    """An issue was linked to a goal it serves, or to a project, operation or goal it affects."""

    kind: LinkKind
    target_id: UUID
    target_kind: LinkTargetKind


class IssueUnlinkedV1(EventData):
    """A link of an issue was removed."""

    kind: LinkKind
    target_id: UUID


class IssueCommentedV1(EventData):
    """A comment was posted on an issue. Superseded by version 2."""

    comment_id: UUID
    author: str
    body: str


class IssueCommentedV2(EventData):
    """A comment was posted on an issue, possibly in reply to another comment.

    Version 2 added ``reply_to``; comments posted before it existed have ``reply_to: null``.
    """

    comment_id: UUID
    author: str
    body: str
    reply_to: UUID | None


class IssueWatcherAddedV1(EventData):
    """A member started watching an issue."""

    member_id: UUID


class IssueWatcherRemovedV1(EventData):
    """A member stopped watching an issue."""

    member_id: UUID


# Operations


class Cadence(EventData):
    """Every ``interval`` days, weeks or months.

    ``weekdays`` (0 is Monday, 6 is Sunday) only applies to weekly cadences; ``day_of_month``
    only to monthly ones, where a day the month doesn't have falls on its last day.
    """

    every: Every
    interval: int
    weekdays: list[int]
    day_of_month: int | None


class OperationCreatedV1(EventData):
    """Recurring operational work was set up."""

    operation_id: UUID
    title: str
    team_id: UUID
    owner_id: UUID
    assignee_id: UUID | None
    cadence: Cadence
    start_date: date
    end_date: date | None
    runbook: list[str]
    estimate: float | None


class OperationCadenceChangedV1(EventData):
    """An operation's cadence changed, for occurrences due from ``effective_from`` on."""

    cadence: Cadence
    effective_from: date


class OperationPausedV1(EventData):
    """An operation was paused: no occurrences are scheduled while it is."""


class OperationResumedV1(EventData):
    """A paused operation was resumed."""

    resumed_on: date


class OperationRetiredV1(EventData):
    """An operation was retired for good."""


class OccurrenceScheduledV1(EventData):
    """An occurrence of an operation fell due; its id derives from the operation and due date."""

    occurrence_id: UUID
    due_date: date
    assignee_id: UUID | None
    estimate: float | None


class OccurrenceCompletedV1(EventData):
    """An occurrence of an operation was completed."""

    occurrence_id: UUID
    due_date: date
    note: str


class OccurrenceSkippedV1(EventData):
    """An occurrence of an operation was skipped."""

    occurrence_id: UUID
    due_date: date
    note: str


class OperationAssigneeChangedV1(EventData):
    """An operation's default assignee changed, or was cleared."""

    assignee_id: UUID | None


class RunbookEditedV1(EventData):
    """An operation's runbook (a checklist) was replaced."""

    items: list[str]
