"""The workload's routes: ``/v1/views/workload`` and ``/v1/views/workload/{team_id}``."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response

from contracts.inputs import Id
from contracts.views.workload import TeamWorkloadDetail, WorkloadPage
from services.infrastructure.http import Routes, problem_responses
from services.projections.query import DEFAULT_LIMIT, Cursor, Limit, View, decode_cursor_of
from services.projections.views.workload.queries import read_page, read_team
from services.projections.views.workload.tables import NAME


def _decode_team_cursor(cursor: str | None) -> tuple[str, str] | None:
    values = decode_cursor_of(cursor, (str, str))
    return None if values is None else (values[0], values[1])


def _json(answer: dict[str, Any]) -> Response:
    # Plain values serialised by orjson, as pydantic would write the model, at a fraction of the
    # cost of building the answer's hundreds of small models first (eight weeks for the team
    # and for each member; five models for each team of a page). The tests check every answer
    # against the model.
    return Response(orjson.dumps(answer), media_type="application/json")


router = Routes(tags=["views"])


@router.get("/views/workload", response_model=WorkloadPage, responses=problem_responses(400, 409))
async def every_team_workload(
    view: View, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response:
    """Every team's workload, summarised, by name: open assigned work and its estimate, weekly
    capacity and load ratio, work in progress, overdue, blocked, upcoming occurrences,
    unassigned backlog and untriaged issues."""
    after = _decode_team_cursor(cursor)
    page = await view.answer(NAME, lambda snapshot: read_page(view, snapshot, limit, after))
    return _json(page)


@router.get(
    "/views/workload/{team_id}",
    response_model=TeamWorkloadDetail,
    responses=problem_responses(409, described={404: "No such team (at `as_of`, when given)."}),
)
async def team_workload(team_id: Id, view: View) -> Response:
    """One team's workload in full: its figures, each member's (over all the work assigned to
    them), and what the team and each member completed in each of the last 8 ISO weeks."""
    return _json(await view.answer(NAME, lambda snapshot: read_team(view, snapshot, team_id)))
