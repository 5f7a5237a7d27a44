"""How each event changes the portfolio's tables; events without a handler change nothing."""

from __future__ import annotations

from typing import Any

from domain.goal import (
    GoalActivated,
    GoalClosed,
    GoalCreated,
    GoalParentChanged,
    GoalRetitled,
    KeyResultAdded,
    KeyResultCheckedIn,
)
from domain.issue import (
    IssueBlocked,
    IssueCreated,
    IssueDependencyAdded,
    IssueDependencyRemoved,
    IssueDueDateChanged,
    IssueEstimated,
    IssueLinked,
    IssuePriorityChanged,
    IssueTransitioned,
    IssueUnblocked,
    IssueUnlinked,
)
from domain.member import MemberRegistered, MemberRenamed
from domain.operation import (
    OccurrenceCompleted,
    OccurrenceScheduled,
    OccurrenceSkipped,
    OperationCreated,
    OperationPaused,
    OperationResumed,
    OperationRetired,
)
from domain.project import (
    MilestoneAdded,
    MilestoneCompleted,
    ProjectCreated,
    ProjectGoalLinked,
    ProjectHealthPosted,
    ProjectRenamed,
    ProjectRescheduled,
    ProjectStatusChanged,
)
from domain.team import TeamCreated, TeamRenamed
from services.projections.dispatch import Change, EventHandlers
from services.projections.readmodel import from_micros, iso_date
from services.projections.views.portfolio.issues import (
    change_issue,
    depend,
    link_goal,
    replace_issue,
    transition,
    unlink_goal,
)
from services.projections.views.portfolio.tables import (
    GOALS,
    ISSUES,
    MEMBERS,
    OPERATIONS,
    PROJECTS,
    TEAMS,
    dumps,
    loads,
)

HANDLERS = EventHandlers()


@HANDLERS.on(TeamCreated)
def team_created(change: Change, event: TeamCreated) -> None:
    change.put(TEAMS, {"team_id": change.subject, "name": event.name})


@HANDLERS.on(TeamRenamed)
def team_renamed(change: Change, event: TeamRenamed) -> None:
    change.put(TEAMS, {"team_id": change.subject, "name": event.name})


@HANDLERS.on(MemberRegistered)
def member_registered(change: Change, event: MemberRegistered) -> None:
    change.put(MEMBERS, {"member_id": change.subject, "name": event.name})


@HANDLERS.on(MemberRenamed)
def member_renamed(change: Change, event: MemberRenamed) -> None:
    change.put(MEMBERS, {"member_id": change.subject, "name": event.name})


# Projects


@HANDLERS.on(ProjectCreated)
def project_created(change: Change, event: ProjectCreated) -> None:
    change.put(
        PROJECTS,
        {
            "project_id": change.subject,
            "key": event.key,
            "name": event.name,
            "owner_id": str(event.owner_id),
            "team_id": str(event.team_id),
            "status": "proposed",
            "start_date": event.start_date.isoformat(),
            "target_date": event.target_date.isoformat(),
            "health": None,
            "health_note": None,
            "health_at": None,
            "goal_ids": "[]",
            "milestones": "[]",
        },
    )


def _update_project(change: Change, changes: dict[str, Any]) -> None:
    change.update(PROJECTS, (change.subject,), changes)


@HANDLERS.on(ProjectRenamed)
def project_renamed(change: Change, event: ProjectRenamed) -> None:
    _update_project(change, {"name": event.name})


@HANDLERS.on(ProjectRescheduled)
def project_rescheduled(change: Change, event: ProjectRescheduled) -> None:
    _update_project(
        change,
        {"start_date": event.start_date.isoformat(), "target_date": event.target_date.isoformat()},
    )


@HANDLERS.on(ProjectStatusChanged)
def project_status_changed(change: Change, event: ProjectStatusChanged) -> None:
    _update_project(change, {"status": event.status})


@HANDLERS.on(ProjectHealthPosted)
def project_health_posted(change: Change, event: ProjectHealthPosted) -> None:
    _update_project(
        change, {"health": event.health, "health_note": event.note, "health_at": change.at}
    )


@HANDLERS.on(ProjectGoalLinked)
def project_goal_linked(change: Change, event: ProjectGoalLinked) -> None:
    project = change.get(PROJECTS, (change.subject,))
    if project is None:
        return
    linked = loads(project["goal_ids"])
    if str(event.goal_id) not in linked:
        _update_project(change, {"goal_ids": dumps([*linked, str(event.goal_id)])})


@HANDLERS.on(MilestoneAdded)
def milestone_added(change: Change, event: MilestoneAdded) -> None:
    project = change.get(PROJECTS, (change.subject,))
    if project is None:
        return
    milestone_id = str(event.milestone_id)
    others = [m for m in loads(project["milestones"]) if m["id"] != milestone_id]
    added = {
        "id": milestone_id,
        "name": event.name,
        "due_date": event.due_date.isoformat(),
        "done": False,
        "completed_on": None,
    }
    _update_project(change, {"milestones": dumps([*others, added])})


@HANDLERS.on(MilestoneCompleted)
def milestone_completed(change: Change, event: MilestoneCompleted) -> None:
    project = change.get(PROJECTS, (change.subject,))
    if project is None:
        return
    milestone_id = str(event.milestone_id)
    completed_on = from_micros(change.at).date().isoformat()
    milestones = [
        {**m, "done": True, "completed_on": completed_on}
        if m["id"] == milestone_id and not m["done"]
        else m
        for m in loads(project["milestones"])
    ]
    _update_project(change, {"milestones": dumps(milestones)})


# Goals


@HANDLERS.on(GoalCreated)
def goal_created(change: Change, event: GoalCreated) -> None:
    change.put(
        GOALS,
        {
            "goal_id": change.subject,
            "title": event.title,
            "owner_id": str(event.owner_id),
            "team_id": str(event.team_id) if event.team_id is not None else None,
            "period_start": event.period_start.isoformat(),
            "period_end": event.period_end.isoformat(),
            "parent_id": str(event.parent_id) if event.parent_id is not None else None,
            "status": "draft",
            "key_results": "[]",
        },
    )


def _update_goal(change: Change, changes: dict[str, Any]) -> None:
    change.update(GOALS, (change.subject,), changes)


@HANDLERS.on(GoalActivated)
def goal_activated(change: Change, event: GoalActivated) -> None:
    _update_goal(change, {"status": "active"})


@HANDLERS.on(GoalClosed)
def goal_closed(change: Change, event: GoalClosed) -> None:
    _update_goal(change, {"status": event.outcome})


@HANDLERS.on(GoalRetitled)
def goal_retitled(change: Change, event: GoalRetitled) -> None:
    _update_goal(change, {"title": event.title})


@HANDLERS.on(GoalParentChanged)
def goal_parent_changed(change: Change, event: GoalParentChanged) -> None:
    parent_id = event.parent_id
    _update_goal(change, {"parent_id": str(parent_id) if parent_id is not None else None})


@HANDLERS.on(KeyResultAdded)
def key_result_added(change: Change, event: KeyResultAdded) -> None:
    goal = change.get(GOALS, (change.subject,))
    if goal is None:
        return
    kr_id = str(event.kr_id)
    others = [kr for kr in loads(goal["key_results"]) if kr["id"] != kr_id]
    added = {
        "id": kr_id,
        "title": event.title,
        "unit": event.unit,
        "start": event.start,
        "target": event.target,
        "current": event.start,
    }
    _update_goal(change, {"key_results": dumps([*others, added])})


@HANDLERS.on(KeyResultCheckedIn)
def key_result_checked_in(change: Change, event: KeyResultCheckedIn) -> None:
    goal = change.get(GOALS, (change.subject,))
    if goal is None:
        return
    kr_id = str(event.kr_id)
    key_results = [
        {**kr, "current": event.value} if kr["id"] == kr_id else kr
        for kr in loads(goal["key_results"])
    ]
    _update_goal(change, {"key_results": dumps(key_results)})


# Operations


@HANDLERS.on(OperationCreated)
def operation_created(change: Change, event: OperationCreated) -> None:
    row = {
        "operation_id": change.subject,
        "team_id": str(event.team_id),
        "status": "active",
        "open_occurrences": "{}",
        "completed": 0,
        "skipped": 0,
    }
    change.put(OPERATIONS, row)


def _update_operation(change: Change, changes: dict[str, Any]) -> None:
    change.update(OPERATIONS, (change.subject,), changes)


@HANDLERS.on(OperationPaused)
def operation_paused(change: Change, event: OperationPaused) -> None:
    _update_operation(change, {"status": "paused"})


@HANDLERS.on(OperationResumed)
def operation_resumed(change: Change, event: OperationResumed) -> None:
    _update_operation(change, {"status": "active"})


@HANDLERS.on(OperationRetired)
def operation_retired(change: Change, event: OperationRetired) -> None:
    _update_operation(change, {"status": "retired"})


@HANDLERS.on(OccurrenceScheduled)
def occurrence_scheduled(change: Change, event: OccurrenceScheduled) -> None:
    operation = change.get(OPERATIONS, (change.subject,))
    if operation is None:
        return
    scheduled = loads(operation["open_occurrences"])
    scheduled[event.due_date.isoformat()] = str(event.occurrence_id)
    _update_operation(change, {"open_occurrences": dumps(scheduled)})


def _settle_occurrence(change: Change, due_date: str, settled: str) -> None:
    """Counts the occurrence due on ``due_date`` as ``settled``, if it is still scheduled."""
    operation = change.get(OPERATIONS, (change.subject,))
    if operation is None:
        return
    scheduled = loads(operation["open_occurrences"])
    if scheduled.pop(due_date, None) is not None:
        changes = {"open_occurrences": dumps(scheduled), settled: operation[settled] + 1}
        _update_operation(change, changes)


@HANDLERS.on(OccurrenceCompleted)
def occurrence_completed(change: Change, event: OccurrenceCompleted) -> None:
    _settle_occurrence(change, event.due_date.isoformat(), "completed")


@HANDLERS.on(OccurrenceSkipped)
def occurrence_skipped(change: Change, event: OccurrenceSkipped) -> None:
    _settle_occurrence(change, event.due_date.isoformat(), "skipped")


# Issues: each change moves the issue's share between the tallies it counts in.


@HANDLERS.on(IssueCreated)
def issue_created(change: Change, event: IssueCreated) -> None:
    issue_id = change.subject
    before = change.get(ISSUES, (issue_id,))
    after = {
        "issue_id": issue_id,
        "team_id": str(event.team_id),
        "project_id": str(event.project_id) if event.project_id is not None else None,
        "kind": event.kind,
        "status": event.status,
        "priority": event.priority,
        "estimate": event.estimate,
        "due_date": iso_date(event.due_date),
        "flagged": False,
        "waiting": False,
        "blocked_by": "[]",
        "blocks": "[]",
        "goal_ids": dumps([str(goal_id) for goal_id in event.goal_ids]),
        "credited": None,
    }
    replace_issue(change, before, after)


@HANDLERS.on(IssuePriorityChanged)
def issue_priority_changed(change: Change, event: IssuePriorityChanged) -> None:
    change_issue(change, {"priority": event.priority})


@HANDLERS.on(IssueEstimated)
def issue_estimated(change: Change, event: IssueEstimated) -> None:
    change_issue(change, {"estimate": event.estimate})


@HANDLERS.on(IssueDueDateChanged)
def issue_due_date_changed(change: Change, event: IssueDueDateChanged) -> None:
    change_issue(change, {"due_date": iso_date(event.due_date)})


@HANDLERS.on(IssueBlocked)
def issue_blocked(change: Change, event: IssueBlocked) -> None:
    change_issue(change, {"flagged": True})


@HANDLERS.on(IssueUnblocked)
def issue_unblocked(change: Change, event: IssueUnblocked) -> None:
    change_issue(change, {"flagged": False})


@HANDLERS.on(IssueLinked)
def issue_linked(change: Change, event: IssueLinked) -> None:
    if event.kind == "goal":
        link_goal(change, str(event.target_id))


@HANDLERS.on(IssueUnlinked)
def issue_unlinked(change: Change, event: IssueUnlinked) -> None:
    if event.kind == "goal":
        unlink_goal(change, str(event.target_id))


@HANDLERS.on(IssueTransitioned)
def issue_transitioned(change: Change, event: IssueTransitioned) -> None:
    transition(change, event.to_status)


@HANDLERS.on(IssueDependencyAdded)
def issue_dependency_added(change: Change, event: IssueDependencyAdded) -> None:
    depend(change, str(event.blocked_by_id), added=True)


@HANDLERS.on(IssueDependencyRemoved)
def issue_dependency_removed(change: Change, event: IssueDependencyRemoved) -> None:
    depend(change, str(event.blocked_by_id), added=False)
