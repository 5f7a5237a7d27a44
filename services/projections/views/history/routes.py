"""The history's routes: ``GET /v1/history`` and ``GET /v1/history/verify``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import orjson
from fastapi import Query, Response

from contracts.views.history import ChainVerdict, HistoryPage, ObjectKind
from services.infrastructure.http import ProblemError, Routes, problem_responses
from services.projections.query import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    View,
    decode_position_cursor,
    parse_as_of,
)
from services.projections.readmodel import micros
from services.projections.views.history.queries import (
    EntriesAsked,
    read_entries,
    verify_applied,
)

router = Routes(tags=["history"], responses=problem_responses(400, 409))


def _parse_time(value: str | None, field: str) -> int | None:
    try:
        moment = parse_as_of(value)
    except ProblemError:
        raise ProblemError(
            422,
            "validation_error",
            f"{field} must be an ISO 8601 time, such as 2026-03-01T12:00:00Z",
            errors=[{"field": field, "message": "not an ISO 8601 time"}],
        ) from None
    return micros(moment) if moment is not None else None


@router.get("/history", response_model=HistoryPage)
async def history(
    view: View,
    object_id: Annotated[UUID | None, Query(description="Only this object's events.")] = None,
    actor_id: Annotated[
        str | None,
        Query(max_length=64, description="Only events caused by this member (or `system`)."),
    ] = None,
    team_id: Annotated[
        UUID | None, Query(description="Only events of this team's objects.")
    ] = None,
    kind: Annotated[
        ObjectKind | None, Query(description="Only events of this kind of object.")
    ] = None,
    since: Annotated[
        str | None, Query(description="Only events that occurred at or after this ISO time.")
    ] = None,
    until: Annotated[
        str | None, Query(description="Only events that occurred before this ISO time.")
    ] = None,
    newest_first: Annotated[
        bool, Query(description="Page from the newest entry back instead of the oldest on.")
    ] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Every event as an entry with its field-level changes, in log order, filtered and paged.

    With `as_of`, only the entries of events that had occurred by then.
    """
    asked = EntriesAsked(
        object_id=object_id,
        actor_id=actor_id,
        team_id=team_id,
        kind=kind,
        since=_parse_time(since, "since"),
        until=_parse_time(until, "until"),
        after=decode_position_cursor(cursor),
        limit=limit,
        newest_first=newest_first,
    )
    answer = await read_entries(view, asked)
    # Plain data serialised by orjson: validating a page of entries into models first cost as
    # much as the query. The tests check every page against ``HistoryPage``.
    return Response(orjson.dumps(answer), media_type="application/json")


@router.get("/history/verify", response_model=ChainVerdict)
async def verify(view: View) -> ChainVerdict:
    """Recomputes every entry's hash and link, from the first entry to the last one applied.

    Answers the number of entries and the last hash, or the first entry that does not hold and
    why. The whole chain is checked whatever `as_of` says: a chain is only as sound as its start.
    """
    return await verify_applied(view)
