"""What the pages read: the query API's own route functions, called in process.

A page calls the same function ``GET /v1/...`` runs, with the same reading conditions (the
page's moment, ``min_position``), and reads the answer that route would have sent. There is no
second way to read a view: a page shows what the API answers, at the same moment, and a fix to a
query is a fix to both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from fastapi import Response

from contracts.views.history import ObjectKind
from contracts.views.insights import InsightKind, InsightSeverity
from services.projections.query import MAX_LIMIT
from services.projections.views.entities import routes as entities
from services.projections.views.history import routes as history
from services.projections.views.insights import routes as insights
from services.projections.views.insights import summary_routes as summaries
from services.projections.views.insights.parameters import judgements_of, rules_of
from services.projections.views.portfolio import routes as portfolio
from services.projections.views.queue import routes as queue
from services.projections.views.workload import routes as workload
from services.web.page import Page

Answer = dict[str, Any]


def _body(response: Response) -> Answer:
    content: Answer = orjson.loads(bytes(response.body))
    return content


async def read_portfolio(page: Page, *, as_of: datetime | None = None, limit: int = 100) -> Answer:
    response = await portfolio.portfolio(page.view(as_of), limit=limit)
    return _body(response)


async def read_forecast(page: Page, project_id: UUID) -> Answer:
    return _body(await portfolio.project_forecast(project_id, page.view()))


async def read_teams_workload(page: Page, *, as_of: datetime | None = None) -> Answer:
    return _body(await workload.every_team_workload(page.view(as_of), limit=MAX_LIMIT))


async def read_team_workload(page: Page, team_id: UUID, *, as_of: datetime | None = None) -> Answer:
    return _body(await workload.team_workload(team_id, page.view(as_of)))


async def read_queue(
    page: Page, member_id: UUID, *, limit: int = 100, as_of: datetime | None = None
) -> Answer:
    return _body(await queue.member_queue(member_id, page.view(as_of), limit=limit))


async def read_history(
    page: Page,
    *,
    object_id: UUID | None = None,
    team_id: UUID | None = None,
    kind: ObjectKind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    newest_first: bool = True,
    limit: int = 50,
    present: bool = False,
) -> Answer:
    response = await history.history(
        page.view(present=present),
        object_id=object_id,
        team_id=team_id,
        kind=kind,
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        newest_first=newest_first,
        limit=limit,
    )
    return _body(response)


async def read_insights(
    page: Page,
    scope: str,
    *,
    kinds: list[InsightKind] | None = None,
    severities: list[InsightSeverity] | None = None,
    limit: int = 100,
    as_of: datetime | None = None,
    cursor: str | None = None,
) -> Answer:
    request = page.request
    response = await insights.insights(
        page.view(as_of),
        rules_of(request),
        judgements_of(request),
        scope=scope,
        kind=kinds,
        severity=severities,
        limit=limit,
        cursor=cursor,
    )
    return _body(response)


async def read_flow(page: Page, scope: str) -> Answer:
    return _body(await insights.flow(page.view(), rules_of(page.request), scope=scope))


async def read_summary(
    page: Page, scope: str, *, since: datetime | None = None, until: datetime | None = None
) -> Answer:
    response = await summaries.summaries(
        page.view(),
        rules_of(page.request),
        scope=scope,
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        format="json",
    )
    return _body(response)


# Objects, as ``GET /v1/{kind}/{id}`` and the lists answer them.


async def read_issue(page: Page, issue_id: UUID, *, as_of: datetime | None = None) -> Answer:
    return await entities.get_issue(issue_id, page.view(as_of), Response())


async def read_project(page: Page, project_id: UUID, *, as_of: datetime | None = None) -> Answer:
    return await entities.get_project(project_id, page.view(as_of), Response())


async def read_goal(page: Page, goal_id: UUID, *, as_of: datetime | None = None) -> Answer:
    return await entities.get_goal(goal_id, page.view(as_of), Response())


async def read_team(page: Page, team_id: UUID) -> Answer:
    return await entities.get_team(team_id, page.view(), Response())


async def read_member(page: Page, member_id: UUID) -> Answer:
    return await entities.get_member(member_id, page.view(), Response())


async def read_teams(page: Page) -> Answer:
    return await entities.list_teams(page.view(), limit=MAX_LIMIT)


async def read_members(page: Page, *, team_id: UUID | None = None) -> Answer:
    return await entities.list_members(page.view(), team_id=team_id, active=True, limit=MAX_LIMIT)


async def read_comments(page: Page, issue_id: UUID) -> Answer:
    return await entities.list_comments(issue_id, page.view(), limit=MAX_LIMIT)


async def read_issues(page: Page, **filters: Any) -> Answer:
    return await entities.list_issues(page.view(), **filters)


async def read_projects(page: Page) -> Answer:
    return await entities.list_projects(page.view(), limit=MAX_LIMIT)


async def read_goals(page: Page) -> Answer:
    return await entities.list_goals(page.view(), limit=MAX_LIMIT)
