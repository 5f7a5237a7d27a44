"""An issue's commands: what a client may ask of an issue, each a value the deciders in
``domain.issue`` take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from uuid import UUID

from domain.issue_events import Kind, LinkKind, Priority, Severity, Status, TargetKind


class Unchanged(Enum):
    """Marks a field an edit leaves alone, distinct from ``None`` (which clears it)."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


# Commands


@dataclass(frozen=True)
class CreateIssue:
    issue_id: UUID
    kind: Kind
    title: str
    team_id: UUID
    description: str = ""
    project_id: UUID | None = None
    number: int | None = None
    key: str | None = None
    priority: Priority = "none"
    severity: Severity | None = None
    estimate: float | None = None
    due_date: date | None = None
    labels: tuple[str, ...] = ()
    parent_id: UUID | None = None
    goal_ids: tuple[UUID, ...] = ()
    assignee_id: UUID | None = None
    assignee_active: bool = True


@dataclass(frozen=True)
class EditIssue:
    title: str | Unchanged = UNCHANGED
    description: str | Unchanged = UNCHANGED
    priority: Priority | Unchanged = UNCHANGED
    severity: Severity | Unchanged | None = UNCHANGED
    estimate: float | Unchanged | None = UNCHANGED
    due_date: date | Unchanged | None = UNCHANGED
    labels: tuple[str, ...] | Unchanged = UNCHANGED


@dataclass(frozen=True)
class ChangeIssueParent:
    """``parent_ancestors`` is the chain above the new parent: its parent, grandparent, ..."""

    parent_id: UUID | None
    parent_ancestors: tuple[UUID, ...] = ()


@dataclass(frozen=True)
class AssignIssue:
    assignee_id: UUID | None
    assignee_active: bool = True


@dataclass(frozen=True)
class TransitionIssue:
    status: Status


@dataclass(frozen=True)
class BlockIssue:
    reason: str


@dataclass(frozen=True)
class UnblockIssue:
    pass


@dataclass(frozen=True)
class AddDependency:
    """``blocker_waits_on`` is everything the blocker waits on, directly or transitively."""

    blocked_by_id: UUID
    blocker_waits_on: frozenset[UUID] = frozenset()


@dataclass(frozen=True)
class RemoveDependency:
    blocked_by_id: UUID


@dataclass(frozen=True)
class LinkIssue:
    kind: LinkKind
    target_id: UUID
    target_kind: TargetKind


@dataclass(frozen=True)
class UnlinkIssue:
    kind: LinkKind
    target_id: UUID


@dataclass(frozen=True)
class CommentOnIssue:
    comment_id: UUID
    author: str
    body: str


@dataclass(frozen=True)
class WatchIssue:
    member_id: UUID


@dataclass(frozen=True)
class UnwatchIssue:
    member_id: UUID


IssueCommand = (
    CreateIssue
    | EditIssue
    | ChangeIssueParent
    | AssignIssue
    | TransitionIssue
    | BlockIssue
    | UnblockIssue
    | AddDependency
    | RemoveDependency
    | LinkIssue
    | UnlinkIssue
    | CommentOnIssue
    | WatchIssue
    | UnwatchIssue
)
