"""Project commands: lifecycle, health, milestones and linked goals."""

from __future__ import annotations

from uuid import UUID

from contracts import commands as body
from domain import project
from domain.catalog import GOAL, PROJECT, TEAM
from services.command.actions.common import member_active, on, refuse_nulls
from services.command.handler import Action, Reply, Session
from services.infrastructure.ids import new_id


def create_project(data: body.CreateProject) -> Action:
    project_id = new_id()

    def action(s: Session) -> Reply:
        owner_active = member_active(s, data.owner_id, "owner_id")
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
    refuse_nulls(data, ("name", "start_date", "target_date"))

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


def link_project_goal(project_id: UUID, data: body.LinkGoal) -> Action:
    def action(s: Session) -> Reply:
        s.require(PROJECT, project_id, "project_id")
        exists = s.load(GOAL, data.goal_id).state is not None
        s.decide(PROJECT, project_id, project.LinkProjectGoal(data.goal_id, exists))
        return Reply(project_id)

    return action


def change_project_status(project_id: UUID, data: body.ProjectStatusChange) -> Action:
    return on(PROJECT, project_id, project.ChangeProjectStatus(data.status))


def post_project_health(project_id: UUID, data: body.ProjectHealth) -> Action:
    return on(PROJECT, project_id, project.PostProjectHealth(data.health, data.note))


def add_milestone(project_id: UUID, data: body.AddMilestone) -> Action:
    milestone_id = new_id()
    command = project.AddMilestone(milestone_id, data.name, data.due_date)
    return on(PROJECT, project_id, command, extra={"milestone_id": str(milestone_id)}, created=True)


def complete_milestone(project_id: UUID, milestone_id: UUID) -> Action:
    return on(PROJECT, project_id, project.CompleteMilestone(milestone_id))
