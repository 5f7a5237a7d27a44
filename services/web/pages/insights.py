"""``/insights``: what needs attention in a scope and why, as ``GET /v1/insights`` judges it.

Each insight is shown with its evidence as the API gives it: every object it rests on links to
that object's page, and every log position behind a claim links to the entry of the object's
history on its page (``#entry-<position>``), so a claim can be followed to the events that made
it so. Comparing two moments tells which insights appeared and which went away between them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any, get_args
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response

from contracts.views.insights import InsightKind, InsightSeverity
from services.infrastructure.http import ProblemError
from services.projections.query import MAX_CURSOR_LENGTH
from services.projections.views.insights.scope import Scope
from services.web.page import CurrentPage, Page, WebRoute
from services.web.reads import (
    Answer,
    read_goal,
    read_goals,
    read_insights,
    read_member,
    read_members,
    read_project,
    read_projects,
    read_team,
    read_teams,
)
from services.web.render import label, number

router = APIRouter(route_class=WebRoute, include_in_schema=False)

KINDS: tuple[str, ...] = get_args(InsightKind)
SEVERITIES: tuple[str, ...] = get_args(InsightSeverity)
# As many as one page of the API holds; the counts say how many match in all.
SHOWN = 100
# A page of insights shows this many (the most pressing first) and links to the next.
PAGE_SIZE = 25
# Objects whose pages list their history with an ``entry-<position>`` anchor per event.
PAGED_KINDS = ("issue", "project", "goal")
# How far back the time slider reaches.
SLIDER_DAYS = 56


@dataclass(frozen=True)
class Link:
    """A thing named on the page, and where it leads (``None``: it has no page of its own)."""

    text: str
    href: str | None


@dataclass(frozen=True)
class EvidenceShown:
    about: Link
    kind: str
    values: list[tuple[str, str]]
    events: list[Link]


@dataclass(frozen=True)
class InsightShown:
    insight: dict[str, Any]
    subjects: list[Link]
    evidence: list[EvidenceShown]

    @property
    def event_count(self) -> int:
        return sum(len(fact.events) for fact in self.evidence)

    @property
    def main(self) -> Link | None:
        """The subject a row opens: the first with a page."""
        return next((subject for subject in self.subjects if subject.href), None)

    @property
    def identity(self) -> tuple[str, tuple[str, ...]]:
        """The same condition at two moments: its kind on the same objects."""
        objects = tuple(str(item["id"]) for item in self.insight["objects"])
        return self.insight["kind"], objects


def object_href(page: Page, kind: str, object_id: str, goal_id: str | None = None) -> str | None:
    """The page of an object an insight names, at the page's moments; a key result's is its
    goal's."""
    if kind in PAGED_KINDS:
        return page.url(f"/{kind}s/{object_id}")
    if kind == "team":
        return page.url("/team", team=object_id)
    if kind == "member":
        return page.url("/my-work", member=object_id)
    if kind == "key_result" and goal_id is not None:
        return page.url(f"/goals/{goal_id}")
    return None


def value_text(value: Any, names: dict[str, str]) -> str:
    """A value of the evidence as a person reads it: an id the insight names, by its name."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, list):
        return ", ".join(value_text(item, names) for item in value) or "none"
    if isinstance(value, dict):
        return "; ".join(
            f"{names.get(key, label(key))} {value_text(item, names)}" for key, item in value.items()
        )
    return names.get(str(value), str(value))


def _name(item: dict[str, Any]) -> str:
    return str(item.get("name") or f"{label(item['kind'])} {str(item['id'])[:8]}")


def shown(page: Page, insight: dict[str, Any]) -> InsightShown:
    """An insight with every object and event it names linked to where it can be read."""
    goal_id = next((str(o["id"]) for o in insight["objects"] if o["kind"] == "goal"), None)
    named = [*insight["objects"], *(fact["object"] for fact in insight["evidence"])]
    names = {str(item["id"]): _name(item) for item in named}
    subjects = [
        Link(_name(item), object_href(page, item["kind"], str(item["id"]), goal_id))
        for item in insight["objects"]
    ]
    evidence = []
    for fact in insight["evidence"]:
        about = fact["object"]
        href = object_href(page, about["kind"], str(about["id"]), goal_id)
        events = [
            Link(f"#{position}", f"{href}#entry-{position}" if href else None)
            for position in fact["positions"]
        ]
        values = [(label(key), value_text(value, names)) for key, value in fact["values"].items()]
        evidence.append(EvidenceShown(Link(_name(about), href), about["kind"], values, events))
    return InsightShown(insight, subjects, evidence)


@dataclass(frozen=True)
class InsightChanges:
    """Which insights hold at the later moment and not the earlier, and the other way."""

    earlier: datetime
    later: datetime
    appeared: list[InsightShown]
    went_away: list[InsightShown]
    partial: bool
    absent: bool


def changes_between(
    page: Page, earlier: dict[str, Any], later: dict[str, Any], moments: tuple[datetime, datetime]
) -> InsightChanges:
    before = {item.identity: item for item in (shown(page, i) for i in earlier["items"])}
    after = {item.identity: item for item in (shown(page, i) for i in later["items"])}
    partial = earlier["next_cursor"] is not None or later["next_cursor"] is not None
    return InsightChanges(
        moments[0],
        moments[1],
        [item for identity, item in after.items() if identity not in before],
        [item for identity, item in before.items() if identity not in after],
        partial,
        absent=False,
    )


async def compared(
    page: Page,
    scope: str,
    kinds: list[InsightKind] | None,
    severities: list[InsightSeverity] | None,
    answer: Answer,
) -> InsightChanges | None:
    """What changed between the page's moment and ``compare``: the insights of both, read the
    same way. A scope that names nothing at the other moment had no insights then."""
    if page.compare is None:
        return None
    try:
        other = await read_insights(
            page, scope, kinds=kinds, severities=severities, limit=SHOWN, as_of=page.compare
        )
        absent = False
    except ProblemError as refusal:
        if refusal.status != 404:
            raise
        other, absent = {"items": [], "next_cursor": None}, True
    if page.compare < page.moment:
        changes = changes_between(page, other, answer, (page.compare, page.moment))
    else:
        changes = changes_between(page, answer, other, (page.moment, page.compare))
    return replace(changes, absent=absent)


async def scope_name(page: Page, scope: Scope) -> str:
    """What the scope is called at the page's moment (``404`` when it names nothing then)."""
    if scope.id is None:
        return "the organisation"
    found = UUID(scope.id)
    if scope.kind == "team":
        return f"team {(await read_team(page, found))['name']}"
    if scope.kind == "project":
        project = await read_project(page, found)
        return f"project {project['key']} {project['name']}"
    if scope.kind == "goal":
        return f"goal {(await read_goal(page, found))['title']}"
    return f"member {(await read_member(page, found))['name']}"


Kinds = Annotated[list[InsightKind] | None, Query()]
Severities = Annotated[list[InsightSeverity] | None, Query()]
ScopeParameter = Annotated[str, Query(max_length=48)]


@router.get("/insights")
async def insights_page(
    page: CurrentPage,
    scope: ScopeParameter = "org",
    kind: Kinds = None,
    severity: Severities = None,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)] = None,
) -> Response:
    where = Scope.parse(scope)
    kinds = list(kind) if kind else None
    severities = list(severity) if severity else None
    # The insights and the scope's name at once: the reads run on threads of their own.
    answer, name = await asyncio.gather(
        read_insights(
            page,
            str(where),
            kinds=kinds,
            severities=severities,
            limit=SHOWN if page.compare is not None else PAGE_SIZE,
            cursor=cursor,
        ),
        scope_name(page, where),
    )
    changes = await compared(page, str(where), kinds, severities, answer)
    following = answer.get("next_cursor")
    request_url = page.request.url
    return page.render(
        "insights.html",
        answer=answer,
        insights=[shown(page, insight) for insight in answer["items"]],
        more_url=(
            request_url.path + "?" + request_url.include_query_params(cursor=following).query
            if following
            else None
        ),
        scope=str(where),
        scope_name=name,
        kinds=KINDS,
        severities=SEVERITIES,
        chosen_kinds=kinds or [],
        chosen_severities=severities or [],
        changes=changes,
        slider_days=SLIDER_DAYS,
    )


@router.get("/insights/scopes")
async def scope_choices(page: CurrentPage, scope: ScopeParameter = "org") -> Response:
    """The scope picker's choices (every team, project, goal and active member at the page's
    moment), loaded after the page so the page costs what its query costs."""
    teams = await read_teams(page)
    projects = await read_projects(page)
    goals = await read_goals(page)
    members = await read_members(page)
    groups = [
        ("Teams", [(f"team:{t['id']}", t["name"]) for t in teams["items"]]),
        (
            "Projects",
            [(f"project:{p['id']}", f"{p['key']} {p['name']}") for p in projects["items"]],
        ),
        ("Goals", [(f"goal:{g['id']}", g["title"]) for g in goals["items"]]),
        ("Members", [(f"member:{m['id']}", m["name"]) for m in members["items"]]),
    ]
    return page.render("parts/insight_scopes.html", groups=groups, scope=scope)
