"""The queue's reads: a member's open items, what they block, their projects and goals, and the
names of everyone they mention, in a few set-based statements; ranked per request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from services.infrastructure.http import ProblemError
from services.infrastructure.store import Statement
from services.projections.query import ViewRequest, encode_cursor, one_of
from services.projections.readmodel import Snapshot, Table, from_micros
from services.projections.views.queue.order import (
    Blocked,
    Rank,
    linked_goals,
    rank_of,
    reasons_for,
)
from services.projections.views.queue.tables import (
    ACTIVE_GOAL,
    DEPENDENCIES,
    GOALS,
    ITEMS,
    MEMBERS,
    PROJECTS,
    ids_in,
)

# What a queue shows of an item, as ``_open_items`` reads it.
ITEM_COLUMNS = (
    "item_id",
    "kind",
    "status",
    "title",
    "priority",
    "due_date",
    "estimate",
    "project_id",
    "key",
    "operation_id",
    "goal_ids",
    "affected_goal_ids",
    "blocked_reason",
    "watchers",
    "created",
)


def _visible_in(
    view: ViewRequest, snapshot: Snapshot, table: Table, columns: str, key: str, ids: Sequence[str]
) -> Statement | None:
    """The read of the visible rows of ``table`` whose ``key`` is one of ``ids``; ``None`` when
    there are no ``ids``, so nothing to read."""
    if not ids:
        return None
    visible, params = snapshot.visible()
    matching, values = one_of(view, key, ids)
    return Statement(
        f"SELECT {columns} FROM {snapshot.name(table)} WHERE {visible} AND {matching}",
        (*params, *values),
        prepare=True,
    )


def _fetch_each(view: ViewRequest, *reads: Statement | None) -> list[list[tuple[Any, ...]]]:
    """The rows of each read, sent together (one round trip on PostgreSQL); none for ``None``."""
    wanted = [read for read in reads if read is not None]
    found = iter(view.fetch_each(*wanted) if wanted else [])
    return [next(found) if read is not None else [] for read in reads]


def _waiting_ids(row: dict[str, Any], blocks: list[Blocked], owner: str) -> set[str]:
    waiting = set(ids_in(row["watchers"]))
    for blocked in blocks:
        waiting.update(blocked.watchers)
        if blocked.assignee_id:
            waiting.add(blocked.assignee_id)
    waiting.discard(owner)
    return waiting


def _members_in(view: ViewRequest, snapshot: Snapshot, people: set[str]) -> Statement | None:
    return _visible_in(
        view, snapshot, MEMBERS, "member_id, name, active", "member_id", sorted(people)
    )


def _open_items(view: ViewRequest, snapshot: Snapshot, member_id: str) -> list[dict[str, Any]]:
    visible, params = snapshot.visible()
    return [
        dict(zip(ITEM_COLUMNS, values, strict=True))
        for values in view.fetchall(
            f"SELECT {', '.join(ITEM_COLUMNS)} FROM {snapshot.name(ITEMS)} "
            f"WHERE {visible} AND assignee_id = %s AND is_open",
            (*params, member_id),
            prepare=True,
        )
    ]


def _blocked_by(view: ViewRequest, snapshot: Snapshot, item_ids: Sequence[str]) -> Statement | None:
    """The read of the open issues waiting on each of ``item_ids``, oldest first (rows for
    ``_blocks``)."""
    if not item_ids:
        return None
    dependency, dependency_params = snapshot.visible("d")
    blocked_issue, blocked_params = snapshot.visible("b")
    matching, values = one_of(view, "d.blocker_id", item_ids)
    return Statement(
        "SELECT d.blocker_id, b.item_id, b.key, b.title, b.assignee_id, b.watchers "
        f"FROM {snapshot.name(DEPENDENCIES)} d JOIN {snapshot.name(ITEMS)} b "
        f"ON b.item_id = d.blocked_id AND {blocked_issue} "
        f"WHERE {dependency} AND b.is_open AND {matching} "
        "ORDER BY b.created, b.item_id",
        (*blocked_params, *dependency_params, *values),
        prepare=True,
    )


def _blocks(rows: Sequence[tuple[Any, ...]]) -> dict[str, list[Blocked]]:
    found: dict[str, list[Blocked]] = {}
    for blocker, blocked_id, key, title, assignee_id, watchers in rows:
        found.setdefault(blocker, []).append(
            Blocked(blocked_id, key, title, assignee_id, ids_in(watchers))
        )
    return found


def _people(
    items: Sequence[tuple[dict[str, Any], list[Blocked]]], member_id: str
) -> tuple[dict[str, set[str]], set[str]]:
    """Who waits on each of ``items`` (rows with what they block), by item id, and everyone
    an answer listing them names."""
    waiting = {row["item_id"]: _waiting_ids(row, blocks, member_id) for row, blocks in items}
    people = {member_id}
    for row, blocks in items:
        people.update(waiting[row["item_id"]])
        people.update(b.assignee_id for b in blocks if b.assignee_id)
    return waiting, people


def read_queue(
    view: ViewRequest, snapshot: Snapshot, member_id: str, limit: int, after: Rank | None
) -> dict[str, Any]:
    """The queue page as ``QueuePage`` describes it, in plain data (the tests check the shape).

    Reads that don't depend on each other travel together: the items; then what they block
    and their projects; then the goals they serve and, when the whole queue is one page, the
    members it names (a longer queue names only its page's, known once it is ranked)."""
    today = view.now.astimezone(UTC).date()
    today_iso = today.isoformat()
    rows = _open_items(view, snapshot, member_id)
    project_ids = sorted({row["project_id"] for row in rows if row["project_id"]})
    blocked_rows, project_rows = _fetch_each(
        view,
        _blocked_by(view, snapshot, [row["item_id"] for row in rows]),
        _visible_in(
            view, snapshot, PROJECTS, "project_id, key, name, goal_ids", "project_id", project_ids
        ),
    )
    blocks = _blocks(blocked_rows)
    projects = {
        project_id: (key, name, ids_in(goal_ids))
        for project_id, key, name, goal_ids in project_rows
    }
    linked = {
        row["item_id"]: linked_goals(
            row, projects[row["project_id"]][2] if row["project_id"] in projects else []
        )
        for row in rows
    }
    goal_ids = sorted({goal_id for goals in linked.values() for goal_id, _ in goals})
    goals_read = _visible_in(view, snapshot, GOALS, "goal_id, title, status", "goal_id", goal_ids)
    one_page = after is None and len(rows) <= limit
    if one_page:
        # Every item is on the page, so who it names is known before the ranking.
        waiting, people = _people(
            [(row, blocks.get(row["item_id"], [])) for row in rows], member_id
        )
        goal_rows, member_rows = _fetch_each(view, goals_read, _members_in(view, snapshot, people))
    else:
        goal_rows = _fetch_each(view, goals_read)[0]
    goals = {goal_id: (title, status) for goal_id, title, status in goal_rows}
    active_goals = {goal_id for goal_id, (_, status) in goals.items() if status == ACTIVE_GOAL}
    ranked = sorted(
        (
            rank_of(
                row,
                today,
                today_iso,
                [goal for goal in linked[row["item_id"]] if goal[0] in goals]
                if linked[row["item_id"]]
                else [],
                active_goals,
                blocks.get(row["item_id"], []),
            )
            for row in rows
        ),
        key=lambda entry: entry.rank,
    )
    remaining = [entry for entry in ranked if after is None or entry.rank > after]
    page = remaining[:limit]
    if not one_page:
        waiting, people = _people([(entry.row, entry.blocks) for entry in page], member_id)
        member_rows = _fetch_each(view, _members_in(view, snapshot, people))[0]
    members = {person: (name, active) for person, name, active in member_rows}
    if member_id not in members:
        raise ProblemError(404, "not_found", "no such member")

    def member_ref(person: str) -> dict[str, Any]:
        known = members.get(person)
        return {"id": person, "name": known[0] if known else None}

    items = []
    for entry in page:
        row = entry.row
        project = projects.get(row["project_id"]) if row["project_id"] else None
        waiting_refs = [member_ref(person) for person in waiting[row["item_id"]]]
        waiting_refs.sort(key=lambda ref: (ref["name"] or "", ref["id"]))
        items.append(
            {
                "id": row["item_id"],
                "kind": row["kind"],
                "key": row["key"],
                "title": row["title"],
                "status": row["status"],
                "priority": row["priority"],
                "due_date": row["due_date"],
                "estimate": row["estimate"],
                "overdue": entry.overdue,
                "created_at": from_micros(int(row["created"])),
                "reasons": reasons_for(entry, goals, project[0] if project else None),
                "project": {"id": row["project_id"], "key": project[0], "name": project[1]}
                if project
                else None,
                "operation": {"id": row["operation_id"], "title": row["title"]}
                if row["operation_id"]
                else None,
                "goals": [
                    {
                        "id": goal_id,
                        "title": goals[goal_id][0],
                        "status": goals[goal_id][1],
                        "via": via,
                    }
                    for goal_id, via in entry.goals
                ],
                "blocks": [
                    {
                        "id": blocked.id,
                        "key": blocked.key,
                        "title": blocked.title,
                        "assignee": member_ref(blocked.assignee_id)
                        if blocked.assignee_id
                        else None,
                    }
                    for blocked in entry.blocks
                ],
                "waiting": waiting_refs,
                "blocked": row["blocked_reason"] is not None,
                "blocked_reason": row["blocked_reason"],
            }
        )
    name, active = members[member_id]
    next_cursor = encode_cursor(list(page[-1].rank)) if len(remaining) > limit else None
    return {
        "member": {"id": member_id, "name": name, "active": bool(active)},
        "today": today,
        "total": len(ranked),
        "items": items,
        "next_cursor": next_cursor,
    }
