"""``/team``: what managers read — each member's open work against their capacity, recurring
work as the baseline under it, what is overdue, blocked and in progress, the unassigned backlog,
the untriaged count and the team's weekly throughput. Aging work, an expensive judgement, loads
after the page (``/team/aging``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.infrastructure.http import ProblemError
from services.web.charts import Column, columns, share
from services.web.compare import MEMBER_FIGURES, changes_between
from services.web.page import CurrentPage, Page, WebRoute
from services.web.reads import read_history, read_insights, read_team_workload, read_teams

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# How far back the time slider reaches.
SLIDER_DAYS = 56
# The history entries listed under "compare with".
COMPARED_ENTRIES = 50

TeamChoice = Annotated[UUID | None, Query(description="The team shown.")]


@dataclass(frozen=True)
class LoadBar:
    """Open work as a bar over weekly capacity, in percent of the bar (which ends at 150% of
    capacity): recurring work due in the next two weeks first, the rest of the open work after
    it, and where 100% of capacity falls."""

    baseline: float
    rest: float
    full: float
    over: bool

    @classmethod
    def of(cls, figures: dict[str, Any]) -> LoadBar | None:
        capacity = figures["weekly_capacity"]
        if not capacity:
            return None
        total = figures["open_assigned"]["estimate"]
        recurring = min(figures["upcoming_occurrences"]["estimate"], total)
        baseline = share(recurring, capacity)
        return cls(
            baseline=baseline,
            rest=round(max(share(total, capacity) - baseline, 0.0), 1),
            full=share(capacity, capacity),
            over=(figures["load_ratio"] or 0.0) > 1.0,
        )


def by_name(teams: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(teams, key=lambda team: (str(team["name"]).casefold(), str(team["id"])))


def default_team(teams: list[dict[str, Any]], member_id: UUID | None) -> dict[str, Any] | None:
    """The team a page without ``team`` shows: the first the member leads, else the first they
    belong to, else the first by name."""
    ordered = by_name(teams)
    if member_id is not None:
        mine = str(member_id)
        for role in ("lead_ids", "member_ids"):
            found = [team for team in ordered if mine in {str(i) for i in team[role]}]
            if found:
                return found[0]
    return ordered[0] if ordered else None


def throughput_columns(weeks: list[dict[str, Any]]) -> list[Column]:
    return columns([(str(week["week"]), float(week["completed"])) for week in weeks])


async def _workload_then(page: Page, team_id: UUID) -> dict[str, Any] | None:
    """The team's workload at the compared moment, or ``None`` if it did not exist then."""
    assert page.compare is not None
    try:
        return await read_team_workload(page, team_id, as_of=page.compare)
    except ProblemError as refusal:
        if refusal.status == 404:
            return None
        raise


def _team_and_members(workload: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [] if workload is None else [workload, *workload["members"]]


def _name(item: dict[str, Any]) -> str:
    return f"{item['name']} (whole team)" if "members" in item else str(item["name"])


async def _changes(page: Page, team_id: UUID, shown: dict[str, Any]) -> dict[str, Any]:
    """Per member (and for the team), the figures that differ between the two moments, and the
    team's history entries recorded between them."""
    assert page.compare is not None
    compared = await _workload_then(page, team_id)
    earlier, later = sorted((page.compare, page.moment))
    before, after = _team_and_members(compared), _team_and_members(shown)
    if page.compare > page.moment:
        before, after = after, before
    entries = await read_history(
        page, team_id=team_id, since=earlier, until=later, limit=COMPARED_ENTRIES, present=True
    )
    return {
        "figures": changes_between(before, after, MEMBER_FIGURES, name=_name),
        "entries": entries["items"],
        "more": entries.get("next_cursor") is not None,
        "earlier": earlier,
        "later": later,
    }


@router.get("/team")
async def team_page(page: CurrentPage, team: TeamChoice = None) -> Response:
    # The picker's teams are read here only when they choose the team shown; otherwise the
    # picker loads after the page (``/team/choices``), so the page costs what its workload does.
    teams: list[dict[str, Any]] | None = None
    if team is None:
        teams = by_name((await read_teams(page))["items"])
        chosen = default_team(teams, page.principal.member_id)
        team = None if chosen is None else UUID(str(chosen["id"]))
    if team is None:
        return page.render("team.html", teams=teams, workload=None, slider_days=SLIDER_DAYS)
    workload = await read_team_workload(page, team)
    members = [(member, LoadBar.of(member)) for member in workload["members"]]
    changes = await _changes(page, team, workload) if page.compare is not None else None
    return page.render(
        "team.html",
        teams=teams,
        workload=workload,
        team_bar=LoadBar.of(workload),
        members=members,
        names={str(member["id"]): member["name"] for member in workload["members"]},
        throughput=throughput_columns(workload["throughput"]),
        changes=changes,
        slider_days=SLIDER_DAYS,
    )


@router.get("/team/choices")
async def team_choices(page: CurrentPage, team: TeamChoice = None) -> Response:
    """The team picker's list of every team (a part the team page loads after it)."""
    teams = by_name((await read_teams(page))["items"])
    return page.render("parts/team_picker.html", teams=teams, chosen=str(team or ""))


@router.get("/team/aging")
async def team_aging(page: CurrentPage, team: Annotated[UUID, Query()]) -> Response:
    """The team's aging work, judged by the insights (a part the team page loads after it)."""
    answer = await read_insights(page, f"team:{team}", kinds=["aging_work"], limit=50)
    return page.render("parts/team_aging.html", insights=answer["items"], counts=answer["counts"])
