"""A projection's bookkeeping: its position and generation in ``workledger_projections``, its
tables, and reading and applying a page of the log.

Each projection keeps a row in ``workledger_projections``: the position it has applied up to, the
generation of tables it writes, its schema version, and the latest occurred time among the events
it applied. Workers (``runner``) and rebuilds (``rebuild``) both build on what is here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from services.infrastructure.codec import RecordedEvent
from services.infrastructure.store import Backend, EventStore, SqlCursor, Statement
from services.projections.page_writer import PageWriter, RowCache
from services.projections.readmodel import Key, Table, micros, tables_by_name

POSITIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS workledger_projections ("
    " name TEXT PRIMARY KEY, position BIGINT NOT NULL, generation BIGINT NOT NULL,"
    " schema_version BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    " occurred_through BIGINT NOT NULL DEFAULT 0)"
)
# Added to a table made before views kept the latest time they had applied.
_ADD_OCCURRED_THROUGH = (
    "ALTER TABLE workledger_projections ADD COLUMN occurred_through BIGINT NOT NULL DEFAULT 0"
)


class Projection(Protocol):
    """A read model: its tables, the events it handles, and how one event changes them.

    ``event_types`` names the event types ``apply`` does anything with (``None``: all of them);
    workers read only those from the log, so a view pays nothing for the events it ignores.

    ``occurred_order``: the view is the fold of its events in the order they occurred, so an
    event recorded after others that occurred later (imported history) makes its worker derive
    the view again (see ``ProjectionWorker``). A view whose rows each follow one object's
    events, which never go back in time, can follow the log as recorded.
    """

    name: str
    schema_version: int
    tables: tuple[Table, ...]
    event_types: frozenset[str] | None
    occurred_order: bool

    def apply(self, writer: PageWriter, event: RecordedEvent) -> None:
        """Records what ``event`` changes, through ``writer``."""
        ...


@dataclass(frozen=True)
class ProjectionState:
    name: str
    position: int
    generation: int
    schema_version: int
    updated_at: int
    # The latest occurred time among the events applied (microseconds): an event that occurred
    # earlier arrives out of order.
    occurred_through: int = 0


ADVANCE_SQL = (
    "UPDATE workledger_projections SET position = %s, updated_at = %s, occurred_through = %s "
    "WHERE name = %s AND position = %s AND generation = %s RETURNING position"
)
ADVANCE = {
    "sqlite": ADVANCE_SQL,
    # A page need not wait for the disk at its commit: if the server crashes first, the page
    # and the position it reached are lost together, and the worker applies that page again.
    # Set by the statement itself (SET LOCAL would cost a round trip of its own).
    "postgresql": f"{ADVANCE_SQL}, set_config('synchronous_commit', 'off', true)",
}


class PositionLost(Exception):
    """Another worker or a rebuild moved this projection's position under us."""


_READ_STATE = (
    "SELECT name, position, generation, schema_version, updated_at, occurred_through "
    "FROM workledger_projections WHERE name = %s"
)


def read_state(backend: Backend, name: str) -> ProjectionState | None:
    rows = backend.fetchall(_READ_STATE, (name,), prepare=True)
    return ProjectionState(*rows[0]) if rows else None


def largest_current_table(backend: Backend, projection: Projection, generation: int) -> int:
    """How many current rows the projection's largest versioned table holds."""
    counts = backend.fetch_each(
        [
            Statement(f"SELECT count(*) FROM {table.physical(generation)} WHERE valid_to IS NULL")
            for table in projection.tables
            if table.versioned
        ]
    )
    return max((int(rows[0][0]) for rows in counts), default=0)


def load_current_rows(
    backend: Backend, projection: Projection
) -> tuple[ProjectionState | None, RowCache]:
    """The projection's state and every current row of its tables as of that state's position,
    with every key's floor, read in one snapshot: a cache that knows every row there is."""
    cache = RowCache(capacity=None)
    with backend.read_transaction() as cursor:
        cursor.execute(_READ_STATE, (projection.name,))
        found = cursor.fetchone()
        if found is None:
            return None, cache
        state = ProjectionState(*found)
        for table in projection.tables:
            if not table.versioned:
                continue
            names, key_of, rows = table.column_names, table.key_of, cache.table(table.name)
            physical = table.physical(state.generation)
            if table.latest_only:
                cursor.execute(f"SELECT {', '.join(names)} FROM {physical} WHERE valid_to IS NULL")
                for values in cursor.fetchall():
                    row = dict(zip(names, values, strict=True))
                    rows[key_of(row)] = row
                continue
            floors = cache.floors(table.name)
            settled: dict[Key, int] = {}
            key = ", ".join(table.key)
            # Each key's last stored version that has ended: a deleted key's floor, and the
            # version a current one falls back to. Keys whose row was deleted go in first, so
            # that a cache limited later forgets them before current rows.
            cursor.execute(
                f"SELECT {key}, max(valid_to), count(*) - count(valid_to) FROM {physical} "
                f"GROUP BY {key}"
            )
            for *columns, ended, current in cursor.fetchall():
                if current:
                    if ended is not None:
                        settled[tuple(columns)] = ended
                else:
                    rows[tuple(columns)] = None
                    floors[tuple(columns)] = (ended, ended)
            cursor.execute(
                f"SELECT {', '.join(names)}, valid_from FROM {physical} WHERE valid_to IS NULL"
            )
            for *columns, began in cursor.fetchall():
                row = dict(zip(names, columns, strict=True))
                row_key = key_of(row)
                rows[row_key] = row
                floors[row_key] = (began, settled.get(row_key))
    return state, cache


def ensure_projection(backend: Backend, projection: Projection) -> ProjectionState:
    """Creates the projection's bookkeeping and tables if missing. The state of a view built at
    an older schema version is returned as it is (its copy keeps serving until one of this
    schema is built beside it); a newer one raises ``NewerSchema``."""
    with backend.setup_transaction() as cursor:
        cursor.execute(POSITIONS_DDL)
        _add_occurred_through(cursor, backend.name)
        cursor.execute(_READ_STATE, (projection.name,))
        found = cursor.fetchone()
        state = ProjectionState(*found) if found is not None else None
        if state is not None and state.schema_version == projection.schema_version:
            missing = missing_statements(cursor, backend.name, projection, state.generation)
            execute_all(cursor, backend.name, missing)
            return state
        if state is not None and state.schema_version > projection.schema_version:
            raise NewerSchema(
                f"the {projection.name} view is at schema version {state.schema_version}, "
                f"newer than this release's {projection.schema_version}: run the newer release"
            )
        if state is not None:
            # An older schema's copy keeps serving the release that made it until a copy of
            # this schema, built beside it from the log (a rebuild), is switched in.
            return state
        generation = 1
        # A rebuild that died before its switch may have left this generation's tables
        # part-filled: a new generation starts empty, as its position 0 says.
        for table in projection.tables:
            cursor.execute(table.drop_statement(generation))
        create_tables(cursor, backend.name, projection, generation)
        now = now_micros()
        cursor.execute(
            "INSERT INTO workledger_projections "
            "(name, position, generation, schema_version, updated_at) "
            "VALUES (%s, 0, %s, %s, %s)",
            (projection.name, generation, projection.schema_version, now),
        )
        return ProjectionState(projection.name, 0, generation, projection.schema_version, now)


class NewerSchema(RuntimeError):
    """The view was built by a newer release than this process's: it is never stepped back."""


def _add_occurred_through(cursor: SqlCursor, dialect: str) -> None:
    if dialect == "postgresql":
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = 'workledger_projections' AND column_name = 'occurred_through'"
        )
    else:
        cursor.execute(
            "SELECT 1 FROM pragma_table_info('workledger_projections')"
            " WHERE name = 'occurred_through'"
        )
    if cursor.fetchone() is None:
        cursor.execute(_ADD_OCCURRED_THROUGH)


def create_tables(
    cursor: SqlCursor,
    dialect: str,
    projection: Projection,
    generation: int,
    *,
    indexes: bool = True,
) -> None:
    statements = [table.table_statement(dialect, generation) for table in projection.tables]
    if indexes:
        statements += index_statements(projection, generation)
    execute_all(cursor, dialect, statements)


def missing_statements(
    cursor: SqlCursor, dialect: str, projection: Projection, generation: int
) -> list[str]:
    """The statements that make whichever of the generation's tables and indexes are missing.

    On PostgreSQL, those that are there are found in the catalog and left alone:
    ``CREATE INDEX IF NOT EXISTS`` locks its table before it looks for the index, so a process
    starting beside a worker that writes the views (an API process started after the others)
    would take those locks one table after another while the worker holds some of them and
    waits for others, and one of the two would end in a deadlock. SQLite has one writer at a
    time, so there every statement runs (each does nothing if its object is there)."""
    # Tables first, then their indexes, in the order they are made.
    made = {
        table.physical(generation): table.table_statement(dialect, generation)
        for table in projection.tables
    }
    for table in projection.tables:
        made.update(table.indexes_made(generation))
    if dialect == "postgresql":
        cursor.execute(
            "SELECT relname FROM pg_class"
            " WHERE relnamespace = current_schema()::regnamespace AND relname = ANY(%s)",
            (list(made),),
        )
        for (name,) in cursor.fetchall():
            made.pop(name, None)
    return list(made.values())


def index_statements(projection: Projection, generation: int) -> list[str]:
    return [
        statement for table in projection.tables for statement in table.index_statements(generation)
    ]


def execute_all(cursor: SqlCursor, dialect: str, statements: Sequence[str]) -> None:
    if not statements:
        return
    if dialect == "postgresql":
        # One round trip: PostgreSQL runs a parameterless multi-statement string as a whole.
        cursor.execute(";\n".join(statements))
        return
    for statement in statements:
        cursor.execute(statement)


def now_micros() -> int:
    return time.time_ns() // 1000


def read_page(
    store: EventStore, projection: Projection, after: int, limit: int
) -> tuple[list[RecordedEvent], int]:
    """The projection's next events after ``after``, and the position they take it to.

    A projection that handles only some event types reads only those. When fewer than ``limit``
    of them are left, it is taken to the head of the log as read beforehand (or to its last
    event, if that came later): every event up to there had committed by then, as positions
    follow commits, and those it skipped were not its kind. The read has no upper bound on
    purpose: a bounded range lets PostgreSQL pick a bitmap scan and sort the whole range for
    every page, where an index scan in position order stops at ``limit``.
    """
    types = projection.event_types
    if types is None:
        events = store.read(after, limit)
        return events, events[-1].position if events else after
    head = store.last_position()
    events = store.read(after, limit, sorted(types))
    if len(events) == limit:
        return events, events[-1].position
    return events, max(head, events[-1].position if events else after)


def apply_page(
    cursor: SqlCursor,
    projection: Projection,
    generation: int,
    cache: RowCache,
    events: Sequence[RecordedEvent],
) -> None:
    writer = PageWriter(cursor, tables_by_name(projection.tables), generation, cache)
    for event in events:
        projection.apply(writer, event)
    writer.flush()


def event_time(event: RecordedEvent) -> int:
    """When the event occurred, as the tables store time."""
    return micros(event.metadata.occurred_at)
