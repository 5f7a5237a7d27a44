"""The portfolio's route: ``GET /v1/views/portfolio``."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Path, Query
from fastapi.responses import Response

from contracts.inputs import Id
from contracts.views.forecast import ProjectForecast
from contracts.views.portfolio import Portfolio, ProjectStatus
from services.infrastructure.http import ProblemError, Routes, problem_responses
from services.infrastructure.parameters import DIGITS
from services.projections.query import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    View,
    decode_cursor_of,
)
from services.projections.readmodel import Snapshot
from services.projections.views.portfolio.forecasts import DEFAULT_SAMPLE_WEEKS, read_forecast
from services.projections.views.portfolio.queries import read_portfolio
from services.projections.views.portfolio.tables import NAME

# The pace of a team is measured over this many weeks unless the query asks otherwise.
DEFAULT_THROUGHPUT_WEEKS: Final = 6


def _after(cursor: str | None) -> tuple[str, str] | None:
    values = decode_cursor_of(cursor, (str, str))
    return None if values is None else (values[0], values[1])


router = Routes(tags=["views"])


@router.get(
    "/views/portfolio",
    response_model=Portfolio,
    responses=problem_responses(400, 409),
)
async def portfolio(
    view: View,
    team_id: Annotated[Id | None, Query(description="Only this team's projects.")] = None,
    status: Annotated[
        ProjectStatus | None, Query(description="Only projects in this status.")
    ] = None,
    throughput_weeks: Annotated[
        int,
        Query(ge=1, le=52, description="Weeks of completed work a team's pace is measured over."),
        DIGITS,
    ] = DEFAULT_THROUGHPUT_WEEKS,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Every project with its status, health, progress, open and overdue and blocked work,
    milestones, goals, forecast finish against target and risk flags; the goal tree with
    progress; and organisation totals per kind of work (planned, unplanned and recurring).
    """
    after = _after(cursor)

    def read(snapshot: Snapshot) -> bytes:
        return read_portfolio(
            view,
            snapshot,
            team_id=team_id,
            status=status,
            weeks=throughput_weeks,
            limit=limit,
            after=after,
        )

    content = await view.answer(NAME, read)
    return Response(content, media_type="application/json")


@router.get(
    "/forecasts/{project_id}",
    response_model=ProjectForecast,
    responses=problem_responses(400, 404, 409),
)
async def project_forecast(
    project_id: Annotated[Id, Path()],
    view: View,
    sample_weeks: Annotated[
        int,
        Query(ge=1, le=52, description="Past whole weeks of the team's throughput drawn from."),
        DIGITS,
    ] = DEFAULT_SAMPLE_WEEKS,
) -> Response:
    """When the project's open issues will be done: the exact distribution of the weeks it
    takes, drawing each week's finished issues from the team's past weeks (what a Monte Carlo
    approximates), its p50/p85/p95 dates, the probability of meeting the target date, and the
    samples. With fewer than six sample weeks that finished anything, `insufficient_data`."""

    def read(snapshot: Snapshot) -> bytes | None:
        return read_forecast(view, snapshot, project_id, sample_weeks)

    content = await view.answer(NAME, read)
    if content is None:
        when = f" as of {view.as_of.isoformat()}" if view.as_of is not None else ""
        raise ProblemError(404, "not_found", f"there is no project {project_id}{when}")
    return Response(content, media_type="application/json")
