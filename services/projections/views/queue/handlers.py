"""How each event changes the queue's tables: one typed handler per event class."""

from __future__ import annotations

from domain.goal import GoalActivated, GoalClosed, GoalCreated, GoalRetitled
from domain.issue import (
    OPEN_STATUSES,
    IssueAssigned,
    IssueBlocked,
    IssueCreated,
    IssueDependencyAdded,
    IssueDependencyRemoved,
    IssueDueDateChanged,
    IssueEstimated,
    IssueLinked,
    IssuePriorityChanged,
    IssueRetitled,
    IssueTransitioned,
    IssueUnassigned,
    IssueUnblocked,
    IssueUnlinked,
    IssueWatcherAdded,
    IssueWatcherRemoved,
)
from domain.member import MemberDeactivated, MemberReactivated, MemberRegistered, MemberRenamed
from domain.operation import (
    OccurrenceCompleted,
    OccurrenceScheduled,
    OccurrenceSkipped,
    OperationCreated,
)
from domain.project import ProjectCreated, ProjectGoalLinked, ProjectRenamed
from services.projections.dispatch import Change, EventHandlers
from services.projections.readmodel import Row, iso_date
from services.projections.views.queue.tables import (
    ACTIVE_GOAL,
    DEPENDENCIES,
    GOALS,
    ITEMS,
    MEMBERS,
    OCCURRENCE,
    OPERATIONS,
    PROJECTS,
    id_list,
    ids_in,
)

HANDLERS = EventHandlers()


def _with(text: str | None, value: str) -> str:
    ids = ids_in(text)
    return id_list(ids if value in ids else [*ids, value])


def _without(text: str | None, value: str) -> str:
    return id_list([known for known in ids_in(text) if known != value])


@HANDLERS.on(MemberRegistered)
def member_registered(change: Change, event: MemberRegistered) -> None:
    change.put(MEMBERS, {"member_id": str(event.member_id), "name": event.name, "active": True})


@HANDLERS.on(MemberRenamed)
def member_renamed(change: Change, event: MemberRenamed) -> None:
    change.update(MEMBERS, (change.subject,), {"name": event.name})


@HANDLERS.on(MemberDeactivated)
def member_deactivated(change: Change, _: MemberDeactivated) -> None:
    change.update(MEMBERS, (change.subject,), {"active": False})


@HANDLERS.on(MemberReactivated)
def member_reactivated(change: Change, _: MemberReactivated) -> None:
    change.update(MEMBERS, (change.subject,), {"active": True})


@HANDLERS.on(GoalCreated)
def goal_created(change: Change, event: GoalCreated) -> None:
    change.put(GOALS, {"goal_id": str(event.goal_id), "title": event.title, "status": "draft"})


@HANDLERS.on(GoalRetitled)
def goal_retitled(change: Change, event: GoalRetitled) -> None:
    change.update(GOALS, (change.subject,), {"title": event.title})


@HANDLERS.on(GoalActivated)
def goal_activated(change: Change, _: GoalActivated) -> None:
    change.update(GOALS, (change.subject,), {"status": ACTIVE_GOAL})


@HANDLERS.on(GoalClosed)
def goal_closed(change: Change, event: GoalClosed) -> None:
    change.update(GOALS, (change.subject,), {"status": event.outcome})


@HANDLERS.on(ProjectCreated)
def project_created(change: Change, event: ProjectCreated) -> None:
    change.put(
        PROJECTS,
        {
            "project_id": str(event.project_id),
            "key": event.key,
            "name": event.name,
            "goal_ids": id_list([]),
        },
    )


@HANDLERS.on(ProjectRenamed)
def project_renamed(change: Change, event: ProjectRenamed) -> None:
    change.update(PROJECTS, (change.subject,), {"name": event.name})


@HANDLERS.on(ProjectGoalLinked)
def project_goal_linked(change: Change, event: ProjectGoalLinked) -> None:
    project = change.get(PROJECTS, (change.subject,))
    if project is not None:
        goal_ids = _with(project["goal_ids"], str(event.goal_id))
        change.update(PROJECTS, (change.subject,), {"goal_ids": goal_ids})


@HANDLERS.on(OperationCreated)
def operation_created(change: Change, event: OperationCreated) -> None:
    change.put(OPERATIONS, {"operation_id": str(event.operation_id), "title": event.title})


@HANDLERS.on(IssueCreated)
def issue_created(change: Change, event: IssueCreated) -> None:
    change.put(
        ITEMS,
        {
            "item_id": str(event.issue_id),
            "kind": event.kind,
            "assignee_id": str(event.assignee_id) if event.assignee_id else None,
            "is_open": event.status in OPEN_STATUSES,
            "status": event.status,
            "title": event.title,
            "priority": event.priority,
            "due_date": iso_date(event.due_date),
            "estimate": event.estimate,
            "project_id": str(event.project_id) if event.project_id else None,
            "key": event.key,
            "operation_id": None,
            "goal_ids": id_list([str(goal_id) for goal_id in event.goal_ids]),
            "affected_goal_ids": id_list([]),
            "blocked_reason": None,
            "watchers": id_list([]),
            "created": change.at,
        },
    )


def _change_issue(change: Change, changes: Row) -> None:
    change.update(ITEMS, (change.subject,), changes)


@HANDLERS.on(IssueRetitled)
def issue_retitled(change: Change, event: IssueRetitled) -> None:
    _change_issue(change, {"title": event.title})


@HANDLERS.on(IssuePriorityChanged)
def issue_priority_changed(change: Change, event: IssuePriorityChanged) -> None:
    _change_issue(change, {"priority": event.priority})


@HANDLERS.on(IssueEstimated)
def issue_estimated(change: Change, event: IssueEstimated) -> None:
    _change_issue(change, {"estimate": event.estimate})


@HANDLERS.on(IssueDueDateChanged)
def issue_due_date_changed(change: Change, event: IssueDueDateChanged) -> None:
    _change_issue(change, {"due_date": iso_date(event.due_date)})


@HANDLERS.on(IssueAssigned)
def issue_assigned(change: Change, event: IssueAssigned) -> None:
    _change_issue(change, {"assignee_id": str(event.assignee_id)})


@HANDLERS.on(IssueUnassigned)
def issue_unassigned(change: Change, _: IssueUnassigned) -> None:
    _change_issue(change, {"assignee_id": None})


@HANDLERS.on(IssueTransitioned)
def issue_transitioned(change: Change, event: IssueTransitioned) -> None:
    status = event.to_status
    _change_issue(change, {"status": status, "is_open": status in OPEN_STATUSES})


@HANDLERS.on(IssueBlocked)
def issue_blocked(change: Change, event: IssueBlocked) -> None:
    _change_issue(change, {"blocked_reason": event.reason})


@HANDLERS.on(IssueUnblocked)
def issue_unblocked(change: Change, _: IssueUnblocked) -> None:
    _change_issue(change, {"blocked_reason": None})


@HANDLERS.on(IssueDependencyAdded)
def issue_dependency_added(change: Change, event: IssueDependencyAdded) -> None:
    change.put(DEPENDENCIES, {"blocker_id": str(event.blocked_by_id), "blocked_id": change.subject})


@HANDLERS.on(IssueDependencyRemoved)
def issue_dependency_removed(change: Change, event: IssueDependencyRemoved) -> None:
    change.delete(DEPENDENCIES, (str(event.blocked_by_id), change.subject))


def _link_column(kind: str, target_kind: str) -> str | None:
    if kind == "goal":
        return "goal_ids"
    return "affected_goal_ids" if target_kind == "goal" else None


@HANDLERS.on(IssueLinked)
def issue_linked(change: Change, event: IssueLinked) -> None:
    column = _link_column(event.kind, event.target_kind)
    issue = change.get(ITEMS, (change.subject,))
    if column is not None and issue is not None:
        _change_issue(change, {column: _with(issue[column], str(event.target_id))})


@HANDLERS.on(IssueUnlinked)
def issue_unlinked(change: Change, event: IssueUnlinked) -> None:
    # An "affects" link may point at a project or operation; removing an absent id is a no-op.
    column = "goal_ids" if event.kind == "goal" else "affected_goal_ids"
    issue = change.get(ITEMS, (change.subject,))
    if issue is not None:
        _change_issue(change, {column: _without(issue[column], str(event.target_id))})


@HANDLERS.on(IssueWatcherAdded)
def issue_watcher_added(change: Change, event: IssueWatcherAdded) -> None:
    issue = change.get(ITEMS, (change.subject,))
    if issue is not None:
        watchers = sorted({*ids_in(issue["watchers"]), str(event.member_id)})
        _change_issue(change, {"watchers": id_list(watchers)})


@HANDLERS.on(IssueWatcherRemoved)
def issue_watcher_removed(change: Change, event: IssueWatcherRemoved) -> None:
    issue = change.get(ITEMS, (change.subject,))
    if issue is not None:
        _change_issue(change, {"watchers": _without(issue["watchers"], str(event.member_id))})


@HANDLERS.on(OccurrenceScheduled)
def occurrence_scheduled(change: Change, event: OccurrenceScheduled) -> None:
    operation = change.get(OPERATIONS, (change.subject,))
    if operation is None:
        return
    change.put(
        ITEMS,
        {
            "item_id": str(event.occurrence_id),
            "kind": OCCURRENCE,
            "assignee_id": str(event.assignee_id) if event.assignee_id else None,
            "is_open": True,
            "status": "scheduled",
            "title": operation["title"],
            "priority": "none",
            "due_date": iso_date(event.due_date),
            "estimate": event.estimate,
            "project_id": None,
            "key": None,
            "operation_id": change.subject,
            "goal_ids": id_list([]),
            "affected_goal_ids": id_list([]),
            "blocked_reason": None,
            "watchers": id_list([]),
            "created": change.at,
        },
    )


@HANDLERS.on(OccurrenceCompleted)
def occurrence_completed(change: Change, event: OccurrenceCompleted) -> None:
    changes = {"status": "completed", "is_open": False}
    change.update(ITEMS, (str(event.occurrence_id),), changes)


@HANDLERS.on(OccurrenceSkipped)
def occurrence_skipped(change: Change, event: OccurrenceSkipped) -> None:
    changes = {"status": "skipped", "is_open": False}
    change.update(ITEMS, (str(event.occurrence_id),), changes)
