"""A rebuild's writer: every current row in memory with when its version began, each version
written once, when the next one ends it (see ``PageWriter`` for the floors it keeps)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.infrastructure.store import SqlCursor
from services.projections.page_writer import PageWriter, RowCache
from services.projections.readmodel import Key, Row, Table

# When a key's current version began, the position that made it, and where its last stored
# version before it ends; for a key whose row was deleted, its floor, a position, and its floor.
Opened = tuple[int, int, int | None]


class OpenVersions:
    """During a rebuild, when each current row's version began, the position that made it and
    the rest of its key's ``Floor``; and the floor of each key whose row was deleted."""

    def __init__(self) -> None:
        self._started: dict[str, dict[Key, Opened]] = {}

    def table(self, table: str) -> dict[Key, Opened]:
        started = self._started.get(table)
        if started is None:
            started = self._started[table] = {}
        return started


class RebuildWriter(PageWriter):
    """A rebuild's writer: each version is written once, when the next one ends it.

    Every current row is in memory (an unbounded ``RowCache``) together with when its version
    began, so a version goes to the database only once it has been replaced and its end is
    known, and ``write_current`` writes the versions still current when the log is done. No row
    is ever updated, so the tables need no indexes until the rebuild is complete.
    """

    def __init__(
        self,
        cursor: SqlCursor,
        tables: Mapping[str, Table],
        generation: int,
        cache: RowCache,
        opened: OpenVersions,
    ) -> None:
        if not cache.complete:
            raise ValueError("a rebuild holds every row: its cache must be unbounded")
        super().__init__(cursor, tables, generation, cache)
        self._opened = opened
        self._ended: dict[str, list[tuple[Any, ...]]] = {}

    def get(self, table: str, key: Key) -> Row | None:
        return self._cache.table(table).get(key)

    def _version(self, table: str, key: Key, row: Row | None, occurred: int, position: int) -> None:
        current = self._cache.table(table)
        started = self._opened.table(table)
        definition = self._tables[table]
        opened = started.get(key)
        settled = None
        if opened is not None and not definition.latest_only:
            began, made_at, settled = opened
            occurred = max(occurred, began)
            previous = current.get(key)
            # A version replaced at the instant it began was never visible: it is not stored.
            if previous is not None and occurred != began:
                ended = self._ended.get(table)
                if ended is None:
                    ended = self._ended[table] = []
                ended.append((*definition.values_of(previous), began, occurred, made_at))
                settled = occurred
        if row is not None:
            current[key] = row
            started[key] = (occurred, position, settled)
        else:
            current.pop(key, None)
            if settled is None:
                started.pop(key, None)
            else:
                started[key] = (settled, position, settled)

    def flush(self) -> None:
        for table_name, rows in self._ended.items():
            self._copy_versions(self._tables[table_name], rows)
        self._ended.clear()
        super().flush()

    def write_current(self) -> None:
        """Writes every version still current: the last step before the tables get indexes.

        The cache is then handed on to a ``PageWriter`` (the pages that arrived meanwhile), so
        it is given every key's floor, those of keys whose row was deleted with them.
        """
        for table in self._tables.values():
            if not table.versioned:
                continue
            current = self._cache.table(table.name)
            started = self._opened.table(table.name)
            values_of = table.values_of
            rows: list[tuple[Any, ...]] = []
            for key, row in current.items():
                if row is not None:
                    began, made_at, _ = started[key]
                    rows.append((*values_of(row), began, None, made_at))
            self._copy_versions(table, rows)
            if not table.latest_only:
                floors = self._cache.floors(table.name)
                for key, (floor, _, settled) in started.items():
                    floors[key] = (floor, settled)
                    current.setdefault(key, None)

    def _copy_versions(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self._cursor.copy_rows(table.physical(self._generation), table.typed_columns, rows)
