"""Application services: for each command, the lookups it needs and the deciders it asks.

Each function takes a parsed request body and returns an *action* for the command handler. Ids of
new objects are chosen here, outside the action, so a retried action creates the same object.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel

from contracts import commands as body
from domain import goal, issue, member, operation, project, team
from domain.cadence import Cadence, make_cadence
from domain.catalog import GOAL, ISSUE, MEMBER, OPERATION, PROJECT, TEAM
from domain.errors import InvalidInput, NotFound
from services.command.handler import Action, Reply, Session
from services.infrastructure.ids import new_id

# Traversals of the issue and goal graphs stop here: far beyond any real hierarchy.
MAX_GRAPH_NODES = 10_000

WEEKDAY_NUMBERS = {name: number for number, name in enumerate(body.WEEKDAYS)}


def _member_active(s: Session, member_id: UUID | None, field: str) -> bool:
    if member_id is None:
        return True
    return s.require(MEMBER, member_id, field).active


# Teams


def create_team(data: body.CreateTeam) -> Action:
    team_id = new_id()

    def action(s: Session) -> Reply:
        s.decide(TEAM, team_id, team.CreateTeam(team_id, data.name, data.weekly_capacity))
        return Reply(team_id, created=True)

    return action


def update_team(team_id: UUID, data: body.UpdateTeam) -> Action:
    _refuse_nulls(data, ("name",))

    def action(s: Session) -> Reply:
        s.require(TEAM, team_id, "team_id")
        if "name" in data.model_fields_set and data.name is not None:
            s.decide(TEAM, team_id, team.RenameTeam(data.name))
        if "weekly_capacity" in data.model_fields_set:
            s.decide(TEAM, team_id, team.SetTeamCapacity(data.weekly_capacity))
        return Reply(team_id)

    return action


def add_team_member(team_id: UUID, data: body.AddTeamMember) -> Action:
    def action(s: Session) -> Reply:
        s.require(TEAM, team_id, "team_id")
        active = _member_active(s, data.member_id, "member_id")
        s.decide(TEAM, team_id, team.AddTeamMember(data.member_id, active))
        return Reply(team_id)

    return action


def remove_team_member(team_id: UUID, member_id: UUID) -> Action:
    def action(s: Session) -> Reply:
        s.require(TEAM, team_id, "team_id")
        s.decide(TEAM, team_id, team.RemoveTeamMember(member_id))
        return Reply(team_id)

    return action


def set_working_agreement(team_id: UUID, data: body.WorkingAgreement) -> Action:
    return _on_team(team_id, team.SetWorkingAgreement(data.text))


def set_definition_of_done(team_id: UUID, data: body.DefinitionOfDone) -> Action:
    return _on_team(team_id, team.SetDefinitionOfDone(tuple(data.items)))


def _on_team(team_id: UUID, command: team.TeamCommand) -> Action:
    def action(s: Session) -> Reply:
        s.require(TEAM, team_id, "team_id")
        s.decide(TEAM, team_id, command)
        return Reply(team_id)

    return action


# Members


def create_member(data: body.CreateMember) -> Action:
    member_id = new_id()

    def action(s: Session) -> Reply:
        events = s.decide(
            MEMBER,
            member_id,
            member.RegisterMember(
                member_id, data.name, data.email, data.role, data.weekly_capacity
            ),
        )
        registered = events[0]
        assert isinstance(registered, member.MemberRegistered)
        s.claim("member.email", registered.email, member_id)
        for team_id in dict.fromkeys(data.team_ids):
            s.require(TEAM, team_id, "team_ids")
            s.decide(TEAM, team_id, team.AddTeamMember(member_id, member_active=True))
        return Reply(member_id, created=True)

    return action


def update_member(member_id: UUID, data: body.UpdateMember) -> Action:
    _refuse_nulls(data, ("name", "role", "weekly_capacity"))

    def action(s: Session) -> Reply:
        s.require(MEMBER, member_id, "member_id")
        if data.name is not None:
            s.decide(MEMBER, member_id, member.RenameMember(data.name))
        if data.role is not None:
            s.decide(MEMBER, member_id, member.ChangeMemberRole(data.role))
        if data.weekly_capacity is not None:
            s.decide(MEMBER, member_id, member.SetMemberCapacity(data.weekly_capacity))
        return Reply(member_id)

    return action


def deactivate_member(member_id: UUID) -> Action:
    return _on_member(member_id, member.DeactivateMember())


def reactivate_member(member_id: UUID) -> Action:
    return _on_member(member_id, member.ReactivateMember())


def _on_member(member_id: UUID, command: member.MemberCommand) -> Action:
    def action(s: Session) -> Reply:
        s.require(MEMBER, member_id, "member_id")
        s.decide(MEMBER, member_id, command)
        return Reply(member_id)

    return action


# Goals


def _goal_ancestors(s: Session, parent_id: UUID | None) -> tuple[tuple[UUID, ...], bool]:
    """The chain above ``parent_id`` (nearest first), and whether the parent exists."""
    if parent_id is None:
        return (), False
    parent = s.load(GOAL, parent_id).state
    if parent is None:
        return (), False
    chain: list[UUID] = []
    current = parent.parent_id
    while current is not None and current not in chain and len(chain) < MAX_GRAPH_NODES:
        chain.append(current)
        above = s.load(GOAL, current).state
        current = above.parent_id if above else None
    return tuple(chain), True


def create_goal(data: body.CreateGoal) -> Action:
    goal_id = new_id()

    def action(s: Session) -> Reply:
        owner_active = _member_active(s, data.owner_id, "owner_id")
        if data.team_id is not None:
            s.require(TEAM, data.team_id, "team_id")
        chain, parent_exists = _goal_ancestors(s, data.parent_id)
        s.decide(
            GOAL,
            goal_id,
            goal.CreateGoal(
                goal_id=goal_id,
                title=data.title,
                owner_id=data.owner_id,
                owner_active=owner_active,
                period_start=data.period_start,
                period_end=data.period_end,
                team_id=data.team_id,
                parent_id=data.parent_id,
                parent_exists=parent_exists,
                parent_chain=chain,
            ),
        )
        return Reply(goal_id, created=True)

    return action


def update_goal(goal_id: UUID, data: body.UpdateGoal) -> Action:
    _refuse_nulls(data, ("title",))

    def action(s: Session) -> Reply:
        s.require(GOAL, goal_id, "goal_id")
        if data.title is not None:
            s.decide(GOAL, goal_id, goal.RetitleGoal(data.title))
        if "parent_id" in data.model_fields_set:
            chain, exists = _goal_ancestors(s, data.parent_id)
            s.decide(GOAL, goal_id, goal.ChangeGoalParent(data.parent_id, chain, exists))
        return Reply(goal_id)

    return action


def activate_goal(goal_id: UUID) -> Action:
    return _on_goal(goal_id, goal.ActivateGoal())


def close_goal(goal_id: UUID, data: body.CloseGoal) -> Action:
    return _on_goal(goal_id, goal.CloseGoal(data.outcome))


def check_in(goal_id: UUID, kr_id: UUID, data: body.CheckIn) -> Action:
    return _on_goal(goal_id, goal.CheckInKeyResult(kr_id, data.value, data.note))


def add_key_result(goal_id: UUID, data: body.AddKeyResult) -> Action:
    kr_id = new_id()
    command = goal.AddKeyResult(kr_id, data.title, data.unit, data.start, data.target)
    return _on_goal(goal_id, command, {"key_result_id": str(kr_id)}, created=True)


def _on_goal(
    goal_id: UUID,
    command: goal.GoalCommand,
    extra: dict[str, str] | None = None,
    *,
    created: bool = False,
) -> Action:
    def action(s: Session) -> Reply:
        s.require(GOAL, goal_id, "goal_id")
        s.decide(GOAL, goal_id, command)
        return Reply(goal_id, created=created, extra=extra or {})

    return action


# Projects


def create_project(data: body.CreateProject) -> Action:
    project_id = new_id()

    def action(s: Session) -> Reply:
        owner_active = _member_active(s, data.owner_id, "owner_id")
        s.require(TEAM, data.team_id, "team_id")
        events = s.decide(
            PROJECT,
            project_id,
            project.CreateProject(
                project_id=project_id,
                name=data.name,
                key=data.key,
                owner_id=data.owner_id,
                team_id=data.team_id,
                start_date=data.start_date,
                target_date=data.target_date,
                owner_active=owner_active,
                # Uniqueness is enforced by the claim below, atomically with the events.
                key_in_use=False,
            ),
        )
        created = events[0]
        assert isinstance(created, project.ProjectCreated)
        s.claim("project.key", created.key, project_id)
        for goal_id in dict.fromkeys(data.goal_ids):
            s.require(GOAL, goal_id, "goal_ids")
            s.decide(PROJECT, project_id, project.LinkProjectGoal(goal_id, goal_exists=True))
        return Reply(project_id, created=True)

    return action


def update_project(project_id: UUID, data: body.UpdateProject) -> Action:
    _refuse_nulls(data, ("name", "start_date", "target_date"))

    def action(s: Session) -> Reply:
        current = s.require(PROJECT, project_id, "project_id")
        if data.name is not None:
            s.decide(PROJECT, project_id, project.RenameProject(data.name))
        if data.start_date is not None or data.target_date is not None:
            start = data.start_date or current.start_date
            target = data.target_date or current.target_date
            if (start, target) != (current.start_date, current.target_date):
                s.decide(PROJECT, project_id, project.RescheduleProject(start, target))
        return Reply(project_id)

    return action


def change_project_status(project_id: UUID, data: body.ProjectStatusChange) -> Action:
    return _on_project(project_id, project.ChangeProjectStatus(data.status))


def post_project_health(project_id: UUID, data: body.ProjectHealth) -> Action:
    return _on_project(project_id, project.PostProjectHealth(data.health, data.note))


def add_milestone(project_id: UUID, data: body.AddMilestone) -> Action:
    milestone_id = new_id()
    command = project.AddMilestone(milestone_id, data.name, data.due_date)
    return _on_project(project_id, command, {"milestone_id": str(milestone_id)}, created=True)


def complete_milestone(project_id: UUID, milestone_id: UUID) -> Action:
    return _on_project(project_id, project.CompleteMilestone(milestone_id))


def link_project_goal(project_id: UUID, data: body.LinkGoal) -> Action:
    def action(s: Session) -> Reply:
        s.require(PROJECT, project_id, "project_id")
        exists = s.load(GOAL, data.goal_id).state is not None
        s.decide(PROJECT, project_id, project.LinkProjectGoal(data.goal_id, exists))
        return Reply(project_id)

    return action


def _on_project(
    project_id: UUID,
    command: project.ProjectCommand,
    extra: dict[str, str] | None = None,
    *,
    created: bool = False,
) -> Action:
    def action(s: Session) -> Reply:
        s.require(PROJECT, project_id, "project_id")
        s.decide(PROJECT, project_id, command)
        return Reply(project_id, created=created, extra=extra or {})

    return action


# Issues


def _issue_ancestors(s: Session, parent_id: UUID) -> tuple[UUID, ...]:
    chain: list[UUID] = []
    current = s.require(ISSUE, parent_id, "parent_id").parent_id
    while current is not None and current not in chain and len(chain) < MAX_GRAPH_NODES:
        chain.append(current)
        above = s.load(ISSUE, current).state
        current = above.parent_id if above else None
    return tuple(chain)


def _waits_on(s: Session, start: UUID) -> frozenset[UUID]:
    """Every issue that ``start`` waits on through ``blocked_by``, directly or transitively."""
    seen: set[UUID] = set()
    frontier = list(s.require(ISSUE, start, "blocked_by_id").blocked_by)
    while frontier and len(seen) < MAX_GRAPH_NODES:
        node = frontier.pop()
        if node in seen:
            continue
        seen.add(node)
        state = s.load(ISSUE, node).state
        if state is not None:
            frontier.extend(state.blocked_by)
    return frozenset(seen)


def create_issue(data: body.CreateIssue) -> Action:
    issue_id = new_id()

    def action(s: Session) -> Reply:
        s.require(TEAM, data.team_id, "team_id")
        number: int | None = None
        key: str | None = None
        if data.project_id is not None:
            s.require(PROJECT, data.project_id, "project_id")
            added = s.decide(PROJECT, data.project_id, project.AddIssueToProject(issue_id))
            numbered = added[0]
            assert isinstance(numbered, project.ProjectIssueAdded)
            state = s.require(PROJECT, data.project_id, "project_id")
            number, key = numbered.number, project.issue_key(state, numbered.number)
        if data.parent_id is not None:
            s.require(ISSUE, data.parent_id, "parent_id")
        for goal_id in data.goal_ids:
            s.require(GOAL, goal_id, "goal_ids")
        s.decide(
            ISSUE,
            issue_id,
            issue.CreateIssue(
                issue_id=issue_id,
                kind=data.kind,
                title=data.title,
                team_id=data.team_id,
                description=data.description,
                project_id=data.project_id,
                number=number,
                key=key,
                priority=data.priority,
                severity=data.severity,
                estimate=data.estimate,
                due_date=data.due_date,
                labels=tuple(data.labels),
                parent_id=data.parent_id,
                goal_ids=tuple(data.goal_ids),
                assignee_id=data.assignee_id,
                assignee_active=_member_active(s, data.assignee_id, "assignee_id"),
            ),
        )
        return Reply(issue_id, created=True, extra={"key": key} if key else {})

    return action


def _refuse_nulls(data: BaseModel, fields: tuple[str, ...]) -> None:
    """A field that can't be empty may be left out of a PATCH, but not set to ``null``."""
    for name in fields:
        if name in data.model_fields_set and getattr(data, name) is None:
            raise InvalidInput(f"{name} can't be null; leave it out to keep it", field=name)


def update_issue(issue_id: UUID, data: body.UpdateIssue) -> Action:
    _refuse_nulls(data, ("title", "priority", "labels"))
    present = data.model_fields_set
    title = data.title if "title" in present and data.title is not None else issue.UNCHANGED
    priority = (
        data.priority if "priority" in present and data.priority is not None else issue.UNCHANGED
    )
    labels = (
        tuple(data.labels) if "labels" in present and data.labels is not None else issue.UNCHANGED
    )
    edit = issue.EditIssue(
        title=title,
        description=(data.description or "") if "description" in present else issue.UNCHANGED,
        priority=priority,
        severity=data.severity if "severity" in present else issue.UNCHANGED,
        estimate=data.estimate if "estimate" in present else issue.UNCHANGED,
        due_date=data.due_date if "due_date" in present else issue.UNCHANGED,
        labels=labels,
    )

    def action(s: Session) -> Reply:
        s.require(ISSUE, issue_id, "issue_id")
        s.decide(ISSUE, issue_id, edit)
        if "parent_id" in present:
            ancestors = _issue_ancestors(s, data.parent_id) if data.parent_id else ()
            s.decide(ISSUE, issue_id, issue.ChangeIssueParent(data.parent_id, ancestors))
        return Reply(issue_id)

    return action


def assign_issue(issue_id: UUID, data: body.AssignIssue) -> Action:
    def action(s: Session) -> Reply:
        s.require(ISSUE, issue_id, "issue_id")
        active = _member_active(s, data.assignee_id, "assignee_id")
        s.decide(ISSUE, issue_id, issue.AssignIssue(data.assignee_id, active))
        return Reply(issue_id)

    return action


def add_dependency(issue_id: UUID, data: body.AddDependency) -> Action:
    def action(s: Session) -> Reply:
        s.require(ISSUE, issue_id, "issue_id")
        waits_on = _waits_on(s, data.blocked_by_id)
        s.decide(ISSUE, issue_id, issue.AddDependency(data.blocked_by_id, waits_on))
        return Reply(issue_id)

    return action


def link_issue(issue_id: UUID, data: body.LinkIssue) -> Action:
    def action(s: Session) -> Reply:
        s.require(ISSUE, issue_id, "issue_id")
        target_kind: issue.TargetKind
        if s.load(GOAL, data.target_id).state is not None:
            target_kind = "goal"
        elif s.load(PROJECT, data.target_id).state is not None:
            target_kind = "project"
        elif s.load(OPERATION, data.target_id).state is not None:
            target_kind = "operation"
        else:
            raise NotFound("no goal, project or operation with that id", field="target_id")
        s.decide(ISSUE, issue_id, issue.LinkIssue(data.kind, data.target_id, target_kind))
        return Reply(issue_id)

    return action


def comment_on_issue(issue_id: UUID, data: body.Comment) -> Action:
    comment_id = new_id()

    def action(s: Session) -> Reply:
        s.require(ISSUE, issue_id, "issue_id")
        command = issue.CommentOnIssue(comment_id, s.context.actor, data.body)
        s.decide(ISSUE, issue_id, command)
        return Reply(issue_id, created=True, extra={"comment_id": str(comment_id)})

    return action


def watch_issue(issue_id: UUID, data: body.Watch) -> Action:
    def action(s: Session) -> Reply:
        s.require(ISSUE, issue_id, "issue_id")
        s.require(MEMBER, data.member_id, "member_id")
        s.decide(ISSUE, issue_id, issue.WatchIssue(data.member_id))
        return Reply(issue_id)

    return action


def on_issue(issue_id: UUID, command: issue.IssueCommand) -> Action:
    """A command on one issue that needs no lookups (transition, block, unlink ...)."""

    def action(s: Session) -> Reply:
        s.require(ISSUE, issue_id, "issue_id")
        s.decide(ISSUE, issue_id, command)
        return Reply(issue_id)

    return action


# Operations


def cadence_of(data: body.Cadence) -> Cadence:
    weekdays = tuple(WEEKDAY_NUMBERS[day] for day in data.weekdays or ())
    return make_cadence(data.every, data.interval, weekdays, data.day_of_month)


def create_operation(data: body.CreateOperation) -> Action:
    operation_id = new_id()

    def action(s: Session) -> Reply:
        s.require(TEAM, data.team_id, "team_id")
        s.decide(
            OPERATION,
            operation_id,
            operation.CreateOperation(
                operation_id=operation_id,
                title=data.title,
                team_id=data.team_id,
                owner_id=data.owner_id,
                cadence=cadence_of(data.cadence),
                start_date=data.start_date,
                end_date=data.end_date,
                assignee_id=data.assignee_id,
                runbook=tuple(data.runbook),
                estimate=data.estimate,
                owner_active=_member_active(s, data.owner_id, "owner_id"),
                assignee_active=_member_active(s, data.assignee_id, "assignee_id"),
            ),
        )
        return Reply(operation_id, created=True)

    return action


def update_operation(operation_id: UUID, data: body.UpdateOperation) -> Action:
    _refuse_nulls(data, ("runbook",))

    def action(s: Session) -> Reply:
        s.require(OPERATION, operation_id, "operation_id")
        if "assignee_id" in data.model_fields_set:
            active = _member_active(s, data.assignee_id, "assignee_id")
            command = operation.ChangeOperationAssignee(data.assignee_id, active)
            s.decide(OPERATION, operation_id, command)
        if data.runbook is not None:
            s.decide(OPERATION, operation_id, operation.EditRunbook(tuple(data.runbook)))
        return Reply(operation_id)

    return action


def change_cadence(operation_id: UUID, data: body.ChangeCadence) -> Action:
    def action(s: Session) -> Reply:
        s.require(OPERATION, operation_id, "operation_id")
        s.decide(OPERATION, operation_id, operation.ChangeCadence(cadence_of(data.cadence)))
        return Reply(operation_id)

    return action


def on_operation(
    operation_id: UUID, command: operation.OperationCommand, extra: dict[str, str] | None = None
) -> Action:
    """A command on one operation that needs no lookups (pause, resume, complete ...)."""

    def action(s: Session) -> Reply:
        s.require(OPERATION, operation_id, "operation_id")
        s.decide(OPERATION, operation_id, command)
        return Reply(operation_id, extra=extra or {})

    return action


def complete_occurrence(operation_id: UUID, due_date: date, data: body.OccurrenceNote) -> Action:
    extra = {"occurrence_id": str(operation.occurrence_id(operation_id, due_date))}
    command = operation.CompleteOccurrence(due_date, data.note)
    return on_operation(operation_id, command, extra)


def skip_occurrence(operation_id: UUID, due_date: date, data: body.OccurrenceNote) -> Action:
    extra = {"occurrence_id": str(operation.occurrence_id(operation_id, due_date))}
    command = operation.SkipOccurrence(due_date, data.note)
    return on_operation(operation_id, command, extra)


def schedule_occurrences(operation_id: UUID, until: date) -> Action:
    def action(s: Session) -> Reply:
        s.require(OPERATION, operation_id, "operation_id")
        events = s.decide(OPERATION, operation_id, operation.ScheduleOccurrences(until))
        return Reply(operation_id, extra={"scheduled": len(events)})

    return action
