"""How teams, members, goals, projects and operations change the insights' facts, and the view's
handlers (``HANDLERS``), issues' from ``item_handlers`` included. Events without a handler
change nothing."""

from __future__ import annotations

from typing import Any

from domain.goal import (
    GoalActivated,
    GoalClosed,
    GoalCreated,
    GoalRetitled,
    KeyResultAdded,
    KeyResultCheckedIn,
    mean_progress,
    progress_between,
)
from domain.member import (
    MemberCapacitySet,
    MemberDeactivated,
    MemberReactivated,
    MemberRegistered,
    MemberRenamed,
)
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
    ProjectCreated,
    ProjectGoalLinked,
    ProjectHealthPosted,
    ProjectRenamed,
    ProjectRescheduled,
    ProjectStatusChanged,
)
from domain.team import (
    TeamCapacitySet,
    TeamCreated,
    TeamMemberAdded,
    TeamMemberRemoved,
    TeamRenamed,
)
from services.projections.dispatch import Change, EventHandlers
from services.projections.readmodel import iso_date
from services.projections.views.insights.item_handlers import ITEM_HANDLERS
from services.projections.views.insights.tables import (
    GOALS,
    ITEMS,
    MEMBERS,
    MEMBERSHIPS,
    OCCURRENCE,
    OPERATIONS,
    PROJECT_GOALS,
    PROJECTS,
    TEAMS,
    dumps,
    loads,
)

HANDLERS = EventHandlers()


# Teams and members


@HANDLERS.on(TeamCreated)
def team_created(change: Change, event: TeamCreated) -> None:
    change.put(
        TEAMS,
        {
            "team_id": change.subject,
            "name": event.name,
            "weekly_capacity": event.weekly_capacity,
            "capacity_position": change.event.position,
        },
    )


@HANDLERS.on(TeamRenamed)
def team_renamed(change: Change, event: TeamRenamed) -> None:
    change.update(TEAMS, (change.subject,), {"name": event.name})


@HANDLERS.on(TeamCapacitySet)
def team_capacity_set(change: Change, event: TeamCapacitySet) -> None:
    changes = {"weekly_capacity": event.weekly_capacity, "capacity_position": change.event.position}
    change.update(TEAMS, (change.subject,), changes)


@HANDLERS.on(TeamMemberAdded)
def team_member_added(change: Change, event: TeamMemberAdded) -> None:
    change.put(MEMBERSHIPS, {"team_id": change.subject, "member_id": str(event.member_id)})


@HANDLERS.on(TeamMemberRemoved)
def team_member_removed(change: Change, event: TeamMemberRemoved) -> None:
    change.delete(MEMBERSHIPS, (change.subject, str(event.member_id)))


@HANDLERS.on(MemberRegistered)
def member_registered(change: Change, event: MemberRegistered) -> None:
    change.put(
        MEMBERS,
        {
            "member_id": change.subject,
            "name": event.name,
            "weekly_capacity": event.weekly_capacity,
            "active": True,
            "capacity_position": change.event.position,
        },
    )


@HANDLERS.on(MemberRenamed)
def member_renamed(change: Change, event: MemberRenamed) -> None:
    change.update(MEMBERS, (change.subject,), {"name": event.name})


@HANDLERS.on(MemberCapacitySet)
def member_capacity_set(change: Change, event: MemberCapacitySet) -> None:
    changes = {"weekly_capacity": event.weekly_capacity, "capacity_position": change.event.position}
    change.update(MEMBERS, (change.subject,), changes)


@HANDLERS.on(MemberDeactivated)
def member_deactivated(change: Change, _: MemberDeactivated) -> None:
    change.update(MEMBERS, (change.subject,), {"active": False})


@HANDLERS.on(MemberReactivated)
def member_reactivated(change: Change, _: MemberReactivated) -> None:
    change.update(MEMBERS, (change.subject,), {"active": True})


# Goals


@HANDLERS.on(GoalCreated)
def goal_created(change: Change, event: GoalCreated) -> None:
    change.put(
        GOALS,
        {
            "goal_id": change.subject,
            "title": event.title,
            "status": "draft",
            "team_id": str(event.team_id) if event.team_id else None,
            "owner_id": str(event.owner_id),
            "period_start": event.period_start.isoformat(),
            "period_end": event.period_end.isoformat(),
            "key_results": "[]",
            "progress": None,
            "progress_at": change.at,
            "activated_at": None,
            "activated_position": None,
        },
    )


@HANDLERS.on(GoalRetitled)
def goal_retitled(change: Change, event: GoalRetitled) -> None:
    change.update(GOALS, (change.subject,), {"title": event.title})


@HANDLERS.on(GoalActivated)
def goal_activated(change: Change, _: GoalActivated) -> None:
    changes = {
        "status": "active",
        "activated_at": change.at,
        "activated_position": change.event.position,
    }
    change.update(GOALS, (change.subject,), changes)


@HANDLERS.on(GoalClosed)
def goal_closed(change: Change, event: GoalClosed) -> None:
    change.update(GOALS, (change.subject,), {"status": event.outcome})


def _key_results(change: Change, edit: Any) -> None:
    """Applies ``edit`` to the goal's key results and keeps its progress (the mean of theirs)
    with the moment it last moved."""
    goal = change.get(GOALS, (change.subject,))
    if goal is None:
        return
    key_results = edit(loads(goal["key_results"]))
    progress = mean_progress([kr["progress"] for kr in key_results])
    changes: dict[str, Any] = {"key_results": dumps(key_results), "progress": progress}
    if progress != goal["progress"]:
        changes["progress_at"] = change.at
    change.update(GOALS, (change.subject,), changes)


@HANDLERS.on(KeyResultAdded)
def key_result_added(change: Change, event: KeyResultAdded) -> None:
    added = {
        "id": str(event.kr_id),
        "title": event.title,
        "start": event.start,
        "target": event.target,
        "current": event.start,
        "progress": 0.0,
        "at": change.at,
        "position": change.event.position,
    }
    _key_results(change, lambda krs: [*(kr for kr in krs if kr["id"] != added["id"]), added])


@HANDLERS.on(KeyResultCheckedIn)
def key_result_checked_in(change: Change, event: KeyResultCheckedIn) -> None:
    kr_id = str(event.kr_id)

    def check_in(krs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            kr
            | {
                "current": event.value,
                "progress": progress_between(kr["start"], kr["target"], event.value),
                "at": change.at,
                "position": change.event.position,
            }
            if kr["id"] == kr_id
            else kr
            for kr in krs
        ]

    _key_results(change, check_in)


# Projects


@HANDLERS.on(ProjectCreated)
def project_created(change: Change, event: ProjectCreated) -> None:
    change.put(
        PROJECTS,
        {
            "project_id": change.subject,
            "key": event.key,
            "name": event.name,
            "team_id": str(event.team_id),
            "owner_id": str(event.owner_id),
            "status": "proposed",
            "target_date": event.target_date.isoformat(),
            "target_position": change.event.position,
            "health": None,
            "health_note": None,
            "health_at": None,
            "health_position": None,
            "open_issues": 0,
        },
    )


@HANDLERS.on(ProjectRenamed)
def project_renamed(change: Change, event: ProjectRenamed) -> None:
    change.update(PROJECTS, (change.subject,), {"name": event.name})


@HANDLERS.on(ProjectRescheduled)
def project_rescheduled(change: Change, event: ProjectRescheduled) -> None:
    changes = {
        "target_date": event.target_date.isoformat(),
        "target_position": change.event.position,
    }
    change.update(PROJECTS, (change.subject,), changes)


@HANDLERS.on(ProjectStatusChanged)
def project_status_changed(change: Change, event: ProjectStatusChanged) -> None:
    change.update(PROJECTS, (change.subject,), {"status": event.status})


@HANDLERS.on(ProjectHealthPosted)
def project_health_posted(change: Change, event: ProjectHealthPosted) -> None:
    changes = {
        "health": event.health,
        "health_note": event.note,
        "health_at": change.at,
        "health_position": change.event.position,
    }
    change.update(PROJECTS, (change.subject,), changes)


@HANDLERS.on(ProjectGoalLinked)
def project_goal_linked(change: Change, event: ProjectGoalLinked) -> None:
    key = (change.subject, str(event.goal_id))
    if change.get(PROJECT_GOALS, key) is None:
        change.put(
            PROJECT_GOALS,
            {
                "project_id": key[0],
                "goal_id": key[1],
                "linked_at": change.at,
                "linked_position": change.event.position,
            },
        )


# Operations and their occurrences


@HANDLERS.on(OperationCreated)
def operation_created(change: Change, event: OperationCreated) -> None:
    change.put(
        OPERATIONS,
        {
            "operation_id": change.subject,
            "title": event.title,
            "team_id": str(event.team_id),
            "owner_id": str(event.owner_id),
            "status": "active",
        },
    )


@HANDLERS.on(OperationPaused)
def operation_paused(change: Change, _: OperationPaused) -> None:
    change.update(OPERATIONS, (change.subject,), {"status": "paused"})


@HANDLERS.on(OperationResumed)
def operation_resumed(change: Change, _: OperationResumed) -> None:
    change.update(OPERATIONS, (change.subject,), {"status": "active"})


@HANDLERS.on(OperationRetired)
def operation_retired(change: Change, _: OperationRetired) -> None:
    change.update(OPERATIONS, (change.subject,), {"status": "retired"})


@HANDLERS.on(OccurrenceScheduled)
def occurrence_scheduled(change: Change, event: OccurrenceScheduled) -> None:
    operation = change.get(OPERATIONS, (change.subject,))
    if operation is None:
        return
    at, position = change.at, change.event.position
    change.put(
        ITEMS,
        {
            "item_id": str(event.occurrence_id),
            "kind": OCCURRENCE,
            "key": None,
            "title": f"{operation['title']} ({event.due_date.isoformat()})",
            "team_id": operation["team_id"],
            "project_id": None,
            "operation_id": change.subject,
            "assignee_id": str(event.assignee_id) if event.assignee_id else None,
            "status": "scheduled",
            "is_open": True,
            "priority": None,
            "priority_position": None,
            "severity": None,
            "severity_position": None,
            "estimate": event.estimate,
            "due_date": iso_date(event.due_date),
            "due_position": position,
            "due_moves": 0,
            "due_move_positions": "[]",
            "due_move_times": "[]",
            "flagged": False,
            "flagged_reason": None,
            "flagged_at": None,
            "flagged_position": None,
            "waiting_positions": "{}",
            "waiting_since": "{}",
            "waiting": 0,
            "blocks": "[]",
            "created_at": at,
            "created_position": position,
            "started_at": None,
            "started_position": None,
            "status_since": at,
            "status_position": position,
            "status_time": "{}",
            "reopens": 0,
            "reopen_positions": "[]",
            "finished_at": None,
            "last_event_at": at,
            "last_event_position": position,
            "load_changed_at": at,
        },
    )


def _finish_occurrence(change: Change, occurrence_id: str, status: str) -> None:
    key = (occurrence_id,)
    occurrence = change.get(ITEMS, key)
    if occurrence is None or not occurrence["is_open"]:
        return
    at, position = change.at, change.event.position
    change.update(
        ITEMS,
        key,
        {
            "status": status,
            "is_open": False,
            "status_since": at,
            "status_position": position,
            "finished_at": at,
            "last_event_at": at,
            "last_event_position": position,
            "load_changed_at": at,
        },
    )


@HANDLERS.on(OccurrenceCompleted)
def occurrence_completed(change: Change, event: OccurrenceCompleted) -> None:
    _finish_occurrence(change, str(event.occurrence_id), "completed")


@HANDLERS.on(OccurrenceSkipped)
def occurrence_skipped(change: Change, event: OccurrenceSkipped) -> None:
    _finish_occurrence(change, str(event.occurrence_id), "skipped")


HANDLERS.include(ITEM_HANDLERS)
