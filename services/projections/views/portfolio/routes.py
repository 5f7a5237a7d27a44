"""The portfolio's route: ``GET /v1/views/portfolio``."""

from __future__ import annotations

from typing import Annotated, Final
from uuid import UUID

from fastapi import Query
from fastapi.responses import Response

from contracts.views.portfolio import Portfolio, ProjectStatus
from services.infrastructure.http import Routes, problem_responses
from services.projections.query import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    View,
    decode_cursor_of,
)
from services.projections.readmodel import Snapshot
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
    team_id: Annotated[UUID | None, Query(description="Only this team's projects.")] = None,
    status: Annotated[
        ProjectStatus | None, Query(description="Only projects in this status.")
    ] = None,
    throughput_weeks: Annotated[
        int,
        Query(ge=1, le=52, description="Weeks of completed work a team's pace is measured over."),
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
