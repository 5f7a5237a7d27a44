"""How each event changes the workload's tables: one typed handler per event class."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.issue import (
    OPEN_STATUSES,
    IssueAssigned,
    IssueBlocked,
    IssueCreated,
    IssueDueDateChanged,
    IssueEstimated,
    IssueTransitioned,
    IssueUnassigned,
    IssueUnblocked,
)
from domain.member import (
    MemberCapacitySet,
    MemberDeactivated,
    MemberReactivated,
    MemberRegistered,
    MemberRenamed,
    MemberRoleChanged,
)
from domain.operation import (
    OccurrenceCompleted,
    OccurrenceScheduled,
    OccurrenceSkipped,
    OperationCreated,
)
from domain.team import (
    TeamCapacitySet,
    TeamCreated,
    TeamMemberAdded,
    TeamMemberRemoved,
    TeamRenamed,
)
from services.projections.dispatch import Change, EventHandlers
from services.projections.readmodel import Row, iso_date
from services.projections.views.workload.tables import (
    ITEMS,
    MEMBERS,
    MEMBERSHIPS,
    OCCURRENCE,
    OPERATIONS,
    TEAMS,
    THROUGHPUT,
    to_micropoints,
)
from services.projections.views.workload.totals import save_item

HANDLERS = EventHandlers()


def _change_item(change: Change, item_id: str, changes: Row) -> Row | None:
    before = change.get(ITEMS, (item_id,))
    if before is None:
        return None
    after = {**before, **changes}
    if after != before:
        save_item(change, before, after)
    return before


def _week_start(moment: datetime) -> date:
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _record_completion(change: Change, item: Row) -> None:
    week_start = _week_start(change.event.metadata.occurred_at).isoformat()
    points = to_micropoints(item["estimate"])
    for owner in (item["team_id"], item["assignee_id"]):
        if owner is None:
            continue
        week = change.get(THROUGHPUT, (owner, week_start))
        change.put(
            THROUGHPUT,
            {
                "owner_id": owner,
                "week_start": week_start,
                "completed": (week["completed"] if week else 0) + 1,
                "micropoints": (week["micropoints"] if week else 0) + points,
            },
        )


@HANDLERS.on(TeamCreated)
def team_created(change: Change, event: TeamCreated) -> None:
    change.put(
        TEAMS,
        {
            "team_id": str(event.team_id),
            "name": event.name,
            "weekly_capacity": event.weekly_capacity,
        },
    )


@HANDLERS.on(TeamRenamed)
def team_renamed(change: Change, event: TeamRenamed) -> None:
    change.update(TEAMS, (change.subject,), {"name": event.name})


@HANDLERS.on(TeamCapacitySet)
def team_capacity_set(change: Change, event: TeamCapacitySet) -> None:
    change.update(TEAMS, (change.subject,), {"weekly_capacity": event.weekly_capacity})


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
            "member_id": str(event.member_id),
            "name": event.name,
            "role": event.role,
            "weekly_capacity": event.weekly_capacity,
            "active": True,
        },
    )


@HANDLERS.on(MemberRenamed)
def member_renamed(change: Change, event: MemberRenamed) -> None:
    change.update(MEMBERS, (change.subject,), {"name": event.name})


@HANDLERS.on(MemberRoleChanged)
def member_role_changed(change: Change, event: MemberRoleChanged) -> None:
    change.update(MEMBERS, (change.subject,), {"role": event.role})


@HANDLERS.on(MemberCapacitySet)
def member_capacity_set(change: Change, event: MemberCapacitySet) -> None:
    change.update(MEMBERS, (change.subject,), {"weekly_capacity": event.weekly_capacity})


@HANDLERS.on(MemberDeactivated)
def member_deactivated(change: Change, _: MemberDeactivated) -> None:
    change.update(MEMBERS, (change.subject,), {"active": False})


@HANDLERS.on(MemberReactivated)
def member_reactivated(change: Change, _: MemberReactivated) -> None:
    change.update(MEMBERS, (change.subject,), {"active": True})


@HANDLERS.on(IssueCreated)
def issue_created(change: Change, event: IssueCreated) -> None:
    item = {
        "item_id": str(event.issue_id),
        "kind": event.kind,
        "team_id": str(event.team_id),
        "assignee_id": str(event.assignee_id) if event.assignee_id else None,
        "status": event.status,
        "is_open": event.status in OPEN_STATUSES,
        "estimate": event.estimate,
        "due_date": iso_date(event.due_date),
        "blocked": False,
    }
    save_item(change, change.get(ITEMS, (item["item_id"],)), item)


@HANDLERS.on(IssueEstimated)
def issue_estimated(change: Change, event: IssueEstimated) -> None:
    _change_item(change, change.subject, {"estimate": event.estimate})


@HANDLERS.on(IssueDueDateChanged)
def issue_due_date_changed(change: Change, event: IssueDueDateChanged) -> None:
    _change_item(change, change.subject, {"due_date": iso_date(event.due_date)})


@HANDLERS.on(IssueAssigned)
def issue_assigned(change: Change, event: IssueAssigned) -> None:
    _change_item(change, change.subject, {"assignee_id": str(event.assignee_id)})


@HANDLERS.on(IssueUnassigned)
def issue_unassigned(change: Change, _: IssueUnassigned) -> None:
    _change_item(change, change.subject, {"assignee_id": None})


@HANDLERS.on(IssueTransitioned)
def issue_transitioned(change: Change, event: IssueTransitioned) -> None:
    status = event.to_status
    before = _change_item(
        change, change.subject, {"status": status, "is_open": status in OPEN_STATUSES}
    )
    if before is not None and status == "done":
        _record_completion(change, before)


@HANDLERS.on(IssueBlocked)
def issue_blocked(change: Change, _: IssueBlocked) -> None:
    _change_item(change, change.subject, {"blocked": True})


@HANDLERS.on(IssueUnblocked)
def issue_unblocked(change: Change, _: IssueUnblocked) -> None:
    _change_item(change, change.subject, {"blocked": False})


@HANDLERS.on(OperationCreated)
def operation_created(change: Change, event: OperationCreated) -> None:
    change.put(OPERATIONS, {"operation_id": str(event.operation_id), "team_id": str(event.team_id)})


@HANDLERS.on(OccurrenceScheduled)
def occurrence_scheduled(change: Change, event: OccurrenceScheduled) -> None:
    operation = change.get(OPERATIONS, (change.subject,))
    if operation is None:
        return
    item = {
        "item_id": str(event.occurrence_id),
        "kind": OCCURRENCE,
        "team_id": operation["team_id"],
        "assignee_id": str(event.assignee_id) if event.assignee_id else None,
        "status": "scheduled",
        "is_open": True,
        "estimate": event.estimate,
        "due_date": iso_date(event.due_date),
        "blocked": False,
    }
    save_item(change, change.get(ITEMS, (item["item_id"],)), item)


@HANDLERS.on(OccurrenceCompleted)
def occurrence_completed(change: Change, event: OccurrenceCompleted) -> None:
    changes = {"status": "completed", "is_open": False}
    before = _change_item(change, str(event.occurrence_id), changes)
    if before is not None and before["is_open"]:
        _record_completion(change, before)


@HANDLERS.on(OccurrenceSkipped)
def occurrence_skipped(change: Change, event: OccurrenceSkipped) -> None:
    _change_item(change, str(event.occurrence_id), {"status": "skipped", "is_open": False})
