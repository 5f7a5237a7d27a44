"""The history's routes: ``GET /v1/history`` and ``GET /v1/history/verify``."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import Query, Response

from contracts.inputs import Id
from contracts.views.history import ChainVerdict, HistoryPage, ObjectKind
from services.infrastructure.http import Routes, problem_responses
from services.infrastructure.parameters import TRUE_OR_FALSE, parse_time, time_query
from services.projections.query import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    View,
    decode_position_cursor,
)
from services.projections.readmodel import micros
from services.projections.views.history.queries import (
    EntriesAsked,
    read_entries,
    verify_applied,
)

router = Routes(tags=["history"], responses=problem_responses(400, 409))


def _parse_time(value: str | None, field: str) -> int | None:
    return None if value is None else micros(parse_time(value, field))


@router.get("/history", response_model=HistoryPage)
async def history(
    view: View,
    object_id: Annotated[Id | None, Query(description="Only this object's events.")] = None,
    actor_id: Annotated[
        str | None,
        Query(max_length=64, description="Only events caused by this member (or `system`)."),
    ] = None,
    team_id: Annotated[Id | None, Query(description="Only events of this team's objects.")] = None,
    kind: Annotated[
        ObjectKind | None, Query(description="Only events of this kind of object.")
    ] = None,
    since: Annotated[
        str | None, time_query("Only events that occurred at or after this moment")
    ] = None,
    until: Annotated[str | None, time_query("Only events that occurred before this moment")] = None,
    newest_first: Annotated[
        bool,
        Query(description="Page from the newest entry back instead of the oldest on."),
        TRUE_OR_FALSE,
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
