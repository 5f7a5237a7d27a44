"""Where an item stands in a queue and why: its rank, and the reasons the answer gives for it.

Urgent or overdue first, then by priority, due date (none last), impact on active goals or other
open work, and age; a cursor is the rank of the last item of a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from uuid import UUID

from domain.issue import PRIORITIES
from domain.operation import Occurrence, is_late
from services.projections.query import decode_cursor_of
from services.projections.views.queue.tables import ACTIVE_GOAL, EMPTY, OCCURRENCE, ids_in

# Sorts after every ISO date, so items without a due date come last.
NO_DUE_DATE = "9999-12-31"

Rank = tuple[int, int, str, int, int, str, str]
PRIORITY_RANK = {priority: rank for rank, priority in enumerate(PRIORITIES)}
RANK_TYPES = (int, int, str, int, int, str, str)
Via = Literal["issue", "affects", "project"]


@dataclass(frozen=True, slots=True)
class Blocked:
    """An open issue waiting on a queue item."""

    id: str
    key: str | None
    title: str
    assignee_id: str | None
    watchers: list[str]


@dataclass(frozen=True, slots=True)
class Ranked:
    """An open item with its place in the queue."""

    rank: Rank
    row: dict[str, Any]
    overdue: bool
    goals: list[tuple[str, Via]]
    blocks: list[Blocked]


def is_overdue(row: dict[str, Any], today: date, today_iso: str) -> bool:
    due = row["due_date"]
    if due is None:
        return False
    if row["kind"] == OCCURRENCE:
        occurrence = Occurrence(UUID(row["item_id"]), date.fromisoformat(due), None, None)
        return is_late(occurrence, today)
    # ISO dates order as text, which spares parsing every open issue's due date.
    return bool(due < today_iso)


def linked_goals(row: dict[str, Any], project_goals: list[str]) -> list[tuple[str, Via]]:
    """The goals an item is connected to, each once, by its most direct connection."""
    if row["goal_ids"] == EMPTY and row["affected_goal_ids"] == EMPTY and not project_goals:
        return []
    linked: dict[str, Via] = {}
    for goal_id in ids_in(row["goal_ids"]):
        linked.setdefault(goal_id, "issue")
    for goal_id in ids_in(row["affected_goal_ids"]):
        linked.setdefault(goal_id, "affects")
    for goal_id in project_goals:
        linked.setdefault(goal_id, "project")
    return list(linked.items())


def rank_of(
    row: dict[str, Any],
    today: date,
    today_iso: str,
    goals: list[tuple[str, Via]],
    active_goals: set[str],
    blocks: list[Blocked],
) -> Ranked:
    overdue = is_overdue(row, today, today_iso)
    impact = bool(blocks) or any(goal_id in active_goals for goal_id, _ in goals)
    rank = (
        0 if row["priority"] == "urgent" or overdue else 1,
        PRIORITY_RANK[row["priority"]],
        row["due_date"] or NO_DUE_DATE,
        0 if impact else 1,
        int(row["created"]),
        row["key"] or "",
        row["item_id"],
    )
    return Ranked(rank, row, overdue, goals, blocks)


def reasons_for(
    entry: Ranked, goals: dict[str, tuple[str, str]], project_key: str | None
) -> list[str]:
    row = entry.row
    reasons = []
    if entry.overdue:
        reasons.append(f"overdue since {row['due_date']}")
    priority = row["priority"]
    reasons.append(f"priority {priority}" if priority != "none" else "no priority")
    if row["due_date"] is None:
        reasons.append("no due date")
    elif not entry.overdue:
        reasons.append(f"due {row['due_date']}")
    for goal_id, via in entry.goals:
        title, status = goals[goal_id]
        if status != ACTIVE_GOAL:
            continue
        if via == "issue":
            reasons.append(f"advances goal '{title}'")
        elif via == "affects":
            reasons.append(f"affects goal '{title}'")
        else:
            reasons.append(f"advances goal '{title}' through project {project_key}")
    for blocked in entry.blocks:
        reasons.append(f"blocks {blocked.key}" if blocked.key else f"blocks '{blocked.title}'")
    return reasons


def decode_rank(cursor: str | None) -> Rank | None:
    values = decode_cursor_of(cursor, RANK_TYPES)
    if values is None:
        return None
    return (values[0], values[1], values[2], values[3], values[4], values[5], values[6])
