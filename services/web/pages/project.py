"""``/projects/{id}``: one project as ``GET /v1/projects/{id}`` answers it, with its milestones.
Its forecast (``GET /v1/forecasts``), its team, owner, issues and goals, and the health posted on
it over time with the rest of its history are parts the page loads after it, so the page costs
about what its own query does."""

from __future__ import annotations

import asyncio
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response

from services.projections.query import MAX_LIMIT
from services.web.charts import columns
from services.web.compare import Figure
from services.web.page import CurrentPage, WebRoute
from services.web.pages.detail_common import (
    Doc,
    compared_changes,
    dig,
    names_of,
    object_history,
)
from services.web.reads import (
    read_forecast,
    read_goals,
    read_issues,
    read_member,
    read_members,
    read_project,
    read_team,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PROJECT_DETAIL_FIGURES: tuple[Figure, ...] = (
    ("name", dig("name")),
    ("status", dig("status")),
    ("health", dig("health", "status")),
    ("start date", dig("start_date")),
    ("target date", dig("target_date")),
    ("milestones", lambda project: len(project.get("milestones") or [])),
    ("milestones done", lambda project: sum(m["done"] for m in project.get("milestones") or [])),
    ("issues numbered", dig("issue_count")),
    ("version", dig("version")),
)
HEALTH_POSTED = "ProjectHealthPosted"
# The forecast chart shows at most this many weeks ahead.
CHART_WEEKS = 26


def health_posts(entries: list[Doc]) -> list[Doc]:
    """Each health update posted on the project, newest first, as its history recorded it."""
    posts = []
    for entry in entries:
        if entry["event_type"] != HEALTH_POSTED:
            continue
        fields = {change["field"]: change["after"] for change in entry["changes"]}
        posts.append(
            {
                "position": entry["position"],
                "occurred_at": entry["occurred_at"],
                "actor": entry["actor"],
                "status": fields.get("health", entry["data"].get("health")),
                "note": fields.get("health_note", entry["data"].get("note", "")),
            }
        )
    return posts


def _name(project: Doc) -> str:
    """How a history entry and a comparison name the project: ``PAY Payments``."""
    return f"{project['key']} {project['name']}"


@router.get("/projects/{project_id}")
async def project_page(project_id: UUID, page: CurrentPage) -> Response:
    project = await read_project(page, project_id)
    names = {str(project["id"]): _name(project)}
    figures = PROJECT_DETAIL_FIGURES
    changes = await compared_changes(page, read_project, project_id, project, figures, names)
    return page.render("project.html", project=project, names=names, changes=changes)


@router.get("/projects/{project_id}/history")
async def project_history_part(project_id: UUID, page: CurrentPage) -> Response:
    """The health posted on the project over time, and every change to it, newest first."""
    _, history, names = await object_history(
        page, read_project, project_id, _name, newest_first=True
    )
    return page.render(
        "parts/detail_project_history.html",
        health=health_posts(history["items"]),
        history=history["items"],
        more=history.get("next_cursor") is not None,
        names=names,
    )


@router.get("/projects/{project_id}/forecast")
async def project_forecast_part(project_id: UUID, page: CurrentPage) -> Response:
    forecast = await read_forecast(page, project_id)
    weeks = forecast["distribution"][:CHART_WEEKS]
    chart = columns([(week["date"], float(week["done_by"])) for week in weeks])
    return page.render("parts/detail_forecast.html", forecast=forecast, chart=chart)


@router.get("/projects/{project_id}/work")
async def project_work_part(project_id: UUID, page: CurrentPage) -> Response:
    project = await read_project(page, project_id)
    issues, members, goals, team, owner = await asyncio.gather(
        read_issues(page, project_id=project_id, limit=MAX_LIMIT),
        read_members(page),
        read_goals(page),
        read_team(page, UUID(project["team_id"])),
        read_member(page, UUID(project["owner_id"])),
    )
    linked = set(project["goal_ids"])
    return page.render(
        "parts/detail_project_work.html",
        project=project,
        team=team,
        owner=owner,
        issues=issues["items"],
        more=issues.get("next_cursor") is not None,
        names=names_of(members["items"]),
        goals=[goal for goal in goals["items"] if goal["id"] in linked],
    )
