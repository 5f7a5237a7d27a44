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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from operator import itemgetter
from typing import Any

from services.infrastructure.store import ColumnType, micros

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
        return [statement for _, statement in self.indexes_made(generation)]

    def index_names(self, generation: int) -> list[str]:
        return [name for name, _ in self.indexes_made(generation)]

    def indexes_made(self, generation: int) -> list[tuple[str, str]]:
        """Each index's name and the statement that makes it."""
        physical = self.physical(generation)
        key = ", ".join(self.key)
        made: list[tuple[str, str]] = []

        def index(suffix: str, definition: str, *, unique: bool = False) -> None:
            name = f"{physical}_{suffix}"
            kind = "UNIQUE INDEX" if unique else "INDEX"
            made.append((name, f"CREATE {kind} IF NOT EXISTS {name} ON {physical} {definition}"))

        if self.versioned:
            index("current", f"({key}) WHERE valid_to IS NULL", unique=True)
            index("versions", f"({key}, valid_from)")
            where = " WHERE valid_to IS NULL"
        else:
            if self.key:
                index("key", f"({key})", unique=True)
            where = ""
        for number, indexed in enumerate(self.indexes):
            if isinstance(indexed, Index):
                columns = indexed.columns
                condition = f"{where} AND {indexed.where}" if where else f" WHERE {indexed.where}"
            else:
                columns, condition = indexed, where
            index(f"i{number}", f"({', '.join(columns)}){condition}")
        return made

    def drop_statement(self, generation: int) -> str:
        return f"DROP TABLE IF EXISTS {self.physical(generation)}"


@dataclass(frozen=True)
class Snapshot:
    """Which rows a query sees: the current ones, or those valid at ``as_of`` (microseconds);
    ``position`` is the view's when the snapshot was taken, where known."""

    generation: int
    as_of: int | None = None
    position: int | None = None

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
