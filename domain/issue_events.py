"""What happens to an issue: its events (the facts the log keeps), and the kinds of value they
carry. ``domain.issue`` decides and evolves with them, and names them all."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Literal
from uuid import UUID

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Reads an event's stored data of one schema version as the next version's."""

Kind = Literal["task", "bug", "incident", "request"]
Status = Literal["triage", "backlog", "todo", "in_progress", "in_review", "done", "cancelled"]
Priority = Literal["urgent", "high", "medium", "low", "none"]
Severity = Literal["sev1", "sev2", "sev3", "sev4"]
LinkKind = Literal["goal", "affects"]
TargetKind = Literal["project", "operation", "goal"]


@dataclass(frozen=True)
class IssueCreated:
    issue_id: UUID
    kind: Kind
    title: str
    description: str
    team_id: UUID
    project_id: UUID | None
    number: int | None
    key: str | None
    status: Status
    priority: Priority
    severity: Severity | None
    estimate: float | None
    due_date: date | None
    labels: tuple[str, ...]
    parent_id: UUID | None
    goal_ids: tuple[UUID, ...]
    assignee_id: UUID | None


@dataclass(frozen=True)
class IssueRetitled:
    title: str


@dataclass(frozen=True)
class IssueDescriptionChanged:
    description: str


@dataclass(frozen=True)
class IssuePriorityChanged:
    priority: Priority


@dataclass(frozen=True)
class IssueSeverityChanged:
    severity: Severity | None


@dataclass(frozen=True)
class IssueEstimated:
    estimate: float | None


@dataclass(frozen=True)
class IssueDueDateChanged:
    due_date: date | None


@dataclass(frozen=True)
class IssueLabelsChanged:
    labels: tuple[str, ...]


@dataclass(frozen=True)
class IssueParentChanged:
    parent_id: UUID | None


@dataclass(frozen=True)
class IssueAssigned:
    assignee_id: UUID


@dataclass(frozen=True)
class IssueUnassigned:
    pass


@dataclass(frozen=True)
class IssueTransitioned:
    from_status: Status
    to_status: Status


@dataclass(frozen=True)
class IssueBlocked:
    reason: str


@dataclass(frozen=True)
class IssueUnblocked:
    pass


@dataclass(frozen=True)
class IssueDependencyAdded:
    blocked_by_id: UUID


@dataclass(frozen=True)
class IssueDependencyRemoved:
    blocked_by_id: UUID


@dataclass(frozen=True)
class IssueLinked:
    kind: LinkKind
    target_id: UUID
    target_kind: TargetKind


@dataclass(frozen=True)
class IssueUnlinked:
    kind: LinkKind
    target_id: UUID


@dataclass(frozen=True)
class IssueCommented:
    """A comment on the issue, and the comment it answers (if any)."""

    comment_id: UUID
    author: str
    body: str
    reply_to: UUID | None = None

    # Its stored shape's versions, and how each older one is read as the next: version 2
    # added ``reply_to``, so a comment stored before replies existed answers none.
    SCHEMA_VERSION: ClassVar[int] = 2
    UPCASTERS: ClassVar[Mapping[int, Upcaster]] = {1: lambda data: {**data, "reply_to": None}}


@dataclass(frozen=True)
class IssueWatcherAdded:
    member_id: UUID


@dataclass(frozen=True)
class IssueWatcherRemoved:
    member_id: UUID


IssueEvent = (
    IssueCreated
    | IssueRetitled
    | IssueDescriptionChanged
    | IssuePriorityChanged
    | IssueSeverityChanged
    | IssueEstimated
    | IssueDueDateChanged
    | IssueLabelsChanged
    | IssueParentChanged
    | IssueAssigned
    | IssueUnassigned
    | IssueTransitioned
    | IssueBlocked
    | IssueUnblocked
    | IssueDependencyAdded
    | IssueDependencyRemoved
    | IssueLinked
    | IssueUnlinked
    | IssueCommented
    | IssueWatcherAdded
    | IssueWatcherRemoved
)
