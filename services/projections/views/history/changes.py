"""The fields of each kind of object, and how each event changes them.

The field model is this view's own, not the entity view's: entries are hashed, so what an entry
says must not change when another view's shape does, or a rebuild would break the chain.

An object's fields are kept per part (``part_of``): the object itself (``MAIN``), and each key
result, milestone and occurrence under its path, so a check-in does not rewrite a goal's every
key result and a daily operation's state stays small.
"""

from __future__ import annotations

from typing import Any, assert_never
from uuid import UUID

from domain import goal, issue, member, operation, project, team
from domain.catalog import DomainEvent
from services.projections.readmodel import iso_date

Fields = dict[str, Any]

MAIN = ""
"""The part that is the object itself."""


def _id(value: UUID | None) -> str | None:
    return str(value) if value is not None else None


def _set(fields: Fields | None, **values: Any) -> Fields | None:
    """The fields an event sets; none on an object never created (events are total)."""
    return None if fields is None else values


def _added(items: list[Any], item: Any) -> list[Any]:
    return items if item in items else [*items, item]


def _removed(items: list[Any], item: Any) -> list[Any]:
    return [existing for existing in items if existing != item]


def _team(fields: Fields | None, event: team.TeamEvent) -> Fields | None:
    """The fields of a team that ``event`` sets, given the team's fields before it."""
    match event:
        case team.TeamCreated():
            return {
                "name": event.name,
                "weekly_capacity": event.weekly_capacity,
                "member_ids": [],
                "working_agreement": "",
                "agreement_revision": 0,
                "definition_of_done": [],
            }
        case team.TeamRenamed(name=name):
            return _set(fields, name=name)
        case team.TeamCapacitySet(weekly_capacity=capacity):
            return _set(fields, weekly_capacity=capacity)
        case team.TeamMemberAdded(member_id=member_id):
            if fields is None:
                return None
            return _set(fields, member_ids=_added(fields["member_ids"], str(member_id)))
        case team.TeamMemberRemoved(member_id=member_id):
            if fields is None:
                return None
            return _set(fields, member_ids=_removed(fields["member_ids"], str(member_id)))
        case team.TeamLeadAdded(member_id=member_id):
            # Teams recorded before leads existed have no such field: it starts empty.
            if fields is None:
                return None
            leads = fields.get("lead_ids", [])
            return _set(fields, lead_ids=_added(leads, str(member_id)))
        case team.TeamLeadRemoved(member_id=member_id):
            if fields is None:
                return None
            return _set(fields, lead_ids=_removed(fields.get("lead_ids", []), str(member_id)))
        case team.WorkingAgreementUpdated(text=text, revision=revision):
            return _set(fields, working_agreement=text, agreement_revision=revision)
        case team.DefinitionOfDoneUpdated(items=items):
            return _set(fields, definition_of_done=list(items))
        case _:
            assert_never(event)


def _member(fields: Fields | None, event: member.MemberEvent) -> Fields | None:
    """The fields of a member that ``event`` sets."""
    match event:
        case member.MemberRegistered():
            return {
                "name": event.name,
                "email": event.email,
                "role": event.role,
                "weekly_capacity": event.weekly_capacity,
                "active": True,
            }
        case member.MemberRenamed(name=name):
            return _set(fields, name=name)
        case member.MemberRoleChanged(role=role):
            return _set(fields, role=role)
        case member.MemberCapacitySet(weekly_capacity=capacity):
            return _set(fields, weekly_capacity=capacity)
        case member.MemberDeactivated():
            return _set(fields, active=False)
        case member.MemberReactivated():
            return _set(fields, active=True)
        case _:
            assert_never(event)


def _goal(fields: Fields | None, event: goal.GoalEvent) -> Fields | None:
    """The fields of a goal, or (for key result events) of the key result, ``event`` sets."""
    match event:
        case goal.GoalCreated():
            return {
                "title": event.title,
                "owner_id": str(event.owner_id),
                "team_id": _id(event.team_id),
                "period_start": event.period_start.isoformat(),
                "period_end": event.period_end.isoformat(),
                "parent_id": _id(event.parent_id),
                "status": "draft",
            }
        case goal.GoalActivated():
            return _set(fields, status="active")
        case goal.GoalClosed(outcome=outcome):
            return _set(fields, status=outcome)
        case goal.KeyResultAdded():
            return {
                "title": event.title,
                "unit": event.unit,
                "start": event.start,
                "target": event.target,
                "current": event.start,
            }
        case goal.KeyResultCheckedIn(value=value):
            return _set(fields, current=value)
        case goal.GoalRetitled(title=title):
            return _set(fields, title=title)
        case goal.GoalParentChanged(parent_id=parent_id):
            return _set(fields, parent_id=_id(parent_id))
        case _:
            assert_never(event)


def _project(fields: Fields | None, event: project.ProjectEvent) -> Fields | None:
    """The fields of a project, or (for milestone events) of the milestone, ``event`` sets."""
    match event:
        case project.ProjectCreated():
            return {
                "name": event.name,
                "key": event.key,
                "owner_id": str(event.owner_id),
                "team_id": str(event.team_id),
                "start_date": event.start_date.isoformat(),
                "target_date": event.target_date.isoformat(),
                "status": "proposed",
                "goal_ids": [],
                "health": None,
                "health_note": "",
                "issue_count": 0,
            }
        case project.ProjectRenamed(name=name):
            return _set(fields, name=name)
        case project.ProjectRescheduled(start_date=start_date, target_date=target_date):
            return _set(
                fields, start_date=start_date.isoformat(), target_date=target_date.isoformat()
            )
        case project.ProjectStatusChanged(status=status):
            return _set(fields, status=status)
        case project.MilestoneAdded(name=name, due_date=due_date):
            return {"name": name, "due_date": due_date.isoformat(), "done": False}
        case project.MilestoneCompleted():
            return _set(fields, done=True)
        case project.ProjectGoalLinked(goal_id=goal_id):
            if fields is None:
                return None
            return _set(fields, goal_ids=_added(fields["goal_ids"], str(goal_id)))
        case project.ProjectHealthPosted(health=health, note=note):
            return _set(fields, health=health, health_note=note)
        case project.ProjectIssueAdded(number=number):
            if fields is None:
                return None
            return _set(fields, issue_count=max(fields["issue_count"], number))
        case _:
            assert_never(event)


def _issue(fields: Fields | None, event: issue.IssueEvent) -> Fields | None:
    """The fields of an issue that ``event`` sets."""
    match event:
        case issue.IssueCreated():
            return {
                "kind": event.kind,
                "title": event.title,
                "description": event.description,
                "team_id": str(event.team_id),
                "project_id": _id(event.project_id),
                "number": event.number,
                "key": event.key,
                "status": event.status,
                "priority": event.priority,
                "severity": event.severity,
                "estimate": event.estimate,
                "due_date": iso_date(event.due_date),
                "labels": list(event.labels),
                "parent_id": _id(event.parent_id),
                "assignee_id": _id(event.assignee_id),
                "blocked_reason": None,
                "blocked_by": [],
                "goal_ids": [str(goal_id) for goal_id in event.goal_ids],
                "affects": [],
                "watchers": [],
                "comment_count": 0,
            }
        case issue.IssueRetitled(title=title):
            return _set(fields, title=title)
        case issue.IssueDescriptionChanged(description=description):
            return _set(fields, description=description)
        case issue.IssuePriorityChanged(priority=priority):
            return _set(fields, priority=priority)
        case issue.IssueSeverityChanged(severity=severity):
            return _set(fields, severity=severity)
        case issue.IssueEstimated(estimate=estimate):
            return _set(fields, estimate=estimate)
        case issue.IssueDueDateChanged(due_date=due_date):
            return _set(fields, due_date=iso_date(due_date))
        case issue.IssueLabelsChanged(labels=labels):
            return _set(fields, labels=list(labels))
        case issue.IssueParentChanged(parent_id=parent_id):
            return _set(fields, parent_id=_id(parent_id))
        case issue.IssueAssigned(assignee_id=assignee_id):
            return _set(fields, assignee_id=str(assignee_id))
        case issue.IssueUnassigned():
            return _set(fields, assignee_id=None)
        case issue.IssueTransitioned(to_status=status):
            return _set(fields, status=status)
        case issue.IssueBlocked(reason=reason):
            return _set(fields, blocked_reason=reason)
        case issue.IssueUnblocked():
            return _set(fields, blocked_reason=None)
        case issue.IssueDependencyAdded(blocked_by_id=blocker):
            if fields is None:
                return None
            return _set(fields, blocked_by=_added(fields["blocked_by"], str(blocker)))
        case issue.IssueDependencyRemoved(blocked_by_id=blocker):
            if fields is None:
                return None
            return _set(fields, blocked_by=_removed(fields["blocked_by"], str(blocker)))
        case issue.IssueLinked(kind=kind, target_id=target_id):
            if fields is None:
                return None
            links = "goal_ids" if kind == "goal" else "affects"
            return _set(fields, **{links: _added(fields[links], str(target_id))})
        case issue.IssueUnlinked(kind=kind, target_id=target_id):
            if fields is None:
                return None
            links = "goal_ids" if kind == "goal" else "affects"
            return _set(fields, **{links: _removed(fields[links], str(target_id))})
        case issue.IssueCommented():
            if fields is None:
                return None
            return _set(fields, comment_count=fields["comment_count"] + 1)
        case issue.IssueWatcherAdded(member_id=member_id):
            if fields is None:
                return None
            return _set(fields, watchers=_added(fields["watchers"], str(member_id)))
        case issue.IssueWatcherRemoved(member_id=member_id):
            if fields is None:
                return None
            return _set(fields, watchers=_removed(fields["watchers"], str(member_id)))
        case _:
            assert_never(event)


def _cadence(cadence: Any) -> Fields:
    return {
        "every": cadence.every,
        "interval": cadence.interval,
        "weekdays": list(cadence.weekdays),
        "day_of_month": cadence.day_of_month,
    }


def _operation(fields: Fields | None, event: operation.OperationEvent) -> Fields | None:
    """The fields of an operation, or (for occurrence events) of the occurrence, ``event``
    sets."""
    match event:
        case operation.OperationCreated():
            return {
                "title": event.title,
                "team_id": str(event.team_id),
                "owner_id": str(event.owner_id),
                "assignee_id": _id(event.assignee_id),
                "cadence": _cadence(event.cadence),
                "cadence_from": event.start_date.isoformat(),
                "start_date": event.start_date.isoformat(),
                "end_date": iso_date(event.end_date),
                "runbook": list(event.runbook),
                "estimate": event.estimate,
                "status": "active",
            }
        case operation.OperationCadenceChanged(cadence=cadence, effective_from=effective_from):
            return _set(fields, cadence=_cadence(cadence), cadence_from=effective_from.isoformat())
        case operation.OperationPaused():
            return _set(fields, status="paused")
        case operation.OperationResumed():
            return _set(fields, status="active")
        case operation.OperationRetired():
            return _set(fields, status="retired")
        case operation.OccurrenceScheduled():
            return {
                "id": str(event.occurrence_id),
                "assignee_id": _id(event.assignee_id),
                "estimate": event.estimate,
                "status": "scheduled",
                "note": "",
            }
        case operation.OccurrenceCompleted(note=note):
            return _set(fields, status="completed", note=note)
        case operation.OccurrenceSkipped(note=note):
            return _set(fields, status="skipped", note=note)
        case operation.OperationAssigneeChanged(assignee_id=assignee_id):
            return _set(fields, assignee_id=_id(assignee_id))
        case operation.RunbookEdited(items=items):
            return _set(fields, runbook=list(items))
        case _:
            assert_never(event)


def fields_set(fields: Fields | None, event: DomainEvent) -> Fields | None:
    """The fields ``event`` sets on the part of its object it concerns: every field when it
    creates it, ``None`` when the part does not exist (a fact about nothing changes nothing)."""
    # Issues first: most events are theirs.
    if isinstance(event, issue.IssueEvent):
        return _issue(fields, event)
    if isinstance(event, operation.OperationEvent):
        return _operation(fields, event)
    if isinstance(event, project.ProjectEvent):
        return _project(fields, event)
    if isinstance(event, goal.GoalEvent):
        return _goal(fields, event)
    if isinstance(event, member.MemberEvent):
        return _member(fields, event)
    return _team(fields, event)


def part_of(event: DomainEvent) -> str:
    """The part of its object an event changes: ``""`` for the object itself, else its path."""
    match event:
        case goal.KeyResultAdded(kr_id=kr_id) | goal.KeyResultCheckedIn(kr_id=kr_id):
            return f"key_results.{kr_id}"
        case (
            project.MilestoneAdded(milestone_id=milestone_id)
            | project.MilestoneCompleted(milestone_id=milestone_id)
        ):
            return f"milestones.{milestone_id}"
        case (
            operation.OccurrenceScheduled(due_date=due_date)
            | operation.OccurrenceCompleted(due_date=due_date)
            | operation.OccurrenceSkipped(due_date=due_date)
        ):
            return f"occurrences.{due_date.isoformat()}"
        case _:
            return MAIN


def field_changes(part: str, before: Fields | None, values: Fields) -> list[Fields]:
    """Each field ``values`` gives a new value, in the object's field order; new ones were null."""
    prefix = f"{part}." if part else ""
    if before is None:
        return [{"field": prefix + name, "before": None, "after": v} for name, v in values.items()]
    return [
        {"field": prefix + name, "before": before.get(name), "after": value}
        for name, value in values.items()
        if name not in before or before[name] != value
    ]
