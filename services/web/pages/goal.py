"""``/goals/{id}``: one goal as ``GET /v1/goals/{id}`` answers it with each key result's
progress. Parts the page loads after it: each key result's values over time (its check-ins,
from the goal's history) as a sparkline beside the history itself; its owner, the goals aligned
under it and the work linked to it."""

from __future__ import annotations

import asyncio
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response

from services.web.compare import Figure
from services.web.page import CurrentPage, WebRoute
from services.web.pages.detail_common import (
    Doc,
    compared_changes,
    dig,
    moment_of,
    names_of,
    object_history,
    or_none,
)
from services.web.pages.detail_trend import check_ins, trend
from services.web.reads import (
    read_goal,
    read_goals,
    read_member,
    read_portfolio,
    read_projects,
    read_team,
)
from services.web.render import number

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _key_results(goal: Doc) -> str | None:
    """Each key result's value, as one figure: ``Revenue 120; Churn 3``."""
    values = [f"{kr['title']} {number(kr['current'])}" for kr in goal.get("key_results") or []]
    return "; ".join(values) or None


GOAL_FIGURES: tuple[Figure, ...] = (
    ("title", dig("title")),
    ("status", dig("status")),
    (
        "progress %",
        lambda goal: None if goal["progress"] is None else round(goal["progress"] * 100),
    ),
    ("key results", _key_results),
    ("children", lambda goal: len(goal.get("children_ids") or [])),
    ("version", dig("version")),
)


@router.get("/goals/{goal_id}")
async def goal_page(goal_id: UUID, page: CurrentPage) -> Response:
    goal = await read_goal(page, goal_id)
    names = {str(goal["id"]): goal["title"]}
    changes = await compared_changes(page, read_goal, goal_id, goal, GOAL_FIGURES, names)
    return page.render("goal.html", goal=goal, names=names, changes=changes)


@router.get("/goals/{goal_id}/history")
async def goal_history_part(goal_id: UUID, page: CurrentPage) -> Response:
    """Each key result over time, from its check-ins, and every change to the goal."""
    goal, history, names = await object_history(
        page, read_goal, goal_id, lambda goal: str(goal["title"]), newest_first=False
    )
    entries = history["items"]
    found = check_ins(entries)
    start = moment_of(goal["created_at"])
    return page.render(
        "parts/detail_goal_history.html",
        key_results=[
            (kr, trend(kr, found.get(str(kr["id"]), []), start, page.moment))
            for kr in goal["key_results"]
        ],
        history=list(reversed(entries)),
        history_more=history.get("next_cursor") is not None,
        names=names,
    )


def _in_tree(tree: list[Doc], goal_id: str) -> Doc | None:
    for goal in tree:
        if str(goal["id"]) == goal_id:
            return goal
        found = _in_tree(goal.get("children") or [], goal_id)
        if found is not None:
            return found
    return None


@router.get("/goals/{goal_id}/related")
async def goal_related_part(goal_id: UUID, page: CurrentPage) -> Response:
    """Its owner and team, the goals aligned under it, the projects that advance it, and its linked
    issues counted as the portfolio counts them."""
    goal = await read_goal(page, goal_id)
    team_id = goal.get("team_id")
    goals, projects, portfolio, owner, team = await asyncio.gather(
        read_goals(page),
        read_projects(page),
        read_portfolio(page, limit=1),
        read_member(page, UUID(goal["owner_id"])),
        or_none(read_team(page, UUID(team_id))) if team_id else _nothing(),
    )
    parent = str(goal_id)
    in_tree = _in_tree(portfolio["goal_tree"], parent)
    return page.render(
        "parts/detail_goal_related.html",
        goal=goal,
        owner=owner,
        team=team,
        children=[goal for goal in goals["items"] if goal.get("parent_id") == parent],
        projects=[p for p in projects["items"] if parent in (p.get("goal_ids") or [])],
        linked_work=in_tree.get("linked_work") if in_tree else None,
        names=names_of(goals["items"], label="title"),
    )


async def _nothing() -> None:
    return None
