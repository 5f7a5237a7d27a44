"""``GET /v1/summaries``: a scope's written status over a period, as JSON or plain text."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

import orjson
from fastapi import Header, Query
from fastapi.responses import PlainTextResponse, Response

from contracts.views.summary import Summary
from services.infrastructure.http import ProblemError, Routes, problem_responses
from services.infrastructure.parameters import parse_time, time_query
from services.projections.query import View
from services.projections.readmodel import Snapshot
from services.projections.views.insights.parameters import InsightRules, ScopeText
from services.projections.views.insights.scope import Scope
from services.projections.views.insights.summary import read_summary
from services.projections.views.insights.summary_text import render
from services.projections.views.insights.tables import NAME

DEFAULT_PERIOD = timedelta(days=7)

router = Routes(tags=["insights"])


def _moment(name: str, value: str | None) -> datetime | None:
    return None if value is None else parse_time(value, name)


@router.get(
    "/summaries",
    response_model=Summary,
    responses={
        **problem_responses(400, 404, 409),
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
    },
)
async def summaries(
    view: View,
    rules: InsightRules,
    scope: ScopeText = "org",
    since: Annotated[
        str | None, time_query("The period's start (default: 7 days before `until`)")
    ] = None,
    until: Annotated[str | None, time_query("The period's end (default: now, or `as_of`)")] = None,
    format: Annotated[
        Literal["json", "text"] | None,
        Query(description="`text` for plain text (as `Accept: text/plain` asks)."),
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """A short written status of the scope over the period: what was finished and opened
    (planned apart from unplanned), what slipped, what is blocked, how goals and key results
    moved, forecasts that changed, and the insights that need attention; as sections (JSON,
    with the text in `text`), or as plain text with `Accept: text/plain` or `format=text`."""
    where = Scope.parse(scope)
    end = _moment("until", until) or view.now
    start = _moment("since", since) or end - DEFAULT_PERIOD
    if end > view.now:
        raise ProblemError(
            422,
            "validation_error",
            "until must not be after the moment the view describes (now, or as_of)",
            errors=[{"field": "until", "message": "in the future"}],
        )
    if start >= end:
        raise ProblemError(
            422,
            "validation_error",
            "since must be before until",
            errors=[{"field": "since", "message": "not before until"}],
        )

    def read(snapshot: Snapshot) -> dict[str, object]:
        return read_summary(view, snapshot, where, rules, start, end)

    summary = await view.answer(NAME, read)
    text = render(summary)
    as_text = format == "text" or (
        format is None and accept is not None and "text/plain" in accept and "json" not in accept
    )
    if as_text:
        return PlainTextResponse(text)
    content = orjson.dumps({**summary, "text": text}, option=orjson.OPT_UTC_Z)
    return Response(content, media_type="application/json")
