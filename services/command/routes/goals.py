"""Goal (objective) and key result commands."""

from __future__ import annotations

from fastapi.responses import Response

from contracts import commands as body
from contracts.inputs import Id
from domain.catalog import GOAL
from services.command.actions import goals as actions
from services.command.deps import Run
from services.command.routes.common import MANAGER, MEMBER, command
from services.infrastructure.http import Routes

router = Routes(tags=["goals"])


@router.post("/goals", **command(MANAGER, created=True))
def create_goal(data: body.CreateGoal, run: Run) -> Response:
    """Creates a draft goal, optionally under a parent goal in the alignment tree."""
    return run(actions.create_goal(data), payload=data)


@router.patch("/goals/{goal_id}", **command(MANAGER))
def update_goal(goal_id: Id, data: body.UpdateGoal, run: Run) -> Response:
    """Retitles a goal or moves it in the tree (`parent_id: null` makes it a root)."""
    return run(actions.update_goal(goal_id, data), target=(GOAL, goal_id), payload=data)


@router.post("/goals/{goal_id}/activate", **command(MANAGER))
def activate_goal(goal_id: Id, run: Run) -> Response:
    """Moves a draft goal to active."""
    return run(actions.activate_goal(goal_id), target=(GOAL, goal_id))


@router.post("/goals/{goal_id}/close", **command(MANAGER))
def close_goal(goal_id: Id, data: body.CloseGoal, run: Run) -> Response:
    """Closes a goal as achieved, missed or abandoned."""
    return run(actions.close_goal(goal_id, data), target=(GOAL, goal_id), payload=data)


@router.post("/goals/{goal_id}/key-results", **command(MANAGER, created=True))
def add_key_result(goal_id: Id, data: body.AddKeyResult, run: Run) -> Response:
    """Adds a key result; the answer names it as `key_result_id`."""
    return run(actions.add_key_result(goal_id, data), target=(GOAL, goal_id), payload=data)


@router.post("/goals/{goal_id}/key-results/{kr_id}/check-ins", **command(MEMBER))
def check_in_key_result(goal_id: Id, kr_id: Id, data: body.CheckIn, run: Run) -> Response:
    """Records a key result's current value, with an optional note."""
    action = actions.check_in_key_result(goal_id, kr_id, data)
    return run(action, target=(GOAL, goal_id), payload=data)
