"""Personal queue: a member's open work in a stable, explained order, each item with its context.

The projection keeps every work item (issue or operation occurrence) with what the queue shows of
it, the dependencies between issues (so "what does this block" is an index lookup by blocker),
and the names and states of the members, goals and projects items point at. A queue is read with
a few set-based queries: the member's open items through an index on the assignee, then the
issues they block, their projects, their goals and the names of everyone waiting. The order
depends on the day (overdue) and on other objects (goal status, open blocked issues), so it is
computed per request; a cursor is the rank of the last item of a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any, Literal
from uuid import UUID

import orjson
from fastapi.responses import Response

from contracts.views.queue import QueuePage
from domain.goal import GoalActivated, GoalClosed, GoalCreated, GoalRetitled
from domain.issue import (
    OPEN_STATUSES,
    PRIORITIES,
    IssueAssigned,
    IssueBlocked,
    IssueCreated,
    IssueDependencyAdded,
    IssueDependencyRemoved,
    IssueDueDateChanged,
    IssueEstimated,
    IssueLinked,
    IssuePriorityChanged,
    IssueRetitled,
    IssueTransitioned,
    IssueUnassigned,
    IssueUnblocked,
    IssueUnlinked,
    IssueWatcherAdded,
    IssueWatcherRemoved,
)
from domain.member import MemberDeactivated, MemberReactivated, MemberRegistered, MemberRenamed
from domain.operation import (
    Occurrence,
    OccurrenceCompleted,
    OccurrenceScheduled,
    OccurrenceSkipped,
    OperationCreated,
    is_late,
)
from domain.project import ProjectCreated, ProjectGoalLinked, ProjectRenamed
from services.infrastructure.codec import RecordedEvent
from services.infrastructure.http import ProblemError, Routes, problem_responses
from services.infrastructure.store import Statement
from services.projections.dispatch import Change as _Change
from services.projections.dispatch import EventHandlers
from services.projections.query import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    View,
    ViewRequest,
    decode_cursor_of,
    encode_cursor,
    one_of,
)
from services.projections.readmodel import (
    Column,
    PageWriter,
    Row,
    Snapshot,
    Table,
    from_micros,
    iso_date,
)

NAME = "queue"
OCCURRENCE = "occurrence"
ACTIVE_GOAL = "active"
# Sorts after every ISO date, so items without a due date come last.
NO_DUE_DATE = "9999-12-31"

MEMBERS = Table(
    "qu_member",
    key=("member_id",),
    columns=(Column("member_id"), Column("name"), Column("active", "bool")),
)
GOALS = Table(
    "qu_goal", key=("goal_id",), columns=(Column("goal_id"), Column("title"), Column("status"))
)
PROJECTS = Table(
    "qu_project",
    key=("project_id",),
    columns=(Column("project_id"), Column("key"), Column("name"), Column("goal_ids")),
)
OPERATIONS = Table(
    "qu_operation", key=("operation_id",), columns=(Column("operation_id"), Column("title"))
)
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
ITEMS = Table(
    "qu_item",
    key=("item_id",),
    columns=(
        Column("item_id"),
        Column("kind"),
        Column("assignee_id"),
        Column("is_open", "bool"),
        Column("status"),
        Column("title"),
        Column("priority"),
        Column("due_date"),
        Column("estimate", "real"),
        Column("project_id"),
        Column("key"),
        Column("operation_id"),
        Column("goal_ids"),
        Column("affected_goal_ids"),
        Column("blocked_reason"),
        Column("watchers"),
        Column("created", "int"),
    ),
    indexes=(("assignee_id", "is_open"),),
)
# ``blocked_id`` lists ``blocker_id`` in its blocked_by: the key leads with the blocker, so the
# unique index over current rows answers "what does this item block".
DEPENDENCIES = Table(
    "qu_dependency",
    key=("blocker_id", "blocked_id"),
    columns=(Column("blocker_id"), Column("blocked_id")),
)


# Applying events


_handlers = EventHandlers()
_on = _handlers.on


EMPTY = "[]"


def _json(values: Sequence[str]) -> str:
    return orjson.dumps(list(values)).decode()


def _ids(text: str | None) -> list[str]:
    if not text or text == EMPTY:
        return []
    found: list[str] = orjson.loads(text)
    return found


def _with(text: str | None, value: str) -> str:
    ids = _ids(text)
    return _json(ids if value in ids else [*ids, value])


def _without(text: str | None, value: str) -> str:
    return _json([known for known in _ids(text) if known != value])


@_on(MemberRegistered)
def _member_registered(change: _Change, event: MemberRegistered) -> None:
    change.put(MEMBERS, {"member_id": str(event.member_id), "name": event.name, "active": True})


@_on(MemberRenamed)
def _member_renamed(change: _Change, event: MemberRenamed) -> None:
    change.update(MEMBERS, (change.subject,), {"name": event.name})


@_on(MemberDeactivated)
def _member_deactivated(change: _Change, _: MemberDeactivated) -> None:
    change.update(MEMBERS, (change.subject,), {"active": False})


@_on(MemberReactivated)
def _member_reactivated(change: _Change, _: MemberReactivated) -> None:
    change.update(MEMBERS, (change.subject,), {"active": True})


@_on(GoalCreated)
def _goal_created(change: _Change, event: GoalCreated) -> None:
    change.put(GOALS, {"goal_id": str(event.goal_id), "title": event.title, "status": "draft"})


@_on(GoalRetitled)
def _goal_retitled(change: _Change, event: GoalRetitled) -> None:
    change.update(GOALS, (change.subject,), {"title": event.title})


@_on(GoalActivated)
def _goal_activated(change: _Change, _: GoalActivated) -> None:
    change.update(GOALS, (change.subject,), {"status": ACTIVE_GOAL})


@_on(GoalClosed)
def _goal_closed(change: _Change, event: GoalClosed) -> None:
    change.update(GOALS, (change.subject,), {"status": event.outcome})


@_on(ProjectCreated)
def _project_created(change: _Change, event: ProjectCreated) -> None:
    change.put(
        PROJECTS,
        {
            "project_id": str(event.project_id),
            "key": event.key,
            "name": event.name,
            "goal_ids": _json([]),
        },
    )


@_on(ProjectRenamed)
def _project_renamed(change: _Change, event: ProjectRenamed) -> None:
    change.update(PROJECTS, (change.subject,), {"name": event.name})


@_on(ProjectGoalLinked)
def _project_goal_linked(change: _Change, event: ProjectGoalLinked) -> None:
    project = change.get(PROJECTS, (change.subject,))
    if project is not None:
        goal_ids = _with(project["goal_ids"], str(event.goal_id))
        change.update(PROJECTS, (change.subject,), {"goal_ids": goal_ids})


@_on(OperationCreated)
def _operation_created(change: _Change, event: OperationCreated) -> None:
    change.put(OPERATIONS, {"operation_id": str(event.operation_id), "title": event.title})


@_on(IssueCreated)
def _issue_created(change: _Change, event: IssueCreated) -> None:
    change.put(
        ITEMS,
        {
            "item_id": str(event.issue_id),
            "kind": event.kind,
            "assignee_id": str(event.assignee_id) if event.assignee_id else None,
            "is_open": event.status in OPEN_STATUSES,
            "status": event.status,
            "title": event.title,
            "priority": event.priority,
            "due_date": iso_date(event.due_date),
            "estimate": event.estimate,
            "project_id": str(event.project_id) if event.project_id else None,
            "key": event.key,
            "operation_id": None,
            "goal_ids": _json([str(goal_id) for goal_id in event.goal_ids]),
            "affected_goal_ids": _json([]),
            "blocked_reason": None,
            "watchers": _json([]),
            "created": change.at,
        },
    )


def _change_issue(change: _Change, changes: Row) -> None:
    change.update(ITEMS, (change.subject,), changes)


@_on(IssueRetitled)
def _issue_retitled(change: _Change, event: IssueRetitled) -> None:
    _change_issue(change, {"title": event.title})


@_on(IssuePriorityChanged)
def _issue_priority_changed(change: _Change, event: IssuePriorityChanged) -> None:
    _change_issue(change, {"priority": event.priority})


@_on(IssueEstimated)
def _issue_estimated(change: _Change, event: IssueEstimated) -> None:
    _change_issue(change, {"estimate": event.estimate})


@_on(IssueDueDateChanged)
def _issue_due_date_changed(change: _Change, event: IssueDueDateChanged) -> None:
    _change_issue(change, {"due_date": iso_date(event.due_date)})


@_on(IssueAssigned)
def _issue_assigned(change: _Change, event: IssueAssigned) -> None:
    _change_issue(change, {"assignee_id": str(event.assignee_id)})


@_on(IssueUnassigned)
def _issue_unassigned(change: _Change, _: IssueUnassigned) -> None:
    _change_issue(change, {"assignee_id": None})


@_on(IssueTransitioned)
def _issue_transitioned(change: _Change, event: IssueTransitioned) -> None:
    status = event.to_status
    _change_issue(change, {"status": status, "is_open": status in OPEN_STATUSES})


@_on(IssueBlocked)
def _issue_blocked(change: _Change, event: IssueBlocked) -> None:
    _change_issue(change, {"blocked_reason": event.reason})


@_on(IssueUnblocked)
def _issue_unblocked(change: _Change, _: IssueUnblocked) -> None:
    _change_issue(change, {"blocked_reason": None})


@_on(IssueDependencyAdded)
def _issue_dependency_added(change: _Change, event: IssueDependencyAdded) -> None:
    change.put(DEPENDENCIES, {"blocker_id": str(event.blocked_by_id), "blocked_id": change.subject})


@_on(IssueDependencyRemoved)
def _issue_dependency_removed(change: _Change, event: IssueDependencyRemoved) -> None:
    change.delete(DEPENDENCIES, (str(event.blocked_by_id), change.subject))


def _link_column(kind: str, target_kind: str) -> str | None:
    if kind == "goal":
        return "goal_ids"
    return "affected_goal_ids" if target_kind == "goal" else None


@_on(IssueLinked)
def _issue_linked(change: _Change, event: IssueLinked) -> None:
    column = _link_column(event.kind, event.target_kind)
    issue = change.get(ITEMS, (change.subject,))
    if column is not None and issue is not None:
        _change_issue(change, {column: _with(issue[column], str(event.target_id))})


@_on(IssueUnlinked)
def _issue_unlinked(change: _Change, event: IssueUnlinked) -> None:
    # An "affects" link may point at a project or operation; removing an absent id is a no-op.
    column = "goal_ids" if event.kind == "goal" else "affected_goal_ids"
    issue = change.get(ITEMS, (change.subject,))
    if issue is not None:
        _change_issue(change, {column: _without(issue[column], str(event.target_id))})


@_on(IssueWatcherAdded)
def _issue_watcher_added(change: _Change, event: IssueWatcherAdded) -> None:
    issue = change.get(ITEMS, (change.subject,))
    if issue is not None:
        watchers = sorted({*_ids(issue["watchers"]), str(event.member_id)})
        _change_issue(change, {"watchers": _json(watchers)})


@_on(IssueWatcherRemoved)
def _issue_watcher_removed(change: _Change, event: IssueWatcherRemoved) -> None:
    issue = change.get(ITEMS, (change.subject,))
    if issue is not None:
        _change_issue(change, {"watchers": _without(issue["watchers"], str(event.member_id))})


@_on(OccurrenceScheduled)
def _occurrence_scheduled(change: _Change, event: OccurrenceScheduled) -> None:
    operation = change.get(OPERATIONS, (change.subject,))
    if operation is None:
        return
    change.put(
        ITEMS,
        {
            "item_id": str(event.occurrence_id),
            "kind": OCCURRENCE,
            "assignee_id": str(event.assignee_id) if event.assignee_id else None,
            "is_open": True,
            "status": "scheduled",
            "title": operation["title"],
            "priority": "none",
            "due_date": iso_date(event.due_date),
            "estimate": event.estimate,
            "project_id": None,
            "key": None,
            "operation_id": change.subject,
            "goal_ids": _json([]),
            "affected_goal_ids": _json([]),
            "blocked_reason": None,
            "watchers": _json([]),
            "created": change.at,
        },
    )


@_on(OccurrenceCompleted)
def _occurrence_completed(change: _Change, event: OccurrenceCompleted) -> None:
    changes = {"status": "completed", "is_open": False}
    change.update(ITEMS, (str(event.occurrence_id),), changes)


@_on(OccurrenceSkipped)
def _occurrence_skipped(change: _Change, event: OccurrenceSkipped) -> None:
    changes = {"status": "skipped", "is_open": False}
    change.update(ITEMS, (str(event.occurrence_id),), changes)


class QueueProjection:
    """The read model behind ``/v1/views/queue``."""

    name: str = NAME
    schema_version: int = 1
    tables: tuple[Table, ...] = (MEMBERS, GOALS, PROJECTS, OPERATIONS, ITEMS, DEPENDENCIES)
    event_types: frozenset[str] | None = _handlers.type_names()

    def apply(self, writer: PageWriter, event: RecordedEvent) -> None:
        """Records what ``event`` changes in work items, dependencies, members, goals, projects."""
        _handlers.apply(writer, event)


PROJECTION = QueueProjection()


# Queries

Rank = tuple[int, int, str, int, int, str, str]
PRIORITY_RANK = {priority: rank for rank, priority in enumerate(PRIORITIES)}
_RANK_TYPES = (int, int, str, int, int, str, str)
Via = Literal["issue", "affects", "project"]


@dataclass(frozen=True, slots=True)
class _Blocked:
    """An open issue waiting on a queue item."""

    id: str
    key: str | None
    title: str
    assignee_id: str | None
    watchers: list[str]


@dataclass(frozen=True, slots=True)
class _Ranked:
    """An open item with its place in the queue."""

    rank: Rank
    row: dict[str, Any]
    overdue: bool
    goals: list[tuple[str, Via]]
    blocks: list[_Blocked]


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


def _is_overdue(row: dict[str, Any], today: date, today_iso: str) -> bool:
    due = row["due_date"]
    if due is None:
        return False
    if row["kind"] == OCCURRENCE:
        occurrence = Occurrence(UUID(row["item_id"]), date.fromisoformat(due), None, None)
        return is_late(occurrence, today)
    # ISO dates order as text, which spares parsing every open issue's due date.
    return bool(due < today_iso)


def _linked_goals(row: dict[str, Any], project_goals: list[str]) -> list[tuple[str, Via]]:
    """The goals an item is connected to, each once, by its most direct connection."""
    if row["goal_ids"] == EMPTY and row["affected_goal_ids"] == EMPTY and not project_goals:
        return []
    linked: dict[str, Via] = {}
    for goal_id in _ids(row["goal_ids"]):
        linked.setdefault(goal_id, "issue")
    for goal_id in _ids(row["affected_goal_ids"]):
        linked.setdefault(goal_id, "affects")
    for goal_id in project_goals:
        linked.setdefault(goal_id, "project")
    return list(linked.items())


def _ranked(
    row: dict[str, Any],
    today: date,
    today_iso: str,
    goals: list[tuple[str, Via]],
    active_goals: set[str],
    blocks: list[_Blocked],
) -> _Ranked:
    overdue = _is_overdue(row, today, today_iso)
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
    return _Ranked(rank, row, overdue, goals, blocks)


def _reasons(
    entry: _Ranked, goals: dict[str, tuple[str, str]], project_key: str | None
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


def _waiting_ids(row: dict[str, Any], blocks: list[_Blocked], owner: str) -> set[str]:
    waiting = set(_ids(row["watchers"]))
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


def _decode_rank(cursor: str | None) -> Rank | None:
    values = decode_cursor_of(cursor, _RANK_TYPES)
    if values is None:
        return None
    return (values[0], values[1], values[2], values[3], values[4], values[5], values[6])


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


def _blocks(rows: Sequence[tuple[Any, ...]]) -> dict[str, list[_Blocked]]:
    found: dict[str, list[_Blocked]] = {}
    for blocker, blocked_id, key, title, assignee_id, watchers in rows:
        found.setdefault(blocker, []).append(
            _Blocked(blocked_id, key, title, assignee_id, _ids(watchers))
        )
    return found


def _people(
    items: Sequence[tuple[dict[str, Any], list[_Blocked]]], member_id: str
) -> tuple[dict[str, set[str]], set[str]]:
    """Who waits on each of ``items`` (rows with what they block), by item id, and everyone
    an answer listing them names."""
    waiting = {row["item_id"]: _waiting_ids(row, blocks, member_id) for row, blocks in items}
    people = {member_id}
    for row, blocks in items:
        people.update(waiting[row["item_id"]])
        people.update(b.assignee_id for b in blocks if b.assignee_id)
    return waiting, people


def _read_queue(
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
        project_id: (key, name, _ids(goal_ids)) for project_id, key, name, goal_ids in project_rows
    }
    linked = {
        row["item_id"]: _linked_goals(
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
            _ranked(
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
                "reasons": _reasons(entry, goals, project[0] if project else None),
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


router = Routes(tags=["views"])


@router.get(
    "/views/queue/me",
    response_model=QueuePage,
    responses=problem_responses(400, 409, described={404: "The token acts for no member."}),
)
async def my_queue(view: View, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Response:
    """The queue of the member the token acts for."""
    member_id = view.principal.member_id
    if member_id is None:
        raise ProblemError(
            404, "not_found", "this token acts for no member, so it has no queue of its own"
        )
    return await _queue(view, member_id, limit, cursor)


@router.get(
    "/views/queue/{member_id}",
    response_model=QueuePage,
    responses=problem_responses(
        400, 409, described={404: "No such member (at `as_of`, when given)."}
    ),
)
async def member_queue(
    member_id: UUID, view: View, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response:
    """A member's open work — issues assigned to them in an open status and operation
    occurrences assigned to them — in a stable, explained order: urgent or overdue first, then
    by priority, due date (none last), impact on active goals or other open work, and age. Each
    item says why it ranks where it does and carries its project, goals, what it blocks and who
    is waiting on it."""
    return await _queue(view, member_id, limit, cursor)


async def _queue(view: ViewRequest, member_id: UUID, limit: int, cursor: str | None) -> Response:
    after = _decode_rank(cursor)
    page = await view.answer(
        NAME, lambda snapshot: _read_queue(view, snapshot, str(member_id), limit, after)
    )
    # Plain data serialised by orjson, as pydantic would (UTC as ``Z``) at a fraction of the cost
    # of validating the page into models first; the tests check every answer against the model.
    return Response(orjson.dumps(page, option=orjson.OPT_UTC_Z), media_type="application/json")
