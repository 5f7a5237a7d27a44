"""The published events: every event type's versions, with the model of its ``data`` (written
out in ``contracts.event_data``), and the catalog that finds them.

The data models are the public contract, written out rather than derived from the domain, so
that a change to a domain event can't silently change what integrators receive: the suite fails
until the contract is changed too, with a new version when the shape changes.

Versioning rules:

- an event type is ``workledger.<object>.<fact>.v<N>``; ``<object>`` is the kind of object whose
  stream records the event, and ``<fact>`` what happened to it, in snake_case;
- a new version only *adds* fields, so version N's fields keep their names and meaning in N+1;
- readers ignore fields they don't know (every data model does), so a reader of version N can
  parse the ``data`` of any later version of the same event;
- a change that can't be made by adding a field is a new fact, not a new version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.event_data import (
    DefinitionOfDoneUpdatedV1,
    EventData,
    GoalActivatedV1,
    GoalClosedV1,
    GoalCreatedV1,
    GoalParentChangedV1,
    GoalRetitledV1,
    IssueAssignedV1,
    IssueBlockedV1,
    IssueCommentedV1,
    IssueCommentedV2,
    IssueCreatedV1,
    IssueDependencyAddedV1,
    IssueDependencyRemovedV1,
    IssueDescriptionChangedV1,
    IssueDueDateChangedV1,
    IssueEstimatedV1,
    IssueLabelsChangedV1,
    IssueLinkedV1,
    IssueParentChangedV1,
    IssuePriorityChangedV1,
    IssueRetitledV1,
    IssueSeverityChangedV1,
    IssueTransitionedV1,
    IssueUnassignedV1,
    IssueUnblockedV1,
    IssueUnlinkedV1,
    IssueWatcherAddedV1,
    IssueWatcherRemovedV1,
    KeyResultAddedV1,
    KeyResultCheckedInV1,
    MemberCapacitySetV1,
    MemberDeactivatedV1,
    MemberReactivatedV1,
    MemberRegisteredV1,
    MemberRenamedV1,
    MemberRoleChangedV1,
    MilestoneAddedV1,
    MilestoneCompletedV1,
    OccurrenceCompletedV1,
    OccurrenceScheduledV1,
    OccurrenceSkippedV1,
    OperationAssigneeChangedV1,
    OperationCadenceChangedV1,
    OperationCreatedV1,
    OperationPausedV1,
    OperationResumedV1,
    OperationRetiredV1,
    ProjectCreatedV1,
    ProjectGoalLinkedV1,
    ProjectHealthPostedV1,
    ProjectIssueAddedV1,
    ProjectRenamedV1,
    ProjectRescheduledV1,
    ProjectStatusChangedV1,
    RunbookEditedV1,
    TeamCapacitySetV1,
    TeamCreatedV1,
    TeamLeadAddedV1,
    TeamLeadRemovedV1,
    TeamMemberAddedV1,
    TeamMemberRemovedV1,
    TeamRenamedV1,
    WorkingAgreementUpdatedV1,
)

SCHEMA_BASE_URL = "https://workledger.dev/schemas/"


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
    EventContract("team", "lead_added", 1, TeamLeadAddedV1),
    EventContract("team", "lead_removed", 1, TeamLeadRemovedV1),
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
