"""Read-model tables that remember every past version, so any view can be asked ``as_of``.

A *versioned* table keeps one row per version of each key: ``valid_from`` and ``valid_to`` are the
times (microseconds since the epoch, taken from the events' ``occurred_at``) between which that
version was the truth, and ``position`` is the log position of the event that made it. The current
rows are those with ``valid_to IS NULL``; the rows as of a moment ``T`` are those with
``valid_from <= T < valid_to``. Versions made and replaced at the same instant (several events
of one command) have an empty validity range and are never visible, which is right: no one could
have seen them.

Times need not grow along a key: writers race, and history is imported late. So a new version
never starts before the key's *floor*: when its current version began or, once its row is
deleted, when its last stored version ended. A version whose event occurred earlier starts at the
floor instead, and the version it replaces, left with an empty range, is not stored. Each key's
versions are then ordered and never overlap, and ``as_of`` any moment sees at most one of them.
The floor is read from the stored versions alone, so a worker that has just started and a rebuild
agree on it: a key deleted at the instant its row was created stored nothing, and its floor stays
where its last stored version ended.

An *append-only* table holds facts that never change once written (history entries, completed
work); as of ``T`` they are the rows whose ``occurred`` time is at most ``T``.

Tables are named with the projection's generation (``pf_project_g2``): a rebuild fills the next
generation while the current one keeps serving, then one transaction switches to it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from operator import itemgetter
from typing import Any

from services.infrastructure.store import Batch, ColumnType, SqlCursor, TypedColumns, micros

Row = dict[str, Any]
Key = tuple[Any, ...]
# A key's floor (see above), and where its last stored version before the current one ends: the
# floor it falls back to if the current version ends at the instant it began (and so is never
# stored). Once the key has no row, the two are the same.
Floor = tuple[int, int | None]

_SQL_TYPES: dict[str, dict[ColumnType, str]] = {
    # Text compares bytewise ("C"): read models hold ids, keys and names whose order is their
    # code points' anyway (as under C.UTF-8), and any other collation makes every comparison a
    # locale call. Index builds on id columns take half the time, key lookups less still.
    "postgresql": {
        "text": 'text COLLATE "C"',
        "int": "bigint",
        "real": "double precision",
        "bool": "boolean",
    },
    "sqlite": {"text": "TEXT", "int": "INTEGER", "real": "REAL", "bool": "INTEGER"},
}

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

__all__ = ["EPOCH", "from_micros", "iso_date", "micros"]


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _getter(names: Sequence[str]) -> Callable[[Row], tuple[Any, ...]]:
    if len(names) == 1:
        only = names[0]
        return lambda row: (row[only],)
    return itemgetter(*names)


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "text"


@dataclass(frozen=True)
class Index:
    """An index of the rows ``where`` selects only (a partial index): small and quick to build
    when few rows qualify, and used by queries that state the same condition."""

    columns: tuple[str, ...]
    where: str


@dataclass(frozen=True)
class Table:
    """A read-model table: its key, its columns, and the indexes that serve its queries.

    ``indexes`` on a versioned table cover the current rows only (partial indexes), which is
    what live queries read; ``as_of`` queries scan versions by key and validity instead.
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    versioned: bool = True
    indexes: tuple[tuple[str, ...] | Index, ...] = ()
    # Only the current version is kept: state a projection keeps for its own use, never read
    # as of a past moment, so its past versions would be written for nothing.
    latest_only: bool = False

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @cached_property
    def typed_columns(self) -> tuple[tuple[str, ColumnType], ...]:
        """Each column's name and type, and for a versioned table its span and position."""
        own = tuple((column.name, column.type) for column in self.columns)
        if not self.versioned:
            return own
        return (*own, ("valid_from", "int"), ("valid_to", "int"), ("position", "int"))

    @cached_property
    def blank(self) -> Row:
        """A row of nulls: what a written row's unnamed columns hold."""
        return dict.fromkeys(self.column_names)

    @cached_property
    def key_of(self) -> Callable[[Row], Key]:
        """A row's key (a tuple, even of one column)."""
        return _getter(self.key)

    @cached_property
    def values_of(self) -> Callable[[Row], tuple[Any, ...]]:
        """A complete row's column values in column order (see ``blank``)."""
        return _getter(self.column_names)

    def physical(self, generation: int) -> str:
        return f"{self.name}_g{generation}"

    def table_statement(self, dialect: str, generation: int) -> str:
        types = _SQL_TYPES[dialect]
        columns = [f"{c.name} {types[c.type]}" for c in self.columns]
        if self.versioned:
            columns += [
                f"valid_from {types['int']} NOT NULL",
                f"valid_to {types['int']}",
                f"position {types['int']} NOT NULL",
            ]
        return f"CREATE TABLE IF NOT EXISTS {self.physical(generation)} ({', '.join(columns)})"

    def index_statements(self, generation: int) -> list[str]:
        """The table's indexes: a rebuild makes them once its rows are in, which is far faster
        than keeping them up to date row by row."""
        physical = self.physical(generation)
        key = ", ".join(self.key)
        statements: list[str] = []
        if self.versioned:
            statements += [
                f"CREATE UNIQUE INDEX IF NOT EXISTS {physical}_current ON {physical} "
                f"({key}) WHERE valid_to IS NULL",
                f"CREATE INDEX IF NOT EXISTS {physical}_versions ON {physical} ({key}, valid_from)",
            ]
            where = " WHERE valid_to IS NULL"
        else:
            if self.key:
                statements.append(
                    f"CREATE UNIQUE INDEX IF NOT EXISTS {physical}_key ON {physical} ({key})"
                )
            where = ""
        for number, index in enumerate(self.indexes):
            if isinstance(index, Index):
                columns = index.columns
                condition = f"{where} AND {index.where}" if where else f" WHERE {index.where}"
            else:
                columns, condition = index, where
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {physical}_i{number} ON {physical} "
                f"({', '.join(columns)}){condition}"
            )
        return statements

    def drop_statement(self, generation: int) -> str:
        return f"DROP TABLE IF EXISTS {self.physical(generation)}"


@dataclass(frozen=True, slots=True)
class _Insert:
    """Rows to add to one table."""

    table: str
    columns: TypedColumns
    rows: list[tuple[Any, ...]]


@dataclass(slots=True)
class _Chain:
    """The versions one page makes of one key, oldest first, and where the next one may start.

    ``began`` is the key's floor when the page met it; ``floor`` and ``settled`` are the key's
    ``Floor`` as each version leaves it (``None``: it has none, or its table keeps no spans).
    """

    existed: bool
    spanned: bool
    began: int | None
    floor: int | None
    settled: int | None
    versions: list[tuple[Row | None, int, int]] = field(default_factory=list)


# Rows per table a live worker keeps in memory: enough for the working set of a large
# organisation, far less than a rebuild holds.
DEFAULT_CACHE_CAPACITY = 500_000


class RowCache:
    """The current row of each key a projection worker has seen; it is the tables' only writer.

    Holding current rows in memory lets a page be folded without a query per event. Beside each
    row (or ``None``, for a key whose row was deleted) it keeps the key's ``Floor``, so where a
    key's next version may start is known without a query too. A bounded cache forgets the least
    recently used keys, floors with them, once a table has more than ``capacity``. A *complete*
    cache holds every row there is and every floor, so a key it lacks has no row and no floor and
    the database is only written to: one that started empty with the tables (``capacity=None``,
    as in a rebuild), or was filled with every current row and floor, stays complete until it
    first forgets one.
    """

    def __init__(self, capacity: int | None = DEFAULT_CACHE_CAPACITY) -> None:
        self.capacity = capacity
        self._complete = capacity is None
        self._rows: dict[str, dict[Key, Row | None]] = {}
        self._floors: dict[str, dict[Key, Floor]] = {}

    def limit(self, capacity: int) -> None:
        """From now on holds at most ``capacity`` rows per table, the ones it took in last."""
        self.capacity = capacity
        for table, rows in self._rows.items():
            excess = list(itertools.islice(rows, max(0, len(rows) - capacity)))
            floors = self._floors.get(table, {})
            for key in excess:
                del rows[key]
                floors.pop(key, None)
            if excess:
                self._complete = False

    @property
    def complete(self) -> bool:
        return self._complete

    def table(self, table: str) -> dict[Key, Row | None]:
        """The rows of one table by key (the cache itself: a writer may change it in place)."""
        rows = self._rows.get(table)
        if rows is None:
            rows = self._rows[table] = {}
        return rows

    def floors(self, table: str) -> dict[Key, Floor]:
        """The floors of one table's keys that have one (the cache itself, as ``table``)."""
        floors = self._floors.get(table)
        if floors is None:
            floors = self._floors[table] = {}
        return floors

    def floor(self, table: str, key: Key) -> Floor | None:
        floors = self._floors.get(table)
        return floors.get(key) if floors is not None else None

    def get(self, table: str, key: Key) -> tuple[bool, Row | None]:
        rows = self._rows.get(table)
        if rows is None or key not in rows:
            return False, None
        if self.capacity is None:
            return True, rows[key]
        # Least recently used last out: a dict keeps insertion order, so re-insert on use.
        row = rows[key] = rows.pop(key)
        return True, row

    def put(self, table: str, key: Key, row: Row | None, floor: Floor | None = None) -> None:
        rows = self.table(table)
        floors = self._floors.get(table)
        if floor is not None:
            if floors is None:
                floors = self._floors[table] = {}
            floors[key] = floor
        elif floors:
            floors.pop(key, None)
        if self.capacity is None:
            rows[key] = row
            return
        rows.pop(key, None)
        rows[key] = row
        if len(rows) > self.capacity:
            forgotten = next(iter(rows))
            del rows[forgotten]
            if floors:
                floors.pop(forgotten, None)
            self._complete = False


class PageWriter:
    """Collects one page's changes to a projection's tables and writes them set-wise.

    ``get`` answers the current row as the page has left it so far; ``put`` and ``delete`` make
    a new version at an event's time, or at the key's floor if that is later; ``append`` adds a
    fact. ``flush`` writes it all with a few statements per table, in the caller's transaction.
    """

    def __init__(
        self,
        cursor: SqlCursor,
        tables: Mapping[str, Table],
        generation: int,
        cache: RowCache,
    ) -> None:
        self._cursor = cursor
        self._tables = tables
        self._generation = generation
        self._cache = cache
        self._chains: dict[str, dict[Key, _Chain]] = {}
        self._appends: dict[str, list[Row]] = {}

    def table(self, name: str) -> Table:
        return self._tables[name]

    def get(self, table: str, key: Key) -> Row | None:
        """The current row of ``key`` (a copy is not made: treat it as read-only)."""
        chain = self._chains.get(table, {}).get(key)
        if chain is not None and chain.versions:
            return chain.versions[-1][0]
        known, row = self._cache.get(table, key)
        if known:
            return row
        if self._cache.complete:
            return None
        row, floor = self._select_current(self._tables[table], key)
        self._cache.put(table, key, row, floor)
        return row

    def _select_current(self, table: Table, key: Key) -> tuple[Row | None, Floor | None]:
        """The current row of ``key`` and its floor, in one query."""
        names = table.column_names
        physical = table.physical(self._generation)
        where = " AND ".join(f"{column} = %s" for column in table.key)
        if table.latest_only:
            self._cursor.execute(
                f"SELECT {', '.join(names)} FROM {physical} WHERE {where} AND valid_to IS NULL",
                key,
            )
            found = self._cursor.fetchone()
            return (dict(zip(names, found, strict=True)) if found else None), None
        # A key's versions never overlap, so the last to begin is the current one, or else the
        # last to end; the one before it ends where the key's last stored version before the
        # current one does. The index on (key, valid_from) reads just these two.
        self._cursor.execute(
            f"SELECT {', '.join(names)}, valid_from, valid_to FROM {physical} "
            f"WHERE {where} ORDER BY valid_from DESC LIMIT 2",
            key,
        )
        versions = self._cursor.fetchall()
        if not versions:
            return None, None
        *values, began, ended = versions[0]
        if ended is not None:
            return None, (ended, ended)
        settled = versions[1][-1] if len(versions) > 1 else None
        return dict(zip(names, values, strict=True)), (began, settled)

    def put(self, table: str, row: Row, occurred: int, position: int) -> None:
        """Makes ``row`` the current version of its key from ``occurred`` on."""
        definition = self._tables[table]
        # Every column present, so rows can be written with ``values_of``.
        stored = {**definition.blank, **row}
        self._version(table, definition.key_of(stored), stored, occurred, position)

    def update(
        self, table: str, key: Key, changes: Mapping[str, Any], occurred: int, position: int
    ) -> Row | None:
        """A new version of ``key`` with ``changes`` applied; nothing if the key has no row."""
        current = self.get(table, key)
        if current is None:
            return None
        row = {**current, **changes}
        if row != current:
            self._version(table, key, row, occurred, position)
        return row

    def delete(self, table: str, key: Key, occurred: int, position: int) -> None:
        """Ends the current version of ``key``: from ``occurred`` on, it has no row."""
        if self.get(table, key) is not None:
            self._version(table, key, None, occurred, position)

    def _version(self, table: str, key: Key, row: Row | None, occurred: int, position: int) -> None:
        chains = self._chains.setdefault(table, {})
        chain = chains.get(key)
        if chain is None:
            chain = chains[key] = self._chain(table, key)
        versions = chain.versions
        if chain.spanned:
            floor = chain.floor
            if floor is not None:
                if occurred <= floor:
                    occurred = floor
                elif versions[-1][0] is not None if versions else chain.existed:
                    # The version this one ends is not empty, so it is stored, up to here.
                    chain.settled = occurred
            chain.floor = occurred if row is not None else chain.settled
        versions.append((row, occurred, position))

    def _chain(self, table: str, key: Key) -> _Chain:
        """A key's chain as the page meets it: whether it has a row, and its floor."""
        definition = self._tables[table]
        spanned = not definition.latest_only
        known, row = self._cache.get(table, key)
        if known:
            floor = self._cache.floor(table, key) if spanned else None
        elif self._cache.complete:
            floor = None
        else:
            row, floor = self._select_current(definition, key)
            self._cache.put(table, key, row, floor)
        if floor is None:
            return _Chain(row is not None, spanned, None, None, None)
        began, settled = floor
        return _Chain(row is not None, spanned, began, began, settled)

    def append(self, table: str, row: Row) -> None:
        self._appends.setdefault(table, []).append(row)

    def flush(self) -> None:
        # Rows ended or replaced first: a new current version may not sit beside the old one.
        changes: list[Batch] = []
        inserts: list[_Insert] = []
        for table_name, chains in self._chains.items():
            self._plan_versions(self._tables[table_name], chains, changes, inserts)
        for table_name, rows in self._appends.items():
            table = self._tables[table_name]
            columns, values_of = table.column_names, table.values_of
            try:
                values = [values_of(row) for row in rows]
            except KeyError:
                # Some rows leave columns out: those are null.
                values = [tuple(row.get(column) for column in columns) for row in rows]
            inserts.append(_Insert(table.physical(self._generation), table.typed_columns, values))
        if changes:
            self._cursor.run_together(changes)
        for insert in inserts:
            self._cursor.copy_rows(insert.table, insert.columns, insert.rows)
        for table_name, chains in self._chains.items():
            for key, chain in chains.items():
                floor = None if chain.floor is None else (chain.floor, chain.settled)
                self._cache.put(table_name, key, chain.versions[-1][0], floor)
        self._chains.clear()
        self._appends.clear()

    def _plan_versions(
        self,
        table: Table,
        chains: dict[Key, _Chain],
        changes: list[Batch],
        inserts: list[_Insert],
    ) -> None:
        """What writing ``chains`` takes: the current rows they end, and the versions they add."""
        physical = table.physical(self._generation)
        where = " AND ".join(f"{column} = %s" for column in table.key)
        values_of, columns = table.values_of, table.typed_columns
        if table.latest_only:
            replaced = [key for key, chain in chains.items() if chain.existed]
            if replaced:
                changes.append(
                    Batch(f"DELETE FROM {physical} WHERE {where} AND valid_to IS NULL", replaced)
                )
            latest = [
                (*values_of(row), occurred, None, position)
                for chain in chains.values()
                for row, occurred, position in chain.versions[-1:]
                if row is not None
            ]
            if latest:
                inserts.append(_Insert(physical, columns, latest))
            return
        closing: list[tuple[Any, ...]] = []
        emptied: list[Key] = []
        for key, chain in chains.items():
            if chain.existed:
                ended = chain.versions[0][1]
                if ended == chain.began:
                    # Replaced at the instant it began: never visible, so not kept (as a rebuild
                    # never writes it).
                    emptied.append(key)
                else:
                    closing.append((ended, *key))
        if emptied:
            changes.append(
                Batch(f"DELETE FROM {physical} WHERE {where} AND valid_to IS NULL", emptied)
            )
        if closing:
            changes.append(
                Batch(
                    f"UPDATE {physical} SET valid_to = %s WHERE {where} AND valid_to IS NULL",
                    closing,
                )
            )
        rows: list[tuple[Any, ...]] = []
        for chain in chains.values():
            versions = chain.versions
            last = len(versions) - 1
            for index, (row, occurred, position) in enumerate(versions):
                if row is None:
                    continue
                valid_to = versions[index + 1][1] if index < last else None
                if valid_to == occurred:
                    # Replaced within the same instant: never visible, so never stored.
                    continue
                rows.append((*values_of(row), occurred, valid_to, position))
        if rows:
            inserts.append(_Insert(physical, columns, rows))


@dataclass(frozen=True)
class Snapshot:
    """Which rows a query sees: the current ones, or those valid at ``as_of`` (microseconds)."""

    generation: int
    as_of: int | None = None

    def visible(self, alias: str = "") -> tuple[str, tuple[Any, ...]]:
        """A SQL condition selecting the visible versions of a versioned table, with its params."""
        prefix = f"{alias}." if alias else ""
        if self.as_of is None:
            return f"{prefix}valid_to IS NULL", ()
        return (
            f"{prefix}valid_from <= %s AND ({prefix}valid_to IS NULL OR {prefix}valid_to > %s)",
            (self.as_of, self.as_of),
        )

    def occurred_by(self, column: str) -> tuple[str, tuple[Any, ...]]:
        """A SQL condition on an append-only table's time column."""
        if self.as_of is None:
            return "1 = 1", ()
        return f"{column} <= %s", (self.as_of,)

    def name(self, table: Table) -> str:
        return table.physical(self.generation)


def tables_by_name(tables: Iterable[Table]) -> dict[str, Table]:
    return {table.name: table for table in tables}


def rows(cursor_rows: Sequence[tuple[Any, ...]], columns: Sequence[str]) -> list[Row]:
    return [dict(zip(columns, values, strict=True)) for values in cursor_rows]
