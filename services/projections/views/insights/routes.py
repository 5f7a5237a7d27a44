"""The insights' routes: ``GET /v1/insights`` and ``GET /v1/flow`` here, and
``GET /v1/summaries`` from ``summary_routes``, all on one router."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from contracts.views.flow import Flow
from contracts.views.insights import InsightKind, Insights, InsightSeverity
from services.infrastructure.http import Routes, problem_responses
from services.projections.query import DEFAULT_LIMIT, Cursor, Limit, View, decode_cursor_of
from services.projections.readmodel import Snapshot
from services.projections.views.insights import summary_routes
from services.projections.views.insights.flow import group_kinds, read_flow
from services.projections.views.insights.insight import KINDS
from services.projections.views.insights.parameters import (
    InsightRules,
    KeptJudgements,
    ScopeText,
)
from services.projections.views.insights.queries import read_insights
from services.projections.views.insights.scope import Scope
from services.projections.views.insights.tables import NAME

router = Routes(tags=["insights"])
router.include_router(summary_routes.router)


@router.get("/insights", response_model=Insights, responses=problem_responses(400, 404, 409))
async def insights(
    view: View,
    rules: InsightRules,
    judgements: KeptJudgements,
    scope: ScopeText = "org",
    kind: Annotated[
        list[InsightKind] | None, Query(description="Only these kinds (repeat for several).")
    ] = None,
    severity: Annotated[
        list[InsightSeverity] | None,
        Query(description="Only these severities (repeat for several)."),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """What needs attention in the scope, judged from the log at the moment asked about: goals
    at risk and the work they wait on, slipping projects, overloaded members and teams, idle
    capacity, unhealthy operations, aging, stale and churning work, and the triage queue
    ranked by impact; each with its explanation, since when it holds, and its evidence."""
    where = Scope.parse(scope)
    after_values = decode_cursor_of(cursor, (int, int, float, int, str))
    after = None if after_values is None else tuple(after_values)
    kinds = frozenset(kind or KINDS)
    severities = frozenset(severity or ("critical", "warning", "info"))

    def read(snapshot: Snapshot) -> bytes:
        return read_insights(
            view,
            snapshot,
            where,
            rules,
            judgements,
            kinds=kinds,
            severities=severities,
            limit=limit,
            after=after,
        )

    content = await view.answer(NAME, read)
    return Response(content, media_type="application/json")


@router.get("/flow", response_model=Flow, responses=problem_responses(400, 404, 409))
async def flow(view: View, rules: InsightRules, scope: ScopeText = "org") -> Response:
    """How work moves in the scope, measured exactly from history at the moment asked about:
    per team (the organisation), per team, member and project (a team), or for the project or
    member asked about, the p50, p85 and p95 cycle and lead times of the issues finished in the
    last `flow_window_days` days and not reopened since, the issues finished (net of
    reopenings) and their points in each of the last `flow_throughput_weeks` whole ISO weeks,
    and every started issue with its age, due-date moves, reopenings and days in each status.
    A goal has no flow of its own (`422`)."""
    where = Scope.parse(scope)
    kinds = group_kinds(where)

    def read(snapshot: Snapshot) -> bytes:
        return read_flow(view, snapshot, where, kinds, rules)

    content = await view.answer(NAME, read)
    return Response(content, media_type="application/json")
