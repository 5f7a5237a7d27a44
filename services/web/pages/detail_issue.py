"""What the issue page shows, read once for the page and again after a form changed the issue."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any
from uuid import UUID

from domain.issue import WORKFLOW
from services.projections.query import MAX_LIMIT
from services.web.compare import Change, Figure
from services.web.page import Page
from services.web.pages.detail_common import (
    dig,
    entries_between,
    names_of,
    object_changes,
    or_none,
)
from services.web.reads import (
    read_comments,
    read_goals,
    read_history,
    read_issue,
    read_members,
    read_project,
    read_team,
)

PRIORITIES = ("urgent", "high", "medium", "low", "none")

# Where an issue may move from each status, in the workflow's order: the domain's own table (a
# rule to show, not a decision: the command decides, and refuses any other move).
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    status: tuple(move for move in WORKFLOW if move in moves) for status, moves in WORKFLOW.items()
}

ISSUE_FIGURES: tuple[Figure, ...] = (
    ("title", dig("title")),
    ("status", dig("status")),
    ("priority", dig("priority")),
    ("assignee", dig("assignee_id")),
    ("estimate", dig("estimate")),
    ("due date", dig("due_date")),
    ("labels", lambda issue: ", ".join(issue.get("labels") or []) or None),
    ("blocked", dig("blocked")),
    ("comments", dig("comment_count")),
    ("version", dig("version")),
)


def _named(change: Change, names: dict[str, str]) -> Change:
    """An assignee as the person's name, when the page knows it."""
    if change.figure != "assignee":
        return change
    return replace(
        change,
        earlier=names.get(str(change.earlier), change.earlier),
        later=names.get(str(change.later), change.later),
    )


async def issue_context(page: Page, issue_id: UUID) -> dict[str, Any]:
    """What the issue page shows itself: the issue, its comments, its history and its team's
    members (the names of the people it mentions, and whom it may be assigned to). What it
    belongs to and links to, by name, is a part the page loads after it (``links_context``)."""
    issue = await read_issue(page, issue_id)
    comments, history, members = await asyncio.gather(
        read_comments(page, issue_id),
        read_history(page, object_id=issue_id, newest_first=False, limit=MAX_LIMIT),
        read_members(page, team_id=UUID(issue["team_id"])),
    )
    names = names_of(members["items"])
    names[str(issue["id"])] = issue.get("key") or issue["title"]
    changes = None
    if page.compare is not None:
        compared = await or_none(read_issue(page, issue_id, as_of=page.compare))
        label = f"{issue.get('key') or ''} {issue['title']}".strip()
        changes = {
            "figures": [
                _named(change, names)
                for change in object_changes(compared, issue, page, ISSUE_FIGURES, label)
            ],
            **(await entries_between(page, issue_id)),
        }
    return {
        "issue": issue,
        "comments": comments["items"],
        "history": history["items"],
        "history_more": history.get("next_cursor") is not None,
        "names": names,
        "team_members": members["items"],
        "next_statuses": NEXT_STATUSES[issue["status"]],
        "priorities": PRIORITIES,
        "changes": changes,
        "notice": None,
    }


# An issue links to a few others (its parent, sub-issues, dependencies); beyond this many, the
# rest are listed by id.
MOST_NAMED_ISSUES = 50


async def links_context(page: Page, issue_id: UUID) -> dict[str, Any]:
    """What the issue belongs to and links to, by name."""
    issue = await read_issue(page, issue_id)
    related = [
        UUID(str(other))
        for other in dict.fromkeys(
            [
                *([issue["parent_id"]] if issue.get("parent_id") else []),
                *issue["sub_issue_ids"],
                *issue["blocked_by"],
                *issue["blocks"],
            ]
        )
    ][:MOST_NAMED_ISSUES]
    project_id = issue.get("project_id")
    (team, project, goals), others = await asyncio.gather(
        asyncio.gather(
            read_team(page, UUID(issue["team_id"])),
            read_project(page, UUID(project_id)) if project_id else _nothing(),
            read_goals(page) if issue["goal_ids"] or issue["affects"] else _nothing(),
        ),
        asyncio.gather(*(or_none(read_issue(page, other)) for other in related)),
    )
    found = [other for other in others if other is not None]
    names = names_of([team], [project] if project else [])
    names.update(names_of((goals or {}).get("items", []), label="title"))
    names.update(
        {str(other["id"]): f"{other.get('key') or ''} {other['title']}" for other in found}
    )
    return {
        "issue": issue,
        "team": team,
        "project": project,
        "names": names,
        "statuses": {str(other["id"]): other["status"] for other in found},
    }


async def _nothing() -> None:
    return None
