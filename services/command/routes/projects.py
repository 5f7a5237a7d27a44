"""Project commands."""

from __future__ import annotations

from fastapi.responses import Response

from contracts import commands as body
from contracts.inputs import Id
from domain.catalog import PROJECT
from services.command.actions import projects as actions
from services.command.deps import Run
from services.command.routes.common import MANAGER, MEMBER, command
from services.infrastructure.http import Routes

router = Routes(tags=["projects"])


@router.post("/projects", **command(MANAGER, created=True))
def create_project(data: body.CreateProject, run: Run) -> Response:
    """Proposes a project with a unique short key (`PAY`); its issues get keys like `PAY-12`."""
    return run(actions.create_project(data), payload=data)


@router.patch("/projects/{project_id}", **command(MANAGER))
def update_project(project_id: Id, data: body.UpdateProject, run: Run) -> Response:
    """Renames or reschedules a project."""
    return run(actions.update_project(project_id, data), target=(PROJECT, project_id), payload=data)


@router.post("/projects/{project_id}/status", **command(MANAGER))
def change_project_status(project_id: Id, data: body.ProjectStatusChange, run: Run) -> Response:
    """Moves a project along `proposed → active ⇄ on_hold → completed | cancelled`."""
    action = actions.change_project_status(project_id, data)
    return run(action, target=(PROJECT, project_id), payload=data)


@router.post("/projects/{project_id}/health", **command(MEMBER))
def post_project_health(project_id: Id, data: body.ProjectHealth, run: Run) -> Response:
    """Posts a health update: `on_track`, `at_risk` or `off_track`, with a note."""
    action = actions.post_project_health(project_id, data)
    return run(action, target=(PROJECT, project_id), payload=data)


@router.post("/projects/{project_id}/milestones", **command(MANAGER, created=True))
def add_milestone(project_id: Id, data: body.AddMilestone, run: Run) -> Response:
    """Adds a milestone; the answer names it as `milestone_id`."""
    return run(actions.add_milestone(project_id, data), target=(PROJECT, project_id), payload=data)


@router.post("/projects/{project_id}/milestones/{milestone_id}/complete", **command(MANAGER))
def complete_milestone(project_id: Id, milestone_id: Id, run: Run) -> Response:
    """Marks a milestone done."""
    return run(actions.complete_milestone(project_id, milestone_id), target=(PROJECT, project_id))


@router.post("/projects/{project_id}/goals", **command(MANAGER))
def link_project_goal(project_id: Id, data: body.LinkGoal, run: Run) -> Response:
    """Links the project to a goal it serves."""
    action = actions.link_project_goal(project_id, data)
    return run(action, target=(PROJECT, project_id), payload=data)
