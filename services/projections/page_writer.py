"""Writing a page of a read model: the rows it reads (``RowCache``) and the versions it writes
(``PageWriter``), keeping each key's versions ordered and never overlapping by its floor (see
``services.projections.readmodel``)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.infrastructure.store import Batch, SqlCursor, TypedColumns
from services.projections.readmodel import Floor, Key, Row, Table


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


# Before any time a version can have (microseconds since the epoch, as a signed 64-bit integer).
_BEFORE_ALL = -(2**63)


def _since(began: int | None) -> int:
    """Where a key's current version may begin, at the earliest: its floor, when it has one."""
    return _BEFORE_ALL if began is None else began


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
        emptied: list[tuple[Any, ...]] = []
        for key, chain in chains.items():
            if chain.existed:
                ended = chain.versions[0][1]
                if ended == chain.began:
                    # Replaced at the instant it began: never visible, so not kept (as a rebuild
                    # never writes it).
                    emptied.append((*key, _since(chain.began)))
                else:
                    closing.append((ended, *key, _since(chain.began)))
        # The current version begins at the key's floor, and no version of the key begins after
        # it. Saying so lets either index find it at once: by the key and its validity alone, a
        # plan on the versions index (which a prepared statement may keep, planned while the
        # table was small) reads every version the key ever had, and a key changed by every
        # event (a project's tally) has thousands within minutes.
        current = f"{where} AND valid_from >= %s AND valid_to IS NULL"
        if emptied:
            changes.append(Batch(f"DELETE FROM {physical} WHERE {current}", emptied))
        if closing:
            changes.append(Batch(f"UPDATE {physical} SET valid_to = %s WHERE {current}", closing))
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
