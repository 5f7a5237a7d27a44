"""Goal commands: the alignment tree, key results and check-ins."""

from __future__ import annotations

from uuid import UUID

from contracts import commands as body
from domain import goal
from domain.catalog import GOAL, TEAM
from services.command.actions.common import MAX_GRAPH_NODES, member_active, on, refuse_nulls
from services.command.handler import Action, Reply, Session
from services.infrastructure.ids import new_id


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
        owner_active = member_active(s, data.owner_id, "owner_id")
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
    refuse_nulls(data, ("title",))

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
    return on(GOAL, goal_id, goal.ActivateGoal())


def close_goal(goal_id: UUID, data: body.CloseGoal) -> Action:
    return on(GOAL, goal_id, goal.CloseGoal(data.outcome))


def check_in_key_result(goal_id: UUID, kr_id: UUID, data: body.CheckIn) -> Action:
    return on(GOAL, goal_id, goal.CheckInKeyResult(kr_id, data.value, data.note))


def add_key_result(goal_id: UUID, data: body.AddKeyResult) -> Action:
    kr_id = new_id()
    command = goal.AddKeyResult(kr_id, data.title, data.unit, data.start, data.target)
    return on(GOAL, goal_id, command, extra={"key_result_id": str(kr_id)}, created=True)
