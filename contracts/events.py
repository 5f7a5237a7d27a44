"""The published events: the ``data`` of every event type, one pydantic model per version.

These models are the public contract, written out here rather than derived from the domain, so
that a change to a domain event can't silently change what integrators receive: the suite fails
until the contract is changed too, with a new version when the shape changes.

Versioning rules:

- an event type is ``workledger.<object>.<fact>.v<N>``; ``<object>`` is the kind of object whose
  stream records the event, and ``<fact>`` what happened to it, in snake_case;
- a new version only *adds* fields, so version N's fields keep their names and meaning in N+1;
- readers ignore fields they don't know (every model here does), so a reader of version N can
  parse the ``data`` of any later version of the same event;
- a change that can't be made by adding a field is a new fact, not a new version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

SCHEMA_BASE_URL = "https://workledger.dev/schemas/"

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


@dataclass(frozen=True)
class EventContract:
    """One version of one published event type."""

    kind: str
    fact: str
    version: int
    data: type[EventData]

    @property
    def family(self) -> str:
        """The type without its version: ``workledger.issue.assigned``."""
        return f"workledger.{self.kind}.{self.fact}"

    @property
    def type(self) -> str:
        """The CloudEvents ``type``: ``workledger.issue.assigned.v1``."""
        return f"{self.family}.v{self.version}"

    @property
    def schema_file(self) -> str:
        """The name of this type's JSON Schema in ``contracts/schemas/``."""
        return f"{self.type}.json"

    @property
    def dataschema(self) -> str:
        """The CloudEvents ``dataschema``: where this type's JSON Schema is published."""
        return SCHEMA_BASE_URL + self.schema_file

    @property
    def description(self) -> str:
        return (self.data.__doc__ or "").strip()

    def parse_data(self, data: Any) -> EventData:
        """The ``data`` of an event of this type (or of a later version of it), validated."""
        return self.data.model_validate(data)


EVENT_CONTRACTS: tuple[EventContract, ...] = (
    EventContract("team", "created", 1, TeamCreatedV1),
    EventContract("team", "renamed", 1, TeamRenamedV1),
    EventContract("team", "capacity_set", 1, TeamCapacitySetV1),
    EventContract("team", "member_added", 1, TeamMemberAddedV1),
    EventContract("team", "member_removed", 1, TeamMemberRemovedV1),
    EventContract("team", "working_agreement_updated", 1, WorkingAgreementUpdatedV1),
    EventContract("team", "definition_of_done_updated", 1, DefinitionOfDoneUpdatedV1),
    EventContract("member", "registered", 1, MemberRegisteredV1),
    EventContract("member", "renamed", 1, MemberRenamedV1),
    EventContract("member", "role_changed", 1, MemberRoleChangedV1),
    EventContract("member", "capacity_set", 1, MemberCapacitySetV1),
    EventContract("member", "deactivated", 1, MemberDeactivatedV1),
    EventContract("member", "reactivated", 1, MemberReactivatedV1),
    EventContract("goal", "created", 1, GoalCreatedV1),
    EventContract("goal", "activated", 1, GoalActivatedV1),
    EventContract("goal", "closed", 1, GoalClosedV1),
    EventContract("goal", "key_result_added", 1, KeyResultAddedV1),
    EventContract("goal", "key_result_checked_in", 1, KeyResultCheckedInV1),
    EventContract("goal", "retitled", 1, GoalRetitledV1),
    EventContract("goal", "parent_changed", 1, GoalParentChangedV1),
    EventContract("project", "created", 1, ProjectCreatedV1),
    EventContract("project", "renamed", 1, ProjectRenamedV1),
    EventContract("project", "rescheduled", 1, ProjectRescheduledV1),
    EventContract("project", "status_changed", 1, ProjectStatusChangedV1),
    EventContract("project", "milestone_added", 1, MilestoneAddedV1),
    EventContract("project", "milestone_completed", 1, MilestoneCompletedV1),
    EventContract("project", "goal_linked", 1, ProjectGoalLinkedV1),
    EventContract("project", "health_posted", 1, ProjectHealthPostedV1),
    EventContract("project", "issue_added", 1, ProjectIssueAddedV1),
    EventContract("issue", "created", 1, IssueCreatedV1),
    EventContract("issue", "retitled", 1, IssueRetitledV1),
    EventContract("issue", "description_changed", 1, IssueDescriptionChangedV1),
    EventContract("issue", "priority_changed", 1, IssuePriorityChangedV1),
    EventContract("issue", "severity_changed", 1, IssueSeverityChangedV1),
    EventContract("issue", "estimated", 1, IssueEstimatedV1),
    EventContract("issue", "due_date_changed", 1, IssueDueDateChangedV1),
    EventContract("issue", "labels_changed", 1, IssueLabelsChangedV1),
    EventContract("issue", "parent_changed", 1, IssueParentChangedV1),
    EventContract("issue", "assigned", 1, IssueAssignedV1),
    EventContract("issue", "unassigned", 1, IssueUnassignedV1),
    EventContract("issue", "transitioned", 1, IssueTransitionedV1),
    EventContract("issue", "blocked", 1, IssueBlockedV1),
    EventContract("issue", "unblocked", 1, IssueUnblockedV1),
    EventContract("issue", "dependency_added", 1, IssueDependencyAddedV1),
    EventContract("issue", "dependency_removed", 1, IssueDependencyRemovedV1),
    EventContract("issue", "linked", 1, IssueLinkedV1),
    EventContract("issue", "unlinked", 1, IssueUnlinkedV1),
    EventContract("issue", "commented", 1, IssueCommentedV1),
    EventContract("issue", "commented", 2, IssueCommentedV2),
    EventContract("issue", "watcher_added", 1, IssueWatcherAddedV1),
    EventContract("issue", "watcher_removed", 1, IssueWatcherRemovedV1),
    EventContract("operation", "created", 1, OperationCreatedV1),
    EventContract("operation", "cadence_changed", 1, OperationCadenceChangedV1),
    EventContract("operation", "paused", 1, OperationPausedV1),
    EventContract("operation", "resumed", 1, OperationResumedV1),
    EventContract("operation", "retired", 1, OperationRetiredV1),
    EventContract("operation", "occurrence_scheduled", 1, OccurrenceScheduledV1),
    EventContract("operation", "occurrence_completed", 1, OccurrenceCompletedV1),
    EventContract("operation", "occurrence_skipped", 1, OccurrenceSkippedV1),
    EventContract("operation", "assignee_changed", 1, OperationAssigneeChangedV1),
    EventContract("operation", "runbook_edited", 1, RunbookEditedV1),
)


class UnknownEventContract(LookupError):
    """No published event has this type."""


class EventCatalog:
    """The published event types, looked up by type, by family, or by kind, fact and version."""

    def __init__(self, contracts: tuple[EventContract, ...] = EVENT_CONTRACTS) -> None:
        self.contracts = contracts
        self._by_type = {contract.type: contract for contract in contracts}
        if len(self._by_type) != len(contracts):
            raise ValueError("two event contracts share a type")
        self._versions: dict[str, list[EventContract]] = {}
        for contract in contracts:
            self._versions.setdefault(contract.family, []).append(contract)
        for family, versions in self._versions.items():
            versions.sort(key=lambda contract: contract.version)
            numbers = [contract.version for contract in versions]
            if numbers != list(range(1, len(numbers) + 1)):
                raise ValueError(f"{family} has versions {numbers}, not 1, 2, ...")

    def get(self, event_type: str) -> EventContract:
        """The contract of a versioned type such as ``workledger.issue.assigned.v1``."""
        try:
            return self._by_type[event_type]
        except KeyError:
            raise UnknownEventContract(f"no published event has the type {event_type!r}") from None

    def find(self, kind: str, fact: str, version: int) -> EventContract:
        return self.get(f"workledger.{kind}.{fact}.v{version}")

    def versions(self, family: str) -> list[EventContract]:
        """Every version of a family such as ``workledger.issue.commented``, oldest first."""
        try:
            return list(self._versions[family])
        except KeyError:
            raise UnknownEventContract(f"no published event family is named {family!r}") from None

    def latest(self, family: str) -> EventContract:
        return self.versions(family)[-1]

    def is_latest(self, contract: EventContract) -> bool:
        return self.latest(contract.family) == contract

    def resolve(self, name: str) -> EventContract:
        """A versioned type as itself, an unversioned family as its latest version."""
        if name in self._by_type:
            return self._by_type[name]
        return self.latest(name)


def downcast(data: dict[str, Any], to: EventContract) -> dict[str, Any]:
    """The ``data`` of a later version of an event, as version ``to`` shows it.

    Versions only add fields, so an earlier version is the later one without the added fields.
    """
    return {name: data[name] for name in to.data.model_fields}
