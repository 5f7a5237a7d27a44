"""The queue's routes: ``/v1/views/queue/me`` and ``/v1/views/queue/{member_id}``."""

from __future__ import annotations

from uuid import UUID

import orjson
from fastapi.responses import Response

from contracts.inputs import Id
from contracts.views.queue import QueuePage
from services.infrastructure.http import ProblemError, Routes, problem_responses
from services.projections.query import DEFAULT_LIMIT, Cursor, Limit, View, ViewRequest
from services.projections.views.queue.order import decode_rank
from services.projections.views.queue.queries import read_queue
from services.projections.views.queue.tables import NAME

router = Routes(tags=["views"])


@router.get(
    "/views/queue/me",
    response_model=QueuePage,
    responses=problem_responses(400, 409, described={404: "The token acts for no member."}),
)
async def my_queue(view: View, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Response:
    """The queue of the member the token acts for."""
    member_id = view.principal.member_id
    if member_id is None:
        raise ProblemError(
            404, "not_found", "this token acts for no member, so it has no queue of its own"
        )
    return await _queue(view, member_id, limit, cursor)


@router.get(
    "/views/queue/{member_id}",
    response_model=QueuePage,
    responses=problem_responses(
        400, 409, described={404: "No such member (at `as_of`, when given)."}
    ),
)
async def member_queue(
    member_id: Id, view: View, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response:
    """A member's open work — issues assigned to them in an open status and operation
    occurrences assigned to them — in a stable, explained order: urgent or overdue first, then
    by priority, due date (none last), impact on active goals or other open work, and age. Each
    item says why it ranks where it does and carries its project, goals, what it blocks and who
    is waiting on it."""
    return await _queue(view, member_id, limit, cursor)


async def _queue(view: ViewRequest, member_id: UUID, limit: int, cursor: str | None) -> Response:
    after = decode_rank(cursor)
    page = await view.answer(
        NAME, lambda snapshot: read_queue(view, snapshot, str(member_id), limit, after)
    )
    # Plain data serialised by orjson, as pydantic would (UTC as ``Z``) at a fraction of the cost
    # of validating the page into models first; the tests check every answer against the model.
    return Response(orjson.dumps(page, option=orjson.OPT_UTC_Z), media_type="application/json")
