"""``/portfolio``: what executives read — projects with their health posted beside their
forecast, the goal tree, and the organisation's totals, planned beside unplanned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from services.web.charts import FinishChart
from services.web.compare import project_changes
from services.web.page import CurrentPage, WebRoute
from services.web.reads import read_history, read_portfolio

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# How far back the time slider reaches.
SLIDER_DAYS = 56


def _goals(tree: list[dict[str, Any]], depth: int = 0) -> list[tuple[int, dict[str, Any]]]:
    """The goal tree as rows, each with its depth."""
    rows: list[tuple[int, dict[str, Any]]] = []
    for goal in tree:
        rows.append((depth, goal))
        rows.extend(_goals(goal.get("children", []), depth + 1))
    return rows


@router.get("/portfolio")
async def portfolio_page(page: CurrentPage) -> Response:
    answer = await read_portfolio(page)
    today = datetime.fromisoformat(answer["now"].replace("Z", "+00:00")).date()
    projects = [(project, FinishChart.of(project, today)) for project in answer["items"]]
    changes = None
    if page.compare is not None:
        before = await read_portfolio(page, as_of=page.compare)
        earlier, later = sorted((page.compare, page.moment))
        entries = await read_history(page, since=earlier, until=later, limit=50, present=True)
        changes = {
            "projects": project_changes(
                before["items"], answer["items"], page.compare > page.moment
            ),
            "entries": entries["items"],
            "more": entries.get("next_cursor") is not None,
            "earlier": earlier,
            "later": later,
        }
    return page.render(
        "portfolio.html",
        portfolio=answer,
        projects=projects,
        totals=answer["totals"],
        changes=changes,
        slider_days=SLIDER_DAYS,
    )


@router.get("/portfolio/goals")
async def portfolio_goals(page: CurrentPage) -> Response:
    """The goal tree, loaded after the page: its markup is as large as all the projects'."""
    answer = await read_portfolio(page, limit=1)
    return page.render("parts/portfolio_goals.html", goals=_goals(answer["goal_tree"]))
