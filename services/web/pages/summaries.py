"""``/summaries``: the written status of a scope (the organisation, a team, a project, a goal or a
member) over a period, as ``GET /v1/summaries`` writes it, set out in headed sections with links
to what they name, and printable on its own."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.infrastructure.parameters import parse_time
from services.web.page import CurrentPage, WebRoute
from services.web.reads import read_goals, read_projects, read_summary, read_teams

router = APIRouter(route_class=WebRoute, include_in_schema=False)

ScopeChoice = Annotated[str, Query(max_length=48, description="org, team:ID, project:ID, ...")]
Moment = Annotated[str | None, Query(max_length=64)]


def _moment(value: str | None, name: str) -> datetime | None:
    """A moment the form sent (an empty control means the API's default)."""
    return parse_time(value, name) if value else None


def _choices(items: list[dict[str, Any]], kind: str, title: str) -> list[tuple[str, str]]:
    named = [(f"{kind}:{item['id']}", str(item[title])) for item in items]
    return sorted(named, key=lambda choice: (choice[1].casefold(), choice[0]))


@router.get("/summaries")
async def summaries_page(
    page: CurrentPage, scope: ScopeChoice = "org", since: Moment = None, until: Moment = None
) -> Response:
    summary = await read_summary(
        page, scope or "org", since=_moment(since, "since"), until=_moment(until, "until")
    )
    return page.render("summaries.html", summary=summary)


@router.get("/summaries/scopes")
async def scope_choices(
    page: CurrentPage, scope: ScopeChoice = "org", shown: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """The scope picker with every team, project and goal: a part the summary page loads after
    it, so the page costs what its summary costs."""
    groups = {
        "Teams": _choices((await read_teams(page))["items"], "team", "name"),
        "Projects": _choices((await read_projects(page))["items"], "project", "name"),
        "Goals": _choices((await read_goals(page))["items"], "goal", "title"),
    }
    listed = {value for choices in groups.values() for value, _ in choices}
    if scope != "org" and scope not in listed:
        # A scope no list offers (a member's): kept, under the name its summary gave it.
        groups["Shown"] = [(scope, shown or scope)]
    return page.render("parts/summaries_scopes.html", groups=groups, chosen=scope)
