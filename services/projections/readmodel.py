"""Read-model tables that remember every past version, so any view can be asked ``as_of``.

A *versioned* table keeps one row per version of each key: ``valid_from`` and ``valid_to`` are the
times (microseconds since the epoch, taken from the events' ``occurred_at``) between which that
version was the truth, and ``position`` is the log position of the event that made it. The current
rows are those with ``valid_to IS NULL``; the rows as of a moment ``T`` are those with
``valid_from <= T < valid_to``. Versions made and replaced at the same instant (several events
of one command) have an empty validity range and are never visible, which is right: no one could
have seen them.

An *append-only* table holds facts that never change once written (history entries, completed
work); as of ``T`` they are the rows whose ``occurred`` time is at most ``T``.

Tables are named with the projection's generation (``pf_project_g2``): a rebuild fills the next
generation while the current one keeps serving, then one transaction switches to it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any, Literal

from services.infrastructure.store import SqlCursor

ColumnType = Literal["text", "int", "real", "bool"]
Row = dict[str, Any]
Key = tuple[Any, ...]

_SQL_TYPES: dict[str, dict[ColumnType, str]] = {
    "postgresql": {"text": "text", "int": "bigint", "real": "double precision", "bool": "boolean"},
    "sqlite": {"text": "TEXT", "int": "INTEGER", "real": "REAL", "bool": "INTEGER"},
}

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """A moment as whole microseconds since the epoch: exact, sortable, on every backend."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "text"


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
    indexes: tuple[tuple[str, ...], ...] = ()

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def physical(self, generation: int) -> str:
        return f"{self.name}_g{generation}"

    def create_statements(self, dialect: str, generation: int) -> list[str]:
        types = _SQL_TYPES[dialect]
        physical = self.physical(generation)
        columns = [f"{c.name} {types[c.type]}" for c in self.columns]
        if self.versioned:
            columns += [
                f"valid_from {types['int']} NOT NULL",
                f"valid_to {types['int']}",
                f"position {types['int']} NOT NULL",
            ]
            statements = [
                f"CREATE TABLE IF NOT EXISTS {physical} ({', '.join(columns)})",
                f"CREATE UNIQUE INDEX IF NOT EXISTS {physical}_current ON {physical} "
                f"({', '.join(self.key)}) WHERE valid_to IS NULL",
                f"CREATE INDEX IF NOT EXISTS {physical}_versions ON {physical} "
                f"({', '.join(self.key)}, valid_from)",
            ]
            where = " WHERE valid_to IS NULL"
        else:
            key = f", PRIMARY KEY ({', '.join(self.key)})" if self.key else ""
            statements = [f"CREATE TABLE IF NOT EXISTS {physical} ({', '.join(columns)}{key})"]
            where = ""
        for number, index in enumerate(self.indexes):
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {physical}_i{number} ON {physical} "
                f"({', '.join(index)}){where}"
            )
        return statements

    def drop_statement(self, generation: int) -> str:
        return f"DROP TABLE IF EXISTS {self.physical(generation)}"


@dataclass
class _Chain:
    """The versions one page makes of one key, oldest first."""

    existed: bool
    versions: list[tuple[Row | None, int, int]] = field(default_factory=list)


class RowCache:
    """The current row of each key a projection worker has seen; it is the tables' only writer.

    Holding current rows in memory lets a page be folded without a query per event; during a
    rebuild every row is in memory and the database is only written to.
    """

    def __init__(self, capacity: int = 500_000) -> None:
        self.capacity = capacity
        self._rows: dict[str, OrderedDict[Key, Row | None]] = {}
        self.complete = False

    def get(self, table: str, key: Key) -> tuple[bool, Row | None]:
        rows = self._rows.get(table)
        if rows is None or key not in rows:
            return False, None
        rows.move_to_end(key)
        return True, rows[key]

    def put(self, table: str, key: Key, row: Row | None) -> None:
        rows = self._rows.setdefault(table, OrderedDict())
        rows[key] = row
        rows.move_to_end(key)
        if not self.complete and len(rows) > self.capacity:
            rows.popitem(last=False)

    def clear(self) -> None:
        self._rows.clear()


class PageWriter:
    """Collects one page's changes to a projection's tables and writes them set-wise.

    ``get`` answers the current row as the page has left it so far; ``put`` and ``delete`` make
    a new version at an event's time; ``append`` adds a fact. ``flush`` writes it all with a few
    statements per table, in the caller's transaction.
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
        row = self._select_current(self._tables[table], key)
        self._cache.put(table, key, row)
        return row

    def _select_current(self, table: Table, key: Key) -> Row | None:
        where = " AND ".join(f"{column} = %s" for column in table.key)
        self._cursor.execute(
            f"SELECT {', '.join(table.column_names)} FROM {table.physical(self._generation)} "
            f"WHERE {where} AND valid_to IS NULL",
            key,
        )
        found = self._cursor.fetchone()
        return dict(zip(table.column_names, found, strict=True)) if found else None

    def put(self, table: str, row: Row, occurred: int, position: int) -> None:
        """Makes ``row`` the current version of its key from ``occurred`` on."""
        definition = self._tables[table]
        key = tuple(row[column] for column in definition.key)
        self._version(table, key, dict(row), occurred, position)

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
            existed = self.get(table, key) is not None
            chain = chains[key] = _Chain(existed)
        chain.versions.append((row, occurred, position))

    def append(self, table: str, row: Row) -> None:
        self._appends.setdefault(table, []).append(row)

    def flush(self) -> None:
        for table_name, chains in self._chains.items():
            self._flush_versions(self._tables[table_name], chains)
        for table_name, rows in self._appends.items():
            table = self._tables[table_name]
            columns = table.column_names
            self._cursor.copy_rows(
                table.physical(self._generation),
                columns,
                [tuple(row.get(column) for column in columns) for row in rows],
            )
        for table_name, chains in self._chains.items():
            for key, chain in chains.items():
                self._cache.put(table_name, key, chain.versions[-1][0])
        self._chains.clear()
        self._appends.clear()

    def _flush_versions(self, table: Table, chains: dict[Key, _Chain]) -> None:
        physical = table.physical(self._generation)
        closing = [(chain.versions[0][1], *key) for key, chain in chains.items() if chain.existed]
        if closing:
            where = " AND ".join(f"{column} = %s" for column in table.key)
            self._cursor.executemany(
                f"UPDATE {physical} SET valid_to = %s WHERE {where} AND valid_to IS NULL",
                closing,
            )
        names = table.column_names
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
                rows.append((*[row.get(name) for name in names], occurred, valid_to, position))
        if rows:
            self._cursor.copy_rows(physical, (*names, "valid_from", "valid_to", "position"), rows)


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
