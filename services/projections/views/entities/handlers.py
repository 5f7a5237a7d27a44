"""What each event changes in the entities, one handler per event class: here teams, members,
goals and projects; issues' and operations' in their own modules, registered in the same
``HANDLERS``.

Every event but a creation makes its object's next version (its stream version), even one that
changes only the object's edges or occurrences.
"""

from __future__ import annotations

from datetime import UTC

from domain import goal, member, project, team
from services.infrastructure.codec import RecordedEvent
from services.projections.dispatch import Change, EventHandlers

from .rows import added, create, id_text, link, load, removed, revise, save, unlink
from .tables import CHILD_GOAL, GOALS, MEMBER_TEAM, MEMBERS, PROJECTS, TEAM_MEMBER, TEAMS

HANDLERS = EventHandlers()


# Teams


@HANDLERS.on(team.TeamCreated)
def team_created(change: Change, event: team.TeamCreated) -> None:
    create(
        change,
        TEAMS,
        {
            "name": event.name,
            "weekly_capacity": event.weekly_capacity,
            "working_agreement": "",
            "agreement_revision": 0,
            "definition_of_done": [],
            "lead_ids": [],
        },
    )


@HANDLERS.on(team.TeamRenamed)
def team_renamed(change: Change, event: team.TeamRenamed) -> None:
    revise(change, TEAMS, name=event.name)


@HANDLERS.on(team.TeamCapacitySet)
def team_capacity_set(change: Change, event: team.TeamCapacitySet) -> None:
    revise(change, TEAMS, weekly_capacity=event.weekly_capacity)


@HANDLERS.on(team.TeamMemberAdded)
def team_member_added(change: Change, event: team.TeamMemberAdded) -> None:
    current = load(change, TEAMS)
    if current is None:
        return
    team_id, member_id = change.subject, str(event.member_id)
    link(change, team_id, TEAM_MEMBER, member_id)
    link(change, member_id, MEMBER_TEAM, team_id)
    save(change, current)


@HANDLERS.on(team.TeamMemberRemoved)
def team_member_removed(change: Change, event: team.TeamMemberRemoved) -> None:
    current = load(change, TEAMS)
    if current is None:
        return
    team_id, member_id = change.subject, str(event.member_id)
    unlink(change, team_id, TEAM_MEMBER, member_id)
    unlink(change, member_id, MEMBER_TEAM, team_id)
    save(change, current)


@HANDLERS.on(team.TeamLeadAdded)
def team_lead_added(change: Change, event: team.TeamLeadAdded) -> None:
    current = load(change, TEAMS)
    if current is not None:
        current.set(lead_ids=added(current.doc["lead_ids"], str(event.member_id)))
        save(change, current)


@HANDLERS.on(team.TeamLeadRemoved)
def team_lead_removed(change: Change, event: team.TeamLeadRemoved) -> None:
    current = load(change, TEAMS)
    if current is not None:
        current.set(lead_ids=removed(current.doc["lead_ids"], str(event.member_id)))
        save(change, current)


@HANDLERS.on(team.WorkingAgreementUpdated)
def working_agreement_updated(change: Change, event: team.WorkingAgreementUpdated) -> None:
    revise(change, TEAMS, working_agreement=event.text, agreement_revision=event.revision)


@HANDLERS.on(team.DefinitionOfDoneUpdated)
def definition_of_done_updated(change: Change, event: team.DefinitionOfDoneUpdated) -> None:
    revise(change, TEAMS, definition_of_done=list(event.items))


# Members


@HANDLERS.on(member.MemberRegistered)
def member_registered(change: Change, event: member.MemberRegistered) -> None:
    create(
        change,
        MEMBERS,
        {
            "name": event.name,
            "email": event.email,
            "role": event.role,
            "weekly_capacity": event.weekly_capacity,
            "active": True,
        },
    )


@HANDLERS.on(member.MemberRenamed)
def member_renamed(change: Change, event: member.MemberRenamed) -> None:
    revise(change, MEMBERS, name=event.name)


@HANDLERS.on(member.MemberRoleChanged)
def member_role_changed(change: Change, event: member.MemberRoleChanged) -> None:
    revise(change, MEMBERS, role=event.role)


@HANDLERS.on(member.MemberCapacitySet)
def member_capacity_set(change: Change, event: member.MemberCapacitySet) -> None:
    revise(change, MEMBERS, weekly_capacity=event.weekly_capacity)


@HANDLERS.on(member.MemberDeactivated)
def member_deactivated(change: Change, event: member.MemberDeactivated) -> None:
    revise(change, MEMBERS, active=False)


@HANDLERS.on(member.MemberReactivated)
def member_reactivated(change: Change, event: member.MemberReactivated) -> None:
    revise(change, MEMBERS, active=True)


# Goals


@HANDLERS.on(goal.GoalCreated)
def goal_created(change: Change, event: goal.GoalCreated) -> None:
    create(
        change,
        GOALS,
        {
            "title": event.title,
            "owner_id": str(event.owner_id),
            "team_id": id_text(event.team_id),
            "period_start": event.period_start.isoformat(),
            "period_end": event.period_end.isoformat(),
            "parent_id": id_text(event.parent_id),
            "status": "draft",
            "key_results": [],
        },
    )
    if event.parent_id is not None:
        link(change, str(event.parent_id), CHILD_GOAL, change.subject)


@HANDLERS.on(goal.GoalActivated)
def goal_activated(change: Change, event: goal.GoalActivated) -> None:
    revise(change, GOALS, status="active")


@HANDLERS.on(goal.GoalClosed)
def goal_closed(change: Change, event: goal.GoalClosed) -> None:
    revise(change, GOALS, status=event.outcome)


@HANDLERS.on(goal.KeyResultAdded)
def key_result_added(change: Change, event: goal.KeyResultAdded) -> None:
    current = load(change, GOALS)
    if current is None:
        return
    kr_id = str(event.kr_id)
    kept = [kr for kr in current.doc["key_results"] if kr["id"] != kr_id]
    new = {
        "id": kr_id,
        "title": event.title,
        "unit": event.unit,
        "start": event.start,
        "target": event.target,
        "current": event.start,
    }
    current.set(key_results=[*kept, new])
    save(change, current)


@HANDLERS.on(goal.KeyResultCheckedIn)
def key_result_checked_in(change: Change, event: goal.KeyResultCheckedIn) -> None:
    current = load(change, GOALS)
    if current is None:
        return
    kr_id = str(event.kr_id)
    current.set(
        key_results=[
            {**kr, "current": event.value} if kr["id"] == kr_id else kr
            for kr in current.doc["key_results"]
        ]
    )
    save(change, current)


@HANDLERS.on(goal.GoalRetitled)
def goal_retitled(change: Change, event: goal.GoalRetitled) -> None:
    revise(change, GOALS, title=event.title)


@HANDLERS.on(goal.GoalParentChanged)
def goal_parent_changed(change: Change, event: goal.GoalParentChanged) -> None:
    current = load(change, GOALS)
    if current is None:
        return
    goal_id, previous, parent_id = change.subject, current.doc["parent_id"], event.parent_id
    if previous is not None:
        unlink(change, previous, CHILD_GOAL, goal_id)
    if parent_id is not None:
        link(change, str(parent_id), CHILD_GOAL, goal_id)
    current.set(parent_id=id_text(parent_id))
    save(change, current)


# Projects


@HANDLERS.on(project.ProjectCreated)
def project_created(change: Change, event: project.ProjectCreated) -> None:
    create(
        change,
        PROJECTS,
        {
            "name": event.name,
            "key": event.key,
            "owner_id": str(event.owner_id),
            "team_id": str(event.team_id),
            "start_date": event.start_date.isoformat(),
            "target_date": event.target_date.isoformat(),
            "status": "proposed",
            "milestones": [],
            "goal_ids": [],
            "health": None,
            "issue_count": 0,
        },
    )


@HANDLERS.on(project.ProjectRenamed)
def project_renamed(change: Change, event: project.ProjectRenamed) -> None:
    revise(change, PROJECTS, name=event.name)


@HANDLERS.on(project.ProjectRescheduled)
def project_rescheduled(change: Change, event: project.ProjectRescheduled) -> None:
    start_date, target_date = event.start_date.isoformat(), event.target_date.isoformat()
    revise(change, PROJECTS, start_date=start_date, target_date=target_date)


@HANDLERS.on(project.ProjectStatusChanged)
def project_status_changed(change: Change, event: project.ProjectStatusChanged) -> None:
    revise(change, PROJECTS, status=event.status)


@HANDLERS.on(project.MilestoneAdded)
def milestone_added(change: Change, event: project.MilestoneAdded) -> None:
    current = load(change, PROJECTS)
    if current is None:
        return
    milestone_id = str(event.milestone_id)
    kept = [m for m in current.doc["milestones"] if m["id"] != milestone_id]
    new = {
        "id": milestone_id,
        "name": event.name,
        "due_date": event.due_date.isoformat(),
        "done": False,
        "completed_on": None,
    }
    current.set(milestones=[*kept, new])
    save(change, current)


@HANDLERS.on(project.MilestoneCompleted)
def milestone_completed(change: Change, event: project.MilestoneCompleted) -> None:
    current = load(change, PROJECTS)
    if current is None:
        return
    milestone_id, completed_on = str(event.milestone_id), _day_of(change.event)
    current.set(
        milestones=[
            {**m, "done": True, "completed_on": completed_on}
            if m["id"] == milestone_id and not m["done"]
            else m
            for m in current.doc["milestones"]
        ]
    )
    save(change, current)


def _day_of(event: RecordedEvent) -> str:
    """The day (UTC) an event occurred, as the documents store dates."""
    return event.metadata.occurred_at.astimezone(UTC).date().isoformat()


@HANDLERS.on(project.ProjectGoalLinked)
def project_goal_linked(change: Change, event: project.ProjectGoalLinked) -> None:
    current = load(change, PROJECTS)
    if current is None:
        return
    current.set(goal_ids=added(current.doc["goal_ids"], str(event.goal_id)))
    save(change, current)


@HANDLERS.on(project.ProjectHealthPosted)
def project_health_posted(change: Change, event: project.ProjectHealthPosted) -> None:
    posted_at = change.event.metadata.occurred_at.isoformat()
    health = {"status": event.health, "note": event.note, "posted_at": posted_at}
    revise(change, PROJECTS, health=health)


@HANDLERS.on(project.ProjectIssueAdded)
def project_issue_added(change: Change, event: project.ProjectIssueAdded) -> None:
    current = load(change, PROJECTS)
    if current is None:
        return
    current.set(issue_count=max(current.doc["issue_count"], event.number))
    save(change, current)
