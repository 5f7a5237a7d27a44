"""``/portfolio/trends``: a part the portfolio page loads after it: each key result of the goal
tree over the last eight weeks before the page's moment, from the goals' history (their
check-ins), as sparklines with the numbers beside them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from services.projections.query import MAX_LIMIT
from services.web.page import CurrentPage, WebRoute
from services.web.pages.detail_common import Doc
from services.web.pages.detail_trend import check_ins, trend
from services.web.reads import read_goals, read_history

router = APIRouter(route_class=WebRoute, include_in_schema=False)

WEEKS = 8


def in_tree_order(goals: list[Doc]) -> list[tuple[int, Doc]]:
    """The goals as the tree shows them: each top goal, then those aligned under it; with
    their depth."""
    known = {str(goal["id"]) for goal in goals}
    children: dict[str | None, list[Doc]] = {}
    for goal in goals:
        parent = goal.get("parent_id")
        children.setdefault(parent if parent in known else None, []).append(goal)
    rows: list[tuple[int, Doc]] = []

    def walk(parent: str | None, depth: int) -> None:
        for goal in children.get(parent, []):
            rows.append((depth, goal))
            walk(str(goal["id"]), depth + 1)

    walk(None, 0)
    return rows


@router.get("/portfolio/trends")
async def portfolio_trends(page: CurrentPage) -> Response:
    end = page.moment
    start = end - timedelta(weeks=WEEKS)
    goals, history = await asyncio.gather(
        read_goals(page),
        read_history(page, kind="goal", since=start, newest_first=True, limit=MAX_LIMIT),
    )
    found = check_ins(history["items"])
    rows: list[tuple[int, Doc, list[tuple[Doc, Any]]]] = []
    for depth, goal in in_tree_order(goals["items"]):
        lines = [
            (kr, trend(kr, found.get(str(kr["id"]), []), start, end))
            for kr in goal.get("key_results") or []
        ]
        if lines:
            rows.append((depth, goal, lines))
    return page.render(
        "parts/trends.html",
        rows=rows,
        start=start,
        end=end,
        more=history.get("next_cursor") is not None,
        weeks=WEEKS,
    )
