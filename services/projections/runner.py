"""Projection workers: follow the log page by page, applying each page and its position at once.

Each projection keeps a row in ``workledger_projections``: the position it has applied up to and
the generation of tables it writes. A page of events and the new position are committed in one
transaction, so after any crash a worker resumes exactly where its last commit left it: no event
is lost and none is applied twice. The position is advanced with a compare-and-set, so two workers
of one projection can't both apply a page (one of them rolls back and reloads).

A failing event stops its worker's progress loudly (logged, reported by ``status``); the worker
retries the same page with a growing pause. It never skips.

Positions follow commit order because every writer takes the log's table lock (see
``services.infrastructure.store``), so a worker that has read up to ``p`` can never later find
an event below ``p`` committed.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from eventsourcing.persistence import InterfaceError, OperationalError

from services.infrastructure.codec import RecordedEvent
from services.infrastructure.store import Backend, EventStore, SqlCursor, Statement
from services.infrastructure.timeline import last_given_time_position, occurred_order
from services.projections.readmodel import (
    DEFAULT_CACHE_CAPACITY,
    Key,
    OpenVersions,
    PageWriter,
    RebuildWriter,
    RowCache,
    Table,
    micros,
    tables_by_name,
)

log = logging.getLogger("workledger.projections")

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


# How far behind the log a starting worker must be to read its view's current rows first.
WARM_UP_BEHIND = 50_000

# A failing page is retried after a pause that doubles from the first to the most, so that a
# page that can't be applied (a bug) does not fill the log with its failure.
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0
# A database that is away (a lost connection, none from the pool in time) or briefly refusing
# (a lock or serialization failure) is no fault of the page: the worker tries again about every
# second, so the view moves again as soon as the database is back, however long it was away.
DATABASE_AWAY = (OperationalError, InterfaceError)
RETRY_AWAY_SECONDS = 1.0
# Before deriving a view again for imported history, a worker waits until no import has written
# for this long (checked this often), so that one derivation takes in a whole import; but never
# longer than the most.
IMPORT_QUIET_SECONDS = 1.0
IMPORT_POLL_SECONDS = 0.25
IMPORT_WAIT_MAX_SECONDS = 60.0
# A rebuild that meets history older than what it has applied while catching up starts again,
# this many times at most.
REBUILD_ATTEMPTS = 5


_ADVANCE_SQL = (
    "UPDATE workledger_projections SET position = %s, updated_at = %s, occurred_through = %s "
    "WHERE name = %s AND position = %s AND generation = %s RETURNING position"
)
_ADVANCE = {
    "sqlite": _ADVANCE_SQL,
    # A page need not wait for the disk at its commit: if the server crashes first, the page
    # and the position it reached are lost together, and the worker applies that page again.
    # Set by the statement itself (SET LOCAL would cost a round trip of its own).
    "postgresql": f"{_ADVANCE_SQL}, set_config('synchronous_commit', 'off', true)",
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
    """Creates the projection's bookkeeping and tables if missing; a new schema starts afresh."""
    with backend.setup_transaction() as cursor:
        cursor.execute(POSITIONS_DDL)
        _add_occurred_through(cursor, backend.name)
        cursor.execute(_READ_STATE, (projection.name,))
        found = cursor.fetchone()
        state = ProjectionState(*found) if found is not None else None
        if state is not None and state.schema_version == projection.schema_version:
            create_tables(cursor, backend.name, projection, state.generation)
            return state
        generation = state.generation + 1 if state is not None else 1
        # A rebuild that died before its switch may have left this generation's tables
        # part-filled: a new generation starts empty, as its position 0 says.
        for table in projection.tables:
            cursor.execute(table.drop_statement(generation))
        create_tables(cursor, backend.name, projection, generation)
        now = _now()
        if state is None:
            cursor.execute(
                "INSERT INTO workledger_projections "
                "(name, position, generation, schema_version, updated_at) "
                "VALUES (%s, 0, %s, %s, %s)",
                (projection.name, generation, projection.schema_version, now),
            )
        else:
            cursor.execute(
                "UPDATE workledger_projections SET position = 0, generation = %s, "
                "schema_version = %s, updated_at = %s, occurred_through = 0 WHERE name = %s",
                (generation, projection.schema_version, now, projection.name),
            )
            for table in projection.tables:
                cursor.execute(table.drop_statement(state.generation))
        return ProjectionState(projection.name, 0, generation, projection.schema_version, now)


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
    _execute_all(cursor, dialect, statements)


def index_statements(projection: Projection, generation: int) -> list[str]:
    return [
        statement for table in projection.tables for statement in table.index_statements(generation)
    ]


def _execute_all(cursor: SqlCursor, dialect: str, statements: Sequence[str]) -> None:
    if dialect == "postgresql":
        # One round trip: PostgreSQL runs a parameterless multi-statement string as a whole.
        cursor.execute(";\n".join(statements))
        return
    for statement in statements:
        cursor.execute(statement)


def _now() -> int:
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


class ProjectionWorker:
    """Keeps one projection up to date with the log."""

    def __init__(
        self,
        store: EventStore,
        backend: Backend,
        projection: Projection,
        *,
        page_size: int = 2000,
        linger: float = 0.02,
        warm_up_behind: int = WARM_UP_BEHIND,
        cache_capacity: int = DEFAULT_CACHE_CAPACITY,
    ) -> None:
        self.store = store
        self.backend = backend
        self.projection = projection
        self.page_size = page_size
        self.linger = linger
        self.warm_up_behind = warm_up_behind
        self.cache_capacity = cache_capacity
        self._cache = RowCache(cache_capacity)
        self._state: ProjectionState | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # While the worker is behind, the page after the one being applied is read meanwhile.
        self._reader: ThreadPoolExecutor | None = None
        self._ahead: tuple[int, Future[tuple[list[RecordedEvent], int]]] | None = None
        self.last_error: str | None = None
        self.failures = 0
        # How many times the view was derived again for history that arrived out of order, and
        # how long no import must have written before it is.
        self.derivations = 0
        self.import_quiet_seconds = IMPORT_QUIET_SECONDS
        # Where a failure and the recovery after it are told (``health`` records them where
        # ``status`` and ``/readyz`` read them).
        self.on_failure: Callable[[str, BaseException], None] = lambda _name, _error: None
        self.on_recovery: Callable[[str], None] = lambda _name: None

    @property
    def name(self) -> str:
        return self.projection.name

    def position(self) -> int:
        state = read_state(self.backend, self.name)
        return state.position if state else 0

    def prepare(self) -> None:
        state = ensure_projection(self.backend, self.projection)
        # A cache that holds every row of the view needs no lookups, where a cold one makes
        # one per key it meets. At position 0 the tables are empty (rows and position commit
        # together), so an empty cache holds them all. Otherwise the worker reads every current
        # row first when they fit in its cache, and also when it is far behind the log, as
        # after downtime: a catch-up with every row at hand beats one lookup per key. (A cache
        # unbounded while catching up is bounded once the worker reaches the log.)
        if state.position == 0:
            cache = RowCache(capacity=None)
        else:
            far_behind = self.store.last_position() - state.position >= self.warm_up_behind
            cache = RowCache(self.cache_capacity)
            if (
                far_behind
                or largest_current_table(self.backend, self.projection, state.generation)
                <= self.cache_capacity
            ):
                loaded, warm = load_current_rows(self.backend, self.projection)
                if loaded is not None:
                    state, cache = loaded, warm
                    if not far_behind:
                        cache.limit(self.cache_capacity)
        self._state, self._cache = state, cache

    @property
    def holds_every_row(self) -> bool:
        """Whether the worker holds every row of its view in memory."""
        return self._cache.complete

    def step(self) -> int:
        """Applies the next page, if any; the number of events applied (at least 1 if the
        position moved on)."""
        if self._state is None:
            self.prepare()
        state = self._state
        assert state is not None
        if state.position == 0 and self.store.last_position() >= self.warm_up_behind:
            # A view that starts from nothing far behind the log (new, or of a new schema) is
            # built as a rebuild builds it: tables filled without indexes, each row version
            # written once. Page by page it would update every row it replaces, in place.
            return self._build_from_scratch()
        events, last = self._read(state.position)
        if last == state.position:
            return 0
        through = state.occurred_through
        if self.projection.occurred_order:
            for event in events:
                occurred = event_time(event)
                if occurred < through:
                    return self._derive_again()
                through = occurred
        elif events:
            through = max(through, *map(event_time, events))
        if len(events) == self.page_size:
            # Behind the log: the next page is read while this one is applied, so that the
            # database's part of reading overlaps with applying.
            self._read_ahead(last)
        try:
            with self.backend.transaction() as cursor:
                # The position first: its row stays locked until the page commits, so another
                # worker of this view waits here and then finds the position moved, rather than
                # applying the same page beside this one.
                cursor.execute(
                    _ADVANCE[self.backend.name],
                    (last, _now(), through, self.name, state.position, state.generation),
                )
                if cursor.fetchone() is None:
                    raise PositionLost(self.name)
                if events:
                    apply_page(cursor, self.projection, state.generation, self._cache, events)
        except PositionLost:
            # A rebuild switched generations, or another worker got there first: start over.
            self._state = None
            self._cache = RowCache(self.cache_capacity)
            return 0
        except BaseException:
            # Whatever the page did is rolled back; the next step starts from the stored state.
            self._state = None
            self._cache = RowCache(self.cache_capacity)
            raise
        self._state = ProjectionState(
            state.name, last, state.generation, state.schema_version, _now(), through
        )
        if len(events) < self.page_size and self._cache.capacity is None:
            self._cache.limit(self.cache_capacity)
        # Never 0 once the position moved, even if no event was the view's: callers stop at 0.
        return max(len(events), 1)

    def _derive_again(self) -> int:
        """The next page holds an event that occurred before events the view has applied:
        imported history, recorded after what happened later. The view is the fold of its
        events in the order they occurred, so it is derived again, in that order, beside the
        copy that keeps serving (which stays where it is until the switch, so a query that
        waits for a position past the import waits for the view that tells it right).

        An import writes in batches, so the worker first waits until none has been written
        for a moment (or a minute at most): one derivation then takes in the whole import.
        """
        self._ahead = None
        log.info(
            "view %s: events arrived that occurred before ones it has applied (imported "
            "history); deriving it again in the order they occurred",
            self.name,
        )
        self._await_quiet_imports()
        if not self._stop.is_set():
            try:
                rebuild(self.store, self.backend, self.projection)
                self.derivations += 1
            except RebuildInProgress:
                # Another worker of this view (or `workledger rebuild`) is at it: its switch
                # moves this worker on.
                self._stop.wait(1.0)
        self._state = None
        self._cache = RowCache(self.cache_capacity)
        return 1

    def _build_from_scratch(self) -> int:
        log.info("view %s: building from the start of the log", self.name)
        try:
            built = rebuild(self.store, self.backend, self.projection)
        except RebuildInProgress:
            self._stop.wait(1.0)
            built = None
        self._state = None
        self._cache = RowCache(self.cache_capacity)
        return max(built.applied if built else 0, 1)

    def _await_quiet_imports(self) -> None:
        if self.import_quiet_seconds <= 0:
            return
        started = changed_at = time.monotonic()
        last = last_given_time_position(self.store)
        while not self._stop.wait(IMPORT_POLL_SECONDS):
            now = time.monotonic()
            latest = last_given_time_position(self.store)
            if latest != last:
                last, changed_at = latest, now
            quiet = now - changed_at >= self.import_quiet_seconds
            if quiet or now - started >= IMPORT_WAIT_MAX_SECONDS:
                return

    def _read(self, after: int) -> tuple[list[RecordedEvent], int]:
        """The page after ``after``: the one read ahead, if it was read from there."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == after:
            return ahead[1].result()
        return read_page(self.store, self.projection, after, self.page_size)

    def _read_ahead(self, after: int) -> None:
        if self._reader is None:
            self._reader = ThreadPoolExecutor(1, thread_name_prefix=f"workledger-read-{self.name}")
        future = self._reader.submit(read_page, self.store, self.projection, after, self.page_size)
        self._ahead = (after, future)

    def catch_up(self, until: int | None = None) -> int:
        """Applies pages until the log (or ``until``) is reached; the events applied."""
        applied = 0
        while True:
            count = self.step()
            applied += count
            state = self._state
            if count == 0 or (until is not None and state is not None and state.position >= until):
                return applied

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"workledger-projection-{self.name}", daemon=True
        )
        self._thread.start()

    def request_stop(self) -> None:
        """Asks the worker to stop after its current page, waking it if it waits."""
        self._stop.set()
        self.backend.notify_committed()

    def stop(self) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._ahead = None
        if self._reader is not None:
            self._reader.shutdown(wait=True, cancel_futures=True)
            self._reader = None

    def _run(self) -> None:
        pause = RETRY_FIRST_SECONDS
        while not self._stop.is_set():
            try:
                applied = self.step()
                if applied == 0:
                    state = self._state
                    self.store.wait_for_events(state.position if state else 0, 1.0, self._stop)
                elif applied < self.page_size:
                    # Busy but not behind: let a few more commits gather, so that every page
                    # (a transaction and a few statements per table) carries several of them.
                    # The first commit after a quiet spell is still applied at once.
                    self._stop.wait(self.linger)
                if self.last_error is not None:
                    self.last_error = None
                    self.on_recovery(self.name)
                pause = RETRY_FIRST_SECONDS
            except Exception as error:
                self.failures += 1
                self.last_error = f"{type(error).__name__}: {error}"
                self.on_failure(self.name, error)
                if isinstance(error, DATABASE_AWAY):
                    log.warning(
                        "projection %s can't reach the database (%s); retrying", self.name, error
                    )
                    self._stop.wait(min(pause, RETRY_AWAY_SECONDS))
                else:
                    log.exception(
                        "projection %s failed; retrying from its last position", self.name
                    )
                    self._stop.wait(pause)
                pause = min(pause * 2, RETRY_MAX_SECONDS)


@dataclass(frozen=True)
class RebuildProgress:
    """How far a rebuild is: ``applied`` events handled by the view, up to log ``position``."""

    applied: int
    position: int
    target: int
    seconds: float

    @property
    def rate(self) -> float:
        """Log positions covered per second (the view's own events and those it skips)."""
        return self.position / self.seconds if self.seconds > 0 else 0.0


class RebuildInProgress(Exception):
    """Another rebuild of the same view is running (in this process or another one)."""


def rebuild(
    store: EventStore,
    backend: Backend,
    projection: Projection,
    *,
    page_size: int = 5000,
    progress: Callable[[RebuildProgress], None] | None = None,
) -> RebuildProgress:
    """Builds a fresh generation of the projection from the start of the log, then switches.

    A view folded in occurred order (``Projection.occurred_order``) reads the log up to its
    head in that order (``services.infrastructure.timeline``), then follows it as recorded.

    The current generation keeps serving queries and its worker keeps running while the new one
    is filled. The new tables are filled without indexes, each row version written once (see
    ``RebuildWriter``); their indexes are made when the log is done, and the switch happens in
    one transaction that also applies whatever arrived meanwhile.

    One rebuild of a view runs at a time: a second would fill the same next generation, drop
    the first one's tables under it and make it fail. It is refused with ``RebuildInProgress``.
    """
    lock = backend.try_lock(f"workledger-rebuild:{projection.name}")
    if lock is None:
        raise RebuildInProgress(f"a rebuild of the {projection.name} view is already running")
    try:
        for _ in range(REBUILD_ATTEMPTS - 1):
            try:
                return _rebuild(store, backend, projection, page_size, progress)
            except _OutOfOrder:
                log.info("view %s: older history arrived while rebuilding; again", projection.name)
        return _rebuild(store, backend, projection, page_size, progress)
    finally:
        lock.release()


class _OutOfOrder(Exception):
    """While a rebuild caught up with the log, an event arrived that occurred before events it
    had applied: it starts again, so as to take that event in where it occurred."""


def _rebuild(
    store: EventStore,
    backend: Backend,
    projection: Projection,
    page_size: int,
    progress: Callable[[RebuildProgress], None] | None,
) -> RebuildProgress:
    current = ensure_projection(backend, projection)
    generation = current.generation + 1
    with backend.transaction() as cursor:
        for table in projection.tables:
            cursor.execute(table.drop_statement(generation))
        create_tables(cursor, backend.name, projection, generation, indexes=False)
    tables = tables_by_name(projection.tables)
    cache = RowCache(capacity=None)
    opened = OpenVersions()
    started = time.perf_counter()
    position = 0
    applied = 0
    target = store.last_position()
    through = 0
    in_occurred_order = projection.occurred_order
    types = sorted(projection.event_types) if projection.event_types is not None else []
    timeline = occurred_order(store, target, page_size, types) if in_occurred_order else None

    def next_page(after: int) -> tuple[list[RecordedEvent], int]:
        if timeline is None:
            return read_page(store, projection, after, page_size)
        page = next(timeline, [])
        return page, max((event.position for event in page), default=target) if page else target

    # The next page is read while this one is applied: the database's part of both overlaps.
    reader = ThreadPoolExecutor(1, thread_name_prefix=f"workledger-rebuild-{projection.name}")
    # Every row of the view is held in memory until the switch, and little of what a page
    # makes is cyclic garbage: the collector is frozen page by page (below) and otherwise off,
    # so it does not walk the same young objects again and again while they are made.
    collecting = gc.isenabled()
    gc.disable()
    try:
        upcoming = reader.submit(next_page, position)
        while True:
            events, reached = upcoming.result()
            if not events and (timeline is not None or reached == position):
                position = max(position, reached)
                break
            upcoming = reader.submit(next_page, reached)
            with backend.transaction() as cursor:
                if backend.name == "postgresql":
                    # The new generation serves nothing until the switch, and a crash restarts
                    # the rebuild anyway: its pages needn't wait for the disk.
                    cursor.execute("SET LOCAL synchronous_commit = off")
                writer = RebuildWriter(cursor, tables, generation, cache, opened)
                for event in events:
                    projection.apply(writer, event)
                writer.flush()
            if events:
                through = max(through, *map(event_time, events))
            # Without this, the garbage collector's full passes would walk every row again
            # and again.
            gc.freeze()
            position = reached if timeline is None else max(position, reached)
            applied += len(events)
            if progress is not None:
                elapsed = time.perf_counter() - started
                progress(RebuildProgress(applied, position, max(target, position), elapsed))
        if timeline is not None:
            position = target
        with backend.transaction() as cursor:
            RebuildWriter(cursor, tables, generation, cache, opened).write_current()
            _execute_all(cursor, backend.name, index_statements(projection, generation))
        if backend.name == "postgresql":
            # Freshly filled tables have no statistics yet, and none of their rows is known to be
            # visible to every transaction, so an index-only scan would still read each row's
            # page. A vacuum settles both before the new generation serves its first query.
            # (It can't run inside a transaction.)
            for table in projection.tables:
                backend.execute(f"VACUUM (ANALYZE) {table.physical(generation)}")
    finally:
        reader.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()
        if collecting:
            gc.enable()
    del opened
    # The tables are complete and indexed: from here on, pages are applied as a worker does.
    while True:
        with backend.transaction() as cursor:
            events, reached = read_page(store, projection, position, page_size)
            for event in events:
                occurred = event_time(event)
                if occurred < through and in_occurred_order:
                    raise _OutOfOrder(projection.name)
                through = max(through, occurred)
            if events:
                apply_page(cursor, projection, generation, cache, events)
                applied += len(events)
            position = reached
            caught_up = len(events) < page_size
            if caught_up:
                # Caught up: switch to the new generation in this same transaction, unless the
                # view moved to another generation meanwhile (a new schema version deployed, or
                # a rebuild that went on after this one's lock was lost with its connection).
                cursor.execute(
                    "UPDATE workledger_projections SET position = %s, generation = %s, "
                    "updated_at = %s, occurred_through = %s "
                    "WHERE name = %s AND generation = %s RETURNING generation",
                    (position, generation, _now(), through, projection.name, current.generation),
                )
                if cursor.fetchone() is None:
                    raise PositionLost(
                        f"the {projection.name} view left generation {current.generation} "
                        "during the rebuild: its copy was not switched in"
                    )
        if caught_up:
            break
    # The generation just replaced stays until the next switch, so queries still reading it end
    # well; older ones go.
    with backend.transaction() as cursor:
        for table in projection.tables:
            for old in range(1, generation - 1):
                cursor.execute(table.drop_statement(old))
    final = RebuildProgress(applied, position, position, time.perf_counter() - started)
    if progress is not None:
        progress(final)
    return final


def event_time(event: RecordedEvent) -> int:
    """When the event occurred, as the tables store time."""
    return micros(event.metadata.occurred_at)
