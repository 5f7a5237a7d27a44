"""Rebuilding a view: a fresh generation of its tables filled from the start of the log while
the current one keeps serving, then one transaction that switches to it."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from services.infrastructure.codec import RecordedEvent
from services.infrastructure.store import Backend, EventStore
from services.infrastructure.timeline import occurred_order
from services.projections.page_writer import RowCache
from services.projections.readmodel import tables_by_name
from services.projections.rebuild_writer import OpenVersions, RebuildWriter
from services.projections.state import (
    PositionLost,
    Projection,
    apply_page,
    create_tables,
    ensure_projection,
    event_time,
    execute_all,
    index_statements,
    now_micros,
    read_page,
)

log = logging.getLogger("workledger.projections")

# A rebuild that meets history older than what it has applied while catching up starts again,
# this many times at most.
REBUILD_ATTEMPTS = 5


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
            execute_all(cursor, backend.name, index_statements(projection, generation))
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
                # The copy is of this release's schema, whatever the one it replaces was.
                cursor.execute(
                    "UPDATE workledger_projections SET position = %s, generation = %s, "
                    "schema_version = %s, updated_at = %s, occurred_through = %s "
                    "WHERE name = %s AND generation = %s RETURNING generation",
                    (
                        position,
                        generation,
                        projection.schema_version,
                        now_micros(),
                        through,
                        projection.name,
                        current.generation,
                    ),
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
