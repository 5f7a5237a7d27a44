"""``/triage``: the triage queue, highest impact first, where a lead triages an issue in a
keystroke.

The queue is ``GET /v1/insights?kind=triage`` for the organisation or one team: each issue with
its score and the parts of the score. An admin, or a manager acting for a lead of the issue's
team, accepts it to the backlog or to do (with a priority and an assignee) or cancels it, on the
row. The row posts the version it was drawn from: each command runs on the version the one
before it answered (priority, then assignment, then the move out of triage), so an issue changed
since the page was drawn is refused with ``412`` before anything is written.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from contracts.commands import AssignIssue, TransitionIssue, UpdateIssue
from services.command.errors import COMMAND_ERRORS, problem_of
from services.command.routes import issues
from services.infrastructure.http import ProblemError
from services.infrastructure.tokens import Principal
from services.projections.query import MAX_LIMIT
from services.web.commands import FormFields, body_of, read_form, run_command
from services.web.page import CurrentPage, Page, WebRoute, problem_title
from services.web.pages.insights import InsightShown, shown
from services.web.pages.team import by_name
from services.web.reads import (
    read_insights,
    read_issue,
    read_issues,
    read_member,
    read_members,
    read_team,
    read_teams,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PRIORITIES = ("urgent", "high", "medium", "low")
# What each control does: the status an issue leaves triage for.
ACTIONS = {"backlog": "backlog", "todo": "todo", "cancel": "cancelled"}
# As many as one page of the API holds, highest score first.
QUEUE = 100
REFUSALS = (ProblemError, *COMMAND_ERRORS)


def may_triage(principal: Principal, team: dict[str, Any]) -> bool:
    """An admin triages every team's issues; a manager those of the teams they lead."""
    if principal.may("admin"):
        return True
    leads = {str(lead) for lead in team["lead_ids"]}
    return principal.may("manager") and str(principal.member_id) in leads


@dataclass(frozen=True)
class QueueRow:
    """An issue of the queue; ``issue`` and ``assignees`` only when the person may triage it."""

    shown: InsightShown
    issue_id: str
    issue: dict[str, Any] | None
    assignees: list[dict[str, Any]]


async def _triageable(
    page: Page, team: UUID | None, queued: list[str]
) -> dict[str, dict[str, Any]]:
    """The queued issues still in triage, by id (the API's list of issues in triage, and any
    queued issue past its first page read by itself)."""
    listed = await read_issues(page, status="triage", team_id=team, limit=MAX_LIMIT)
    found = {str(issue["id"]): issue for issue in listed["items"]}
    if listed.get("next_cursor") is not None:
        missing = [issue_id for issue_id in queued if issue_id not in found]
        for issue in await asyncio.gather(*(read_issue(page, UUID(i)) for i in missing)):
            found[str(issue["id"])] = issue
    return {issue_id: found[issue_id] for issue_id in queued if issue_id in found}


async def _leading(page: Page, team_ids: set[str]) -> set[str]:
    """Which of ``team_ids`` the person may triage: all of them for an admin, those they lead
    for a manager."""
    if page.principal.may("admin") or not team_ids:
        return team_ids
    teams = (await read_teams(page))["items"]
    return {
        str(t["id"]) for t in teams if str(t["id"]) in team_ids and may_triage(page.principal, t)
    }


async def queue_rows(
    page: Page, items: list[dict[str, Any]], team: dict[str, Any] | None
) -> list[QueueRow]:
    """The queue's rows; those the person may triage with the issue and its team's members.

    Only an admin, or a manager for the teams they lead, gets controls, so only they cost more
    reads: the issues in triage, and each of their teams' members (one team's beside its
    issues); the reads of one step run at once, on threads of their own."""
    queued = [str(item["objects"][0]["id"]) for item in items]
    issues_shown: dict[str, dict[str, Any]] = {}
    assignees: dict[str, list[dict[str, Any]]] = {}
    if page.may_change_work and queued and page.principal.may("manager"):
        if team is not None:
            if may_triage(page.principal, team):
                team_id = UUID(str(team["id"]))
                waiting, crew = await asyncio.gather(
                    _triageable(page, team_id, queued), read_members(page, team_id=team_id)
                )
                assignees[str(team_id)] = crew["items"]
                issues_shown = {
                    i: issue for i, issue in waiting.items() if str(issue["team_id"]) in assignees
                }
        else:
            waiting = await _triageable(page, None, queued)
            leading = await _leading(page, {str(i["team_id"]) for i in waiting.values()})
            issues_shown = {
                i: issue for i, issue in waiting.items() if str(issue["team_id"]) in leading
            }
            ordered = sorted(leading)
            found = await asyncio.gather(*(read_members(page, team_id=UUID(t)) for t in ordered))
            assignees = {t: crew["items"] for t, crew in zip(ordered, found, strict=True)}
    rows = []
    for item, issue_id in zip(items, queued, strict=True):
        issue = issues_shown.get(issue_id)
        members = assignees.get(str(issue["team_id"]), []) if issue else []
        rows.append(QueueRow(shown(page, item), issue_id, issue, members))
    return rows


@router.get("/triage")
async def triage_page(page: CurrentPage, team: Annotated[UUID | None, Query()] = None) -> Response:
    scope = f"team:{team}" if team else "org"
    queue = read_insights(page, scope, kinds=["triage"], limit=QUEUE)
    if team is None:
        answer, shown_team = await queue, None
    else:
        # The queue and the team at once: the reads run on threads of their own.
        answer, shown_team = await asyncio.gather(queue, read_team(page, team))
    rows = await queue_rows(page, answer["items"], shown_team)
    return page.render(
        "triage.html",
        answer=answer,
        rows=rows,
        shown_team=shown_team,
        team=str(team) if team else None,
        controls=any(row.issue for row in rows),
        priorities=PRIORITIES,
    )


@router.get("/triage/teams")
async def team_choices(page: CurrentPage, team: Annotated[UUID | None, Query()] = None) -> Response:
    """The team picker's list of every team (a part the triage page loads after it)."""
    teams = by_name((await read_teams(page))["items"])
    return page.render(
        "parts/team_picker.html",
        teams=teams,
        chosen=str(team or ""),
        picker_id="team",
        every="Every team",
    )


@dataclass(frozen=True)
class Decision:
    """What a lead decided about an issue, as it was done."""

    issue: dict[str, Any]
    status: str
    priority: str | None
    assignee: str | None


async def _decide(page: Page, issue_id: UUID, form: FormFields) -> Decision:
    action = form.required("action")
    if action not in ACTIONS:
        raise ProblemError(422, "validation_error", "action must be backlog, todo or cancel")
    version = form.whole("version")
    if version is None:
        raise ProblemError(422, "validation_error", "version is required")
    priority = form.text("priority")
    if priority is not None and priority not in PRIORITIES:
        raise ProblemError(422, "validation_error", "priority must be urgent, high, medium or low")
    assignee_id = form.uuid("assignee_id")
    issue = await read_issue(page, issue_id)
    team = await read_team(page, UUID(str(issue["team_id"])))
    if not page.may_change_work or not may_triage(page.principal, team):
        raise ProblemError(
            403, "forbidden", f"only an admin or a lead of {team['name']} triages its issues"
        )
    assignee = None
    if action != "cancel":
        # Accepting sets the priority and the assignee first, so the issue leaves triage whole.
        if priority is not None:
            data = body_of(UpdateIssue, {"priority": priority})
            done = await run_command(
                page, issues.update_issue, if_match=version, issue_id=issue_id, data=data
            )
            version = done["version"]
        chosen = str(assignee_id) if assignee_id else None
        data = body_of(AssignIssue, {"assignee_id": chosen})
        done = await run_command(
            page, issues.assign_issue, if_match=version, issue_id=issue_id, data=data
        )
        version = done["version"]
        if assignee_id is not None:
            assignee = str((await read_member(page, assignee_id))["name"])
    data = body_of(TransitionIssue, {"status": ACTIONS[action]})
    await run_command(page, issues.transition_issue, if_match=version, issue_id=issue_id, data=data)
    return Decision(issue, ACTIONS[action], priority if action != "cancel" else None, assignee)


@router.post("/triage/{issue_id}")
async def triage_issue(page: CurrentPage, issue_id: UUID) -> Response:
    """One issue triaged from its row: the row comes back saying what was done, or why not."""
    form = await read_form(page)
    by_script = page.request.headers.get("hx-request") is not None
    try:
        decision = await _decide(page, issue_id, form)
    except REFUSALS as error:
        if not by_script:
            raise
        problem = problem_of(error)
        return page.render(
            "parts/triage_refused.html",
            status=problem.status,
            code=problem.status,
            title=problem_title(problem.status),
            issue_id=str(issue_id),
            problem=problem,
        )
    if not by_script:
        return RedirectResponse(page.url("/triage"), status_code=303)
    return page.render("parts/triage_done.html", decision=decision, issue_id=str(issue_id))
