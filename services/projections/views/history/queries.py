"""The history's reads: pages of entries, and the verdict on the whole chain.

Pages are cut by position with keyset cursors; every filter has an index ending in the position,
and time ranges are turned into position ranges (see ``time_bounded``), so a page costs the same
at the start of a long log as at its end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from contracts.views.history import ChainVerdict, ObjectKind
from services.infrastructure.http import ProblemError
from services.projections.query import ViewRequest, encode_cursor
from services.projections.readmodel import Snapshot
from services.projections.runner import read_state
from services.projections.views.history.chain import entry_content, verify_chain
from services.projections.views.history.tables import ENTRIES, ENTRY_COLUMNS, NAME

_NO_POSITION = 2**63 - 1


@dataclass(frozen=True)
class EntriesAsked:
    """What a page of entries asks for: filters, a time range (microseconds), a cursor (the
    position of the previous page's last entry), a size and a direction."""

    object_id: UUID | None
    actor_id: str | None
    team_id: UUID | None
    kind: ObjectKind | None
    since: int | None
    until: int | None
    after: int | None
    limit: int
    newest_first: bool


@dataclass(frozen=True)
class _Page:
    """One page's query: equality filters, a time range, a cursor, a direction."""

    filters: Sequence[tuple[str, Any]]
    since: int | None
    before: int | None
    after: int | None
    limit: int
    newest_first: bool


def _filters(asked: EntriesAsked) -> list[tuple[str, Any]]:
    filters: list[tuple[str, Any]] = []
    if asked.object_id is not None:
        filters.append(("object_id = %s", str(asked.object_id)))
    if asked.actor_id is not None:
        filters.append(("actor = %s", asked.actor_id))
    if asked.team_id is not None:
        filters.append(("team_id = %s", str(asked.team_id)))
    if asked.kind is not None:
        filters.append(("object_kind = %s", asked.kind))
    return filters


def _entry(values: Sequence[Any]) -> dict[str, Any]:
    row = dict(zip(ENTRY_COLUMNS, values, strict=True))
    content = entry_content(row)
    content["hash"] = row["hash"]
    return content


def time_bounded(table: str, page: _Page) -> tuple[str, list[Any]]:
    """The page's SQL, its time range turned into position ranges the primary key serves.

    ``occurred`` follows the log order except where history was imported late, so each entry
    keeps ``occurred_max``, the latest time up to and including it, which never decreases.
    Every entry that occurred at or after ``since`` lies at or after the first entry whose
    ``occurred_max`` reached ``since``; every entry before the first whose ``occurred_max``
    reached ``before`` occurred before it, and after that one only entries flagged
    ``out_of_order`` can have. Both first entries are one index lookup each, so a page costs
    the same however far into the log its time range lies.
    """
    where: list[str] = []
    params: list[Any] = []
    for condition, value in page.filters:
        where.append(condition)
        params.append(value)
    if page.after is not None:
        where.append("position < %s" if page.newest_first else "position > %s")
        params.append(page.after)

    def first_reaching(moment: int) -> str:
        return (
            f"(SELECT position FROM {table} WHERE occurred_max >= {moment} "
            "ORDER BY occurred_max, position LIMIT 1)"
        )

    # Times are written into the SQL (they are integers this module made): the best plan
    # depends on them, and a prepared statement's generic plan would not know them.
    if page.since is not None:
        where.extend(
            (f"position >= {first_reaching(page.since)}", f"occurred >= {int(page.since)}")
        )
    order = "DESC" if page.newest_first else "ASC"
    columns = ", ".join(ENTRY_COLUMNS)
    if page.before is None:
        return (
            f"SELECT {columns} FROM {table} WHERE {' AND '.join(where) or '1 = 1'} "
            f"ORDER BY position {order} LIMIT %s",
            [*params, page.limit + 1],
        )
    before = int(page.before)
    in_order = " AND ".join(
        [
            *where,
            f"position < COALESCE({first_reaching(before)}, {_NO_POSITION})",
            f"occurred < {before}",
        ]
    )
    late = " AND ".join(
        [
            *where,
            # Stated as the partial indexes state it, so the planner can use them.
            "out_of_order",
            f"position >= {first_reaching(before)}",
            f"occurred < {before}",
        ]
    )
    # Each branch is a page of its own, so each reads at most one page from its index.
    return (
        f"SELECT {columns} FROM ("
        f"SELECT * FROM (SELECT {columns} FROM {table} WHERE {in_order} "
        f"ORDER BY position {order} LIMIT %s) AS in_order UNION ALL "
        f"SELECT * FROM (SELECT {columns} FROM {table} WHERE {late} "
        f"ORDER BY position {order} LIMIT %s) AS late"
        f") AS entries ORDER BY position {order} LIMIT %s",
        [*params, page.limit + 1, *params, page.limit + 1, page.limit + 1],
    )


def _select_page(view: ViewRequest, snapshot: Snapshot, page: _Page) -> dict[str, Any]:
    sql, params = time_bounded(snapshot.name(ENTRIES), page)
    rows = view.fetchall(sql, params)
    items = [_entry(values) for values in rows[: page.limit]]
    more = len(rows) > page.limit
    return {
        "items": items,
        "next_cursor": encode_cursor([items[-1]["position"]]) if more else None,
    }


async def read_entries(view: ViewRequest, asked: EntriesAsked) -> dict[str, Any]:
    """A page of entries (a ``HistoryPage`` as plain data), in log order or newest first; with
    ``as_of``, only those of events that had occurred by then."""
    filters = _filters(asked)

    def read(snapshot: Snapshot) -> dict[str, Any]:
        ends = [asked.until] if asked.until is not None else []
        if snapshot.as_of is not None:
            # As of a moment, what had occurred by then: before its next microsecond.
            ends.append(snapshot.as_of + 1)
        page = _Page(
            filters,
            asked.since,
            min(ends, default=None),
            asked.after,
            asked.limit,
            asked.newest_first,
        )
        return _select_page(view, snapshot, page)

    return await view.answer(NAME, read)


async def verify_applied(view: ViewRequest) -> ChainVerdict:
    """The verdict on the whole chain, up to the last entry applied, whatever ``as_of`` says."""

    def verify(snapshot: Snapshot) -> ChainVerdict:
        # The position with the generation it belongs to: what was applied, however far.
        state = read_state(view.read_models.backend, NAME)
        if state is None:
            raise ProblemError(503, "unavailable", "the history view is not built yet")
        table = ENTRIES.physical(state.generation)
        return verify_chain(view.fetchall, table, state.position)

    return await view.answer(NAME, verify)
