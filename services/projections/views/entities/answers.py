"""What each kind of object answers: its document, and what hangs off it in the edges and the
rows of other objects, read in the same snapshot, with the domain's rules applied to both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import orjson

from domain import goal, issue, operation
from services.infrastructure.store import SqlCursor
from services.projections.readmodel import Row, Snapshot, from_micros

from .rows import Doc
from .tables import (
    BLOCKS,
    CHILD_GOAL,
    EDGES,
    GOAL_ISSUE,
    ISSUES,
    MEMBER_TEAM,
    MEMBERS,
    OCCURRENCES,
    SUB_ISSUE,
    TEAM_MEMBER,
)


@dataclass(frozen=True)
class Reading:
    """One request's reads: one snapshot of the database, the versions it sees, its day."""

    cursor: SqlCursor
    snapshot: Snapshot
    today: date
    detail: bool
    """A detail answer (everything about one object) rather than a list item."""

    def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql, params)
        return self.cursor.fetchall()


def placeholders(values: Sequence[Any]) -> str:
    return ", ".join("%s" for _ in values)


def _base(row: Row) -> Doc:
    """An object as answered: its document, identity, version and when it last changed."""
    doc: Doc = orjson.loads(row["doc"])
    doc.update(
        id=row["id"],
        version=row["version"],
        position=row["position"],
        updated_at=from_micros(row["valid_from"]),
    )
    return doc


def _edges(
    reading: Reading, nodes: Sequence[str], relations: Sequence[str]
) -> dict[tuple[str, str], list[str]]:
    """What hangs off each node by each relation, in the order the edges were made."""
    if not nodes:
        return {}
    visible, visible_params = reading.snapshot.visible()
    found: dict[tuple[str, str], list[str]] = {}
    for node, relation, other in reading.fetch(
        f"SELECT node_id, relation, other_id FROM {reading.snapshot.name(EDGES)} "
        f"WHERE node_id IN ({placeholders(nodes)}) AND relation IN ({placeholders(relations)}) "
        f"AND {visible} ORDER BY position, other_id",
        [*nodes, *relations, *visible_params],
    ):
        found.setdefault((node, relation), []).append(other)
    return found


def answer_teams(reading: Reading, rows: list[Row]) -> list[Doc]:
    teams = [_base(row) for row in rows]
    if not teams:
        return teams
    ids = [team_doc["id"] for team_doc in teams]
    edge_visible, edge_params = reading.snapshot.visible("e")
    member_visible, member_params = reading.snapshot.visible("m")
    members: dict[str, list[tuple[str, float, bool]]] = {}
    for team_id, member_id, capacity, active in reading.fetch(
        f"SELECT e.node_id, e.other_id, m.weekly_capacity, m.active "
        f"FROM {reading.snapshot.name(EDGES)} e LEFT JOIN {reading.snapshot.name(MEMBERS)} m "
        f"ON m.id = e.other_id AND {member_visible} "
        f"WHERE e.node_id IN ({placeholders(ids)}) AND e.relation = %s AND {edge_visible} "
        "ORDER BY e.position, e.other_id",
        [*member_params, *ids, TEAM_MEMBER, *edge_params],
    ):
        members.setdefault(team_id, []).append((member_id, capacity or 0.0, bool(active)))
    for team_doc in teams:
        joined = members.get(team_doc["id"], [])
        team_doc["member_ids"] = [member_id for member_id, _, _ in joined]
        capacity = team_doc["weekly_capacity"]
        team_doc["capacity"] = (
            capacity if capacity is not None else sum(c for _, c, active in joined if active)
        )
    return teams


def answer_members(reading: Reading, rows: list[Row]) -> list[Doc]:
    members = [_base(row) for row in rows]
    teams = _edges(reading, [m["id"] for m in members], (MEMBER_TEAM,))
    for member_doc in members:
        member_doc["team_ids"] = teams.get((member_doc["id"], MEMBER_TEAM), [])
    return members


def _linked_work(
    reading: Reading, goal_ids: Sequence[str]
) -> dict[str, tuple[int, int, float, float]]:
    """Per goal, its linked issues that are not cancelled: count, done, estimate, estimate done."""
    if not goal_ids:
        return {}
    edge_visible, edge_params = reading.snapshot.visible("e")
    issue_visible, issue_params = reading.snapshot.visible("i")
    rows = reading.fetch(
        "SELECT e.node_id, COUNT(*) AS issues, "
        "SUM(CASE WHEN i.status = 'done' THEN 1 ELSE 0 END) AS issues_done, "
        "SUM(COALESCE(i.estimate, 0)) AS estimate, "
        "SUM(CASE WHEN i.status = 'done' THEN COALESCE(i.estimate, 0) ELSE 0 END) AS estimate_done "
        f"FROM {reading.snapshot.name(EDGES)} e JOIN {reading.snapshot.name(ISSUES)} i "
        f"ON i.id = e.other_id AND {issue_visible} "
        f"WHERE e.node_id IN ({placeholders(goal_ids)}) AND e.relation = %s AND {edge_visible} "
        "AND i.status <> 'cancelled' GROUP BY e.node_id",
        [*issue_params, *goal_ids, GOAL_ISSUE, *edge_params],
    )
    return {
        goal_id: (int(count), int(done), float(estimate), float(estimate_done))
        for goal_id, count, done, estimate, estimate_done in rows
    }


def answer_goals(reading: Reading, rows: list[Row]) -> list[Doc]:
    goals = [_base(row) for row in rows]
    children = _edges(reading, [g["id"] for g in goals], (CHILD_GOAL,))
    work = _linked_work(reading, [g["id"] for g in goals if not g["key_results"]])
    for goal_doc in goals:
        goal_doc["children_ids"] = children.get((goal_doc["id"], CHILD_GOAL), [])
        # The domain's rules, on the document's numbers.
        for kr in goal_doc["key_results"]:
            kr["progress"] = goal.progress_between(kr["start"], kr["target"], kr["current"])
        progress = goal.mean_progress([kr["progress"] for kr in goal_doc["key_results"]])
        basis: str | None = "key_results"
        if progress is None:
            count, done, estimate, estimate_done = work.get(goal_doc["id"], (0, 0, 0.0, 0.0))
            progress = goal.work_progress(done, count, estimate_done, estimate)
            basis = "work" if progress is not None else None
        goal_doc["progress"] = progress
        goal_doc["progress_basis"] = basis
    return goals


def answer_projects(reading: Reading, rows: list[Row]) -> list[Doc]:
    today = reading.today.isoformat()
    projects = [_base(row) for row in rows]
    for project_doc in projects:
        for milestone in project_doc["milestones"]:
            milestone["overdue"] = not milestone["done"] and milestone["due_date"] < today
    return projects


def answer_issues(reading: Reading, rows: list[Row]) -> list[Doc]:
    today = reading.today.isoformat()
    issues = [_base(row) for row in rows]
    edges = _edges(reading, [i["id"] for i in issues], (SUB_ISSUE, BLOCKS))
    for issue_doc in issues:
        issue_doc["sub_issue_ids"] = edges.get((issue_doc["id"], SUB_ISSUE), [])
        issue_doc["blocks"] = edges.get((issue_doc["id"], BLOCKS), [])
        due = issue_doc["due_date"]
        issue_doc["overdue"] = (
            issue_doc["status"] in issue.OPEN_STATUSES and due is not None and due < today
        )
    return issues


_OCCURRENCE_COLUMNS = ("operation_id", "due_date", "occurrence_id", "status", "assignee_id")
_OCCURRENCE_DETAIL = (*_OCCURRENCE_COLUMNS, "estimate", "note")


def answer_operations(reading: Reading, rows: list[Row]) -> list[Doc]:
    today, detail = reading.today, reading.detail
    operations = [_base(row) for row in rows]
    if not operations:
        return operations
    ids = [o["id"] for o in operations]
    visible, visible_params = reading.snapshot.visible()
    # A list only counts what is still to do; a detail shows every occurrence.
    columns = _OCCURRENCE_DETAIL if detail else _OCCURRENCE_COLUMNS
    only_open = "" if detail else "AND status = 'scheduled' "
    found = reading.fetch(
        f"SELECT {', '.join(columns)} FROM {reading.snapshot.name(OCCURRENCES)} "
        f"WHERE operation_id IN ({placeholders(ids)}) {only_open}AND {visible} "
        "ORDER BY operation_id, due_date",
        [*ids, *visible_params],
    )
    occurrences: dict[str, list[Doc]] = {}
    for values in found:
        row = dict(zip(columns, values, strict=True))
        due_date = date.fromisoformat(row["due_date"])
        state = operation.Occurrence(
            UUID(row["occurrence_id"]),
            due_date,
            UUID(row["assignee_id"]) if row["assignee_id"] else None,
            row.get("estimate"),
            row["status"],
            row.get("note", ""),
        )
        occurrences.setdefault(row["operation_id"], []).append(
            {
                "id": row["occurrence_id"],
                "due_date": due_date,
                "status": state.status,
                "assignee_id": row["assignee_id"],
                "estimate": state.estimate,
                "note": state.note,
                "late": operation.is_late(state, today),
            }
        )
    for operation_doc in operations:
        own = occurrences.get(operation_doc["id"], [])
        scheduled = [o for o in own if o["status"] == "scheduled"]
        upcoming = [o["due_date"] for o in scheduled if not o["late"]]
        operation_doc["open_occurrences"] = len(scheduled)
        operation_doc["late_occurrences"] = sum(1 for o in scheduled if o["late"])
        operation_doc["next_due_date"] = min(upcoming, default=None)
        if detail:
            operation_doc["occurrences"] = own
    return operations
