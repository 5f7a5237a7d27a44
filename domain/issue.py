"""Issue: the unit of work, planned (task) or unplanned (bug, incident, request)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import assert_never, get_args
from uuid import UUID

from domain.errors import (
    AlreadyExists,
    DependencyCycle,
    InvalidInput,
    InvalidTransition,
    MemberInactive,
    NotFound,
    ParentCycle,
)
from domain.issue_commands import (
    UNCHANGED,
    AddDependency,
    AssignIssue,
    BlockIssue,
    ChangeIssueParent,
    CommentOnIssue,
    CreateIssue,
    EditIssue,
    IssueCommand,
    LinkIssue,
    RemoveDependency,
    TransitionIssue,
    UnblockIssue,
    Unchanged,
    UnlinkIssue,
    UnwatchIssue,
    WatchIssue,
)
from domain.issue_events import (
    IssueAssigned,
    IssueBlocked,
    IssueCommented,
    IssueCreated,
    IssueDependencyAdded,
    IssueDependencyRemoved,
    IssueDescriptionChanged,
    IssueDueDateChanged,
    IssueEstimated,
    IssueEvent,
    IssueLabelsChanged,
    IssueLinked,
    IssueParentChanged,
    IssuePriorityChanged,
    IssueRetitled,
    IssueSeverityChanged,
    IssueTransitioned,
    IssueUnassigned,
    IssueUnblocked,
    IssueUnlinked,
    IssueWatcherAdded,
    IssueWatcherRemoved,
    Kind,
    LinkKind,
    Priority,
    Severity,
    Status,
    TargetKind,
    Upcaster,
)
from domain.rules import require_non_negative, require_text

# The issue's state and rules here, its commands from ``issue_commands`` and its events and
# kinds of value from ``issue_events``: everything about an issue is named from here.
__all__ = [
    "CLOSED_STATUSES",
    "KINDS",
    "OPEN_STATUSES",
    "PRIORITIES",
    "SEVERITIES",
    "STATUSES",
    "UNCHANGED",
    "UNPLANNED_KINDS",
    "WORKFLOW",
    "AddDependency",
    "AssignIssue",
    "BlockIssue",
    "ChangeIssueParent",
    "CommentOnIssue",
    "CreateIssue",
    "EditIssue",
    "Issue",
    "IssueAssigned",
    "IssueBlocked",
    "IssueCommand",
    "IssueCommented",
    "IssueCreated",
    "IssueDependencyAdded",
    "IssueDependencyRemoved",
    "IssueDescriptionChanged",
    "IssueDueDateChanged",
    "IssueEstimated",
    "IssueEvent",
    "IssueLabelsChanged",
    "IssueLinked",
    "IssueParentChanged",
    "IssuePriorityChanged",
    "IssueRetitled",
    "IssueSeverityChanged",
    "IssueTransitioned",
    "IssueUnassigned",
    "IssueUnblocked",
    "IssueUnlinked",
    "IssueWatcherAdded",
    "IssueWatcherRemoved",
    "Kind",
    "Link",
    "LinkIssue",
    "LinkKind",
    "Priority",
    "RemoveDependency",
    "Severity",
    "Status",
    "TargetKind",
    "TransitionIssue",
    "UnblockIssue",
    "Unchanged",
    "UnlinkIssue",
    "UnwatchIssue",
    "Upcaster",
    "WatchIssue",
    "decide",
    "evolve",
    "initial_status",
]

KINDS: tuple[Kind, ...] = get_args(Kind)
STATUSES: tuple[Status, ...] = get_args(Status)
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
UNPLANNED_KINDS: frozenset[Kind] = frozenset({"bug", "incident", "request"})
OPEN_STATUSES: frozenset[Status] = frozenset(
    {"triage", "backlog", "todo", "in_progress", "in_review"}
)
CLOSED_STATUSES: frozenset[Status] = frozenset({"done", "cancelled"})

WORKFLOW: dict[Status, frozenset[Status]] = {
    "triage": frozenset({"backlog", "todo", "cancelled"}),
    "backlog": frozenset({"todo", "in_progress", "cancelled"}),
    "todo": frozenset({"backlog", "in_progress", "cancelled"}),
    "in_progress": frozenset({"todo", "in_review", "done", "cancelled"}),
    "in_review": frozenset({"in_progress", "done", "cancelled"}),
    "done": frozenset({"todo"}),
    "cancelled": frozenset({"todo"}),
}


def initial_status(kind: Kind) -> Status:
    """Unplanned work waits in triage; planned work starts in the backlog."""
    return "triage" if kind in UNPLANNED_KINDS else "backlog"


# State


@dataclass(frozen=True)
class Link:
    kind: LinkKind
    target_id: UUID
    target_kind: TargetKind


@dataclass(frozen=True)
class Issue:
    id: UUID
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
    assignee_id: UUID | None
    blocked_reason: str | None = None
    blocked_by: frozenset[UUID] = frozenset()
    links: tuple[Link, ...] = ()
    watchers: frozenset[UUID] = frozenset()
    comment_count: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_blocked(self) -> bool:
        return self.blocked_reason is not None

    @property
    def goal_ids(self) -> tuple[UUID, ...]:
        return tuple(link.target_id for link in self.links if link.kind == "goal")


def _labels(labels: tuple[str, ...]) -> tuple[str, ...]:
    """Labels are trimmed and kept once each, in the order given."""
    cleaned: list[str] = []
    for label in labels:
        text = require_text(label, "labels")
        if text not in cleaned:
            cleaned.append(text)
    return tuple(cleaned)


def _check_severity(kind: Kind, severity: Severity | None) -> None:
    if severity is not None and kind != "incident":
        raise InvalidInput("only incidents have a severity", field="severity")


def _create(command: CreateIssue) -> list[IssueEvent]:
    require_non_negative(command.estimate, "estimate")
    _check_severity(command.kind, command.severity)
    if command.assignee_id is not None and not command.assignee_active:
        raise MemberInactive("work can't be assigned to a deactivated member", field="assignee_id")
    if command.parent_id == command.issue_id:
        raise ParentCycle("an issue can't be its own parent", field="parent_id")
    return [
        IssueCreated(
            issue_id=command.issue_id,
            kind=command.kind,
            title=require_text(command.title, "title"),
            description=command.description,
            team_id=command.team_id,
            project_id=command.project_id,
            number=command.number,
            key=command.key,
            status=initial_status(command.kind),
            priority=command.priority,
            severity=command.severity,
            estimate=command.estimate,
            due_date=command.due_date,
            labels=_labels(command.labels),
            parent_id=command.parent_id,
            goal_ids=tuple(dict.fromkeys(command.goal_ids)),
            assignee_id=command.assignee_id,
        )
    ]


def _edit(command: EditIssue, state: Issue) -> list[IssueEvent]:
    events: list[IssueEvent] = []
    if not isinstance(command.title, Unchanged):
        title = require_text(command.title, "title")
        if title != state.title:
            events.append(IssueRetitled(title))
    description = command.description
    if not isinstance(description, Unchanged) and description != state.description:
        events.append(IssueDescriptionChanged(description))
    if not isinstance(command.priority, Unchanged) and command.priority != state.priority:
        events.append(IssuePriorityChanged(command.priority))
    if not isinstance(command.severity, Unchanged):
        _check_severity(state.kind, command.severity)
        if command.severity != state.severity:
            events.append(IssueSeverityChanged(command.severity))
    if not isinstance(command.estimate, Unchanged):
        require_non_negative(command.estimate, "estimate")
        if command.estimate != state.estimate:
            events.append(IssueEstimated(command.estimate))
    if not isinstance(command.due_date, Unchanged) and command.due_date != state.due_date:
        events.append(IssueDueDateChanged(command.due_date))
    if not isinstance(command.labels, Unchanged):
        labels = _labels(command.labels)
        if labels != state.labels:
            events.append(IssueLabelsChanged(labels))
    return events


def decide(command: IssueCommand, state: Issue | None, now: datetime) -> list[IssueEvent]:
    """The events that ``command`` causes on an issue in ``state``."""
    if isinstance(command, CreateIssue):
        if state is not None:
            raise AlreadyExists("the issue exists already")
        return _create(command)
    if state is None:
        raise NotFound("no such issue")
    match command:
        case EditIssue():
            return _edit(command, state)
        case ChangeIssueParent(parent_id=parent_id, parent_ancestors=ancestors):
            if parent_id == state.parent_id:
                return []
            if parent_id == state.id or state.id in ancestors:
                raise ParentCycle(
                    "the new parent is this issue or one of its sub-issues", field="parent_id"
                )
            return [IssueParentChanged(parent_id)]
        case AssignIssue(assignee_id=assignee_id, assignee_active=active):
            if assignee_id is None:
                return [] if state.assignee_id is None else [IssueUnassigned()]
            if not active:
                raise MemberInactive(
                    "work can't be assigned to a deactivated member", field="assignee_id"
                )
            return [] if assignee_id == state.assignee_id else [IssueAssigned(assignee_id)]
        case TransitionIssue(status=status):
            if status not in WORKFLOW[state.status]:
                raise InvalidTransition(
                    f"an issue can't move from {state.status} to {status}", field="status"
                )
            return [IssueTransitioned(state.status, status)]
        case BlockIssue(reason=reason):
            reason = require_text(reason, "reason")
            return [] if reason == state.blocked_reason else [IssueBlocked(reason)]
        case UnblockIssue():
            return [IssueUnblocked()] if state.is_blocked else []
        case AddDependency(blocked_by_id=blocker, blocker_waits_on=waits_on):
            if blocker == state.id:
                raise DependencyCycle("an issue can't be blocked by itself", field="blocked_by_id")
            if state.id in waits_on:
                raise DependencyCycle(
                    "the blocker already waits on this issue", field="blocked_by_id"
                )
            return [] if blocker in state.blocked_by else [IssueDependencyAdded(blocker)]
        case RemoveDependency(blocked_by_id=blocker):
            if blocker not in state.blocked_by:
                raise NotFound("the issue is not blocked by that issue", field="blocked_by_id")
            return [IssueDependencyRemoved(blocker)]
        case LinkIssue(kind=kind, target_id=target_id, target_kind=target_kind):
            if kind == "goal" and target_kind != "goal":
                raise InvalidInput("a goal link must point at a goal", field="target_id")
            if any(link.kind == kind and link.target_id == target_id for link in state.links):
                return []
            return [IssueLinked(kind, target_id, target_kind)]
        case UnlinkIssue(kind=kind, target_id=target_id):
            if not any(link.kind == kind and link.target_id == target_id for link in state.links):
                raise NotFound("the issue has no such link", field="target_id")
            return [IssueUnlinked(kind, target_id)]
        case CommentOnIssue(comment_id=comment_id, author=author, body=body):
            return [IssueCommented(comment_id, author, require_text(body, "body"))]
        case WatchIssue(member_id=member_id):
            return [] if member_id in state.watchers else [IssueWatcherAdded(member_id)]
        case UnwatchIssue(member_id=member_id):
            return [IssueWatcherRemoved(member_id)] if member_id in state.watchers else []
        case _:
            assert_never(command)


def evolve(state: Issue | None, event: IssueEvent) -> Issue | None:
    """The issue after ``event``."""
    if isinstance(event, IssueCreated):
        return Issue(
            id=event.issue_id,
            kind=event.kind,
            title=event.title,
            description=event.description,
            team_id=event.team_id,
            project_id=event.project_id,
            number=event.number,
            key=event.key,
            status=event.status,
            priority=event.priority,
            severity=event.severity,
            estimate=event.estimate,
            due_date=event.due_date,
            labels=event.labels,
            parent_id=event.parent_id,
            assignee_id=event.assignee_id,
            links=tuple(Link("goal", goal_id, "goal") for goal_id in event.goal_ids),
        )
    if state is None:
        return None
    match event:
        case IssueRetitled(title=title):
            return replace(state, title=title)
        case IssueDescriptionChanged(description=description):
            return replace(state, description=description)
        case IssuePriorityChanged(priority=priority):
            return replace(state, priority=priority)
        case IssueSeverityChanged(severity=severity):
            return replace(state, severity=severity)
        case IssueEstimated(estimate=estimate):
            return replace(state, estimate=estimate)
        case IssueDueDateChanged(due_date=due_date):
            return replace(state, due_date=due_date)
        case IssueLabelsChanged(labels=labels):
            return replace(state, labels=labels)
        case IssueParentChanged(parent_id=parent_id):
            return replace(state, parent_id=parent_id)
        case IssueAssigned(assignee_id=assignee_id):
            return replace(state, assignee_id=assignee_id)
        case IssueUnassigned():
            return replace(state, assignee_id=None)
        case IssueTransitioned(to_status=status):
            return replace(state, status=status)
        case IssueBlocked(reason=reason):
            return replace(state, blocked_reason=reason)
        case IssueUnblocked():
            return replace(state, blocked_reason=None)
        case IssueDependencyAdded(blocked_by_id=blocker):
            return replace(state, blocked_by=state.blocked_by | {blocker})
        case IssueDependencyRemoved(blocked_by_id=blocker):
            return replace(state, blocked_by=state.blocked_by - {blocker})
        case IssueLinked(kind=kind, target_id=target_id, target_kind=target_kind):
            return replace(state, links=(*state.links, Link(kind, target_id, target_kind)))
        case IssueUnlinked(kind=kind, target_id=target_id):
            kept = tuple(
                link
                for link in state.links
                if not (link.kind == kind and link.target_id == target_id)
            )
            return replace(state, links=kept)
        case IssueCommented():
            return replace(state, comment_count=state.comment_count + 1)
        case IssueWatcherAdded(member_id=member_id):
            return replace(state, watchers=state.watchers | {member_id})
        case IssueWatcherRemoved(member_id=member_id):
            return replace(state, watchers=state.watchers - {member_id})
        case _:
            assert_never(event)
