"""The entities' reads: one object of a kind, a filtered page of them, an issue's comments; each
on one snapshot of the tables, current or ``as_of``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from services.infrastructure.http import ProblemError
from services.projections.query import ViewRequest, decode_cursor_of, encode_cursor
from services.projections.readmodel import Row, Snapshot, Table, from_micros

from .answers import (
    Reading,
    answer_goals,
    answer_issues,
    answer_members,
    answer_operations,
    answer_projects,
    answer_teams,
)
from .rows import Doc
from .tables import COMMENTS, EDGES, GOALS, ISSUES, MEMBERS, NAME, OPERATIONS, PROJECTS, TEAMS


@dataclass(frozen=True)
class Kind:
    """A kind of object: its table, what the API calls it, and how it is answered."""

    table: Table
    noun: str
    answer: Callable[[Reading, list[Row]], list[Doc]]


TEAM = Kind(TEAMS, "team", answer_teams)
MEMBER = Kind(MEMBERS, "member", answer_members)
GOAL = Kind(GOALS, "goal", answer_goals)
PROJECT = Kind(PROJECTS, "project", answer_projects)
ISSUE = Kind(ISSUES, "issue", answer_issues)
OPERATION = Kind(OPERATIONS, "operation", answer_operations)


@dataclass(frozen=True)
class Filters:
    """A list's filters: equalities on filter columns, membership of an edge's node, and
    ``text``, an issue's key (exactly, in any case) or a part of its title (in any case)."""

    equal: tuple[tuple[str, Any], ...] = ()
    edge: tuple[str, str] | None = None
    text: str | None = None

    @staticmethod
    def of(edge: tuple[str, str] | None = None, **columns: Any) -> Filters:
        chosen = tuple((column, value) for column, value in columns.items() if value is not None)
        return Filters(chosen, edge)


def _like_escaped(text: str) -> str:
    """``text`` matched literally by ``LIKE ... ESCAPE '\\'``: its wildcards are not ours."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class _Where:
    """A WHERE clause being put together, its parameters in the order of its placeholders."""

    conditions: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, condition: str, params: Sequence[Any] = ()) -> _Where:
        self.conditions.append(condition)
        self.params.extend(params)
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(self.conditions)


_SELECTED = (
    "id",
    "version",
    "position",
    "valid_from",
    "created_occurred",
    "created_position",
    "doc",
)
# Where a page of a list starts: after the object created then, at that position.
After = tuple[int, int]

# Filter columns no event changes once an object is created (the domain has no event that moves
# an issue to another team or project, changes its kind, or hands a goal to another owner), so
# an object's current row holds the value it had at any earlier moment.
_SET_AT_CREATION = {
    ISSUES.name: frozenset({"team_id", "project_id", "kind"}),
    GOALS.name: frozenset({"team_id", "owner_id"}),
    PROJECTS.name: frozenset({"team_id"}),
    OPERATIONS.name: frozenset({"team_id"}),
}


def _find(
    reading: Reading, kind: Kind, filters: Filters, after: After | None, limit: int
) -> tuple[list[Doc], After | None]:
    """The objects of a kind that pass the filters, in creation order after the cursor, and
    where the next page starts (``None`` on the last page). Creation order is when objects
    were created, then the position that created them: imported history lands where it
    occurred, as in every view.

    As of a past moment, the objects are walked in creation order through their current rows,
    whose indexes give that order, each joined to the version it had then: an object is never
    removed, so everything that existed then has a current row. Filters on fields set at
    creation narrow the walk through those indexes. The walk reads about as many versions as
    it answers, unless only fields that change over time are filtered on: then matches may be
    rare, and one scan of the versions beats looking each object up.
    """
    table = reading.snapshot.name(kind.table)
    visible, visible_params = reading.snapshot.visible("o")
    fixed = _SET_AT_CREATION.get(kind.table.name, frozenset())
    walk = reading.snapshot.as_of is not None and (
        not (filters.equal or filters.edge or filters.text)
        or any(column in fixed for column, _ in filters.equal)
    )
    if walk:
        source = f"{table} c JOIN {table} o ON o.id = c.id AND {visible}"
        where = _Where(params=list(visible_params)).add("c.valid_to IS NULL")
    else:
        source = f"{table} o"
        where = _Where().add(visible, visible_params)
    for column, value in filters.equal:
        alias = "c" if walk and column in fixed else "o"
        where.add(f"{alias}.{column} = %s", (str(value) if isinstance(value, UUID) else value,))
    if filters.edge is not None:
        edge_visible, edge_params = reading.snapshot.visible("e")
        where.add(
            f"o.id IN (SELECT e.other_id FROM {reading.snapshot.name(EDGES)} e "
            f"WHERE e.node_id = %s AND e.relation = %s AND {edge_visible})",
            (*filters.edge, *edge_params),
        )
    if filters.text is not None:
        # Keys are upper case; a title is compared in lower case on both sides (SQLite's LIKE
        # ignores case, PostgreSQL's does not).
        where.add(
            "(o.key = %s OR LOWER(o.title) LIKE %s ESCAPE '\\')",
            (filters.text.upper(), f"%{_like_escaped(filters.text.lower())}%"),
        )
    order = "c" if walk else "o"
    if after is not None:
        where.add(f"({order}.created_occurred, {order}.created_position) > (%s, %s)", after)
    rows = reading.fetch(
        f"SELECT {', '.join(f'o.{c}' for c in _SELECTED)} FROM {source} WHERE {where.sql} "
        f"ORDER BY {order}.created_occurred, {order}.created_position LIMIT %s",
        [*where.params, limit + 1],
    )
    found = [dict(zip(_SELECTED, values, strict=True)) for values in rows[:limit]]
    last = found[-1] if len(rows) > limit else None
    following = (int(last["created_occurred"]), int(last["created_position"])) if last else None
    return kind.answer(reading, found), following


_Answer = TypeVar("_Answer")


async def _read(view: ViewRequest, detail: bool, queries: Callable[[Reading], _Answer]) -> _Answer:
    """Runs ``queries`` on one snapshot of the database, once the view has what was asked."""
    today = view.now.date()

    def read(snapshot: Snapshot) -> _Answer:
        return view.read(lambda cursor: queries(Reading(cursor, snapshot, today, detail)))

    return await view.answer(NAME, read)


def _not_found(view: ViewRequest, noun: str, object_id: UUID) -> ProblemError:
    when = f" as of {view.as_of.isoformat()}" if view.as_of is not None else ""
    return ProblemError(404, "not_found", f"there is no {noun} {object_id}{when}")


async def detail(view: ViewRequest, kind: Kind, object_id: UUID) -> Doc:
    """Everything about one object (404 if there is none)."""
    filters = Filters((("id", str(object_id)),))
    found, _ = await _read(view, True, lambda reading: _find(reading, kind, filters, None, 1))
    if not found:
        raise _not_found(view, kind.noun, object_id)
    return found[0]


def decode_list_cursor(cursor: str | None) -> After | None:
    """Where a list's next page starts, as its ``next_cursor`` says."""
    values = decode_cursor_of(cursor, (int, int))
    return None if values is None else (int(values[0]), int(values[1]))


async def objects(
    view: ViewRequest, kind: Kind, filters: Filters, after: After | None, limit: int
) -> Doc:
    """A page of the objects of a kind that pass the filters, in creation order."""
    items, following = await _read(
        view, False, lambda reading: _find(reading, kind, filters, after, limit)
    )
    next_cursor = encode_cursor(following) if following is not None else None
    return {"items": items, "next_cursor": next_cursor}


def _comments(reading: Reading, issue_id: str, after: int | None, limit: int) -> Doc | None:
    visible, visible_params = reading.snapshot.visible()
    exists = reading.fetch(
        f"SELECT 1 FROM {reading.snapshot.name(ISSUES)} WHERE id = %s AND {visible}",
        [issue_id, *visible_params],
    )
    if not exists:
        return None
    occurred, occurred_params = reading.snapshot.occurred_by("occurred")
    comments = reading.snapshot.name(COMMENTS)
    rows = reading.fetch(
        f"SELECT comment_id, author, body, occurred, position FROM {comments} "
        f"WHERE issue_id = %s AND position > %s AND {occurred} ORDER BY position LIMIT %s",
        [issue_id, after or 0, *occurred_params, limit + 1],
    )
    items = [
        {
            "id": comment_id,
            "author": author,
            "body": body,
            "created_at": from_micros(occurred_at),
            "position": position,
        }
        for comment_id, author, body, occurred_at, position in rows[:limit]
    ]
    more = len(rows) > limit
    return {
        "items": items,
        "next_cursor": encode_cursor([items[-1]["position"]]) if more else None,
    }


async def comments(view: ViewRequest, issue_id: UUID, after: int | None, limit: int) -> Doc:
    """A page of an issue's comments, oldest first (404 if there is no such issue)."""
    page = await _read(view, False, lambda reading: _comments(reading, str(issue_id), after, limit))
    if page is None:
        raise _not_found(view, "issue", issue_id)
    return page
