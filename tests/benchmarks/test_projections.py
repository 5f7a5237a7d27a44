"""Rebuilding each view from about a million events on PostgreSQL, beside baselines from the run.

Baselines:
- the eventsourcing library's own ``ProjectionRunner`` feeding the same view code the same events,
  one transaction per event with its tracking record (the library's model), through a real
  PostgreSQL tracking recorder subscribed to our log. At about a thousand events a second the
  whole log would take a quarter of an hour per view, so it runs on the first
  ``LIBRARY_EVENTS`` events, and our page-at-a-time code is timed on the same prefix beside it;
- a bulk ``COPY`` of as many rows as the log holds (the log's own rows, streamed from one table
  into a fresh one), the floor of moving that much data through PostgreSQL;
- reading and decoding the log alone, the part of every rebuild that no view can avoid.

The self-check of the data set generator at the end is an ordinary test (not a benchmark), so
``make test`` covers it.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, cast
from uuid import UUID

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, Notification, StoredEvent, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection as LibraryProjection
from eventsourcing.projection import ProjectionRunner
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import tuple_row

from domain.catalog import AGGREGATES, Aggregate, kind_of_event
from services.app import make_codec
from services.infrastructure.codec import EventCodec, RecordedEvent
from services.infrastructure.postgres import PostgresBackend, PostgresCursor
from services.infrastructure.store import Backend, EventStore, iter_pages
from services.projections.page_writer import RowCache
from services.projections.runner import (
    Projection,
    apply_page,
    create_tables,
    rebuild,
)
from services.projections.views import all_projections
from tests.benchmarks.conftest import Cost, Organisation, ServerClock, describe, measured
from tests.benchmarks.dataset import load_organisation

TARGET = 50_000
LIBRARY_EVENTS = int(os.environ.get("WORKLEDGER_BENCH_LIBRARY_EVENTS", "20000"))
PAGE = 5000
# Generations far above any a rebuild makes, for the baselines' scratch copies of each view.
SCRATCH_GENERATION = 900_000


# The library's runner on our log


class PassThroughMapper(Mapper[UUID]):
    """Hands each stored envelope on as it is: our topics are stable names, not module paths."""

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        return cast(DomainEventProtocol[UUID], stored_event)


class Workledger(Application[UUID]):
    """Our log as the library sees it: on PostgreSQL an application named ``Workledger`` records
    into ``workledger_events``, the table our backend writes."""

    def construct_mapper(self) -> Mapper[UUID]:
        return PassThroughMapper(transcoder=self.construct_transcoder())


class ViewRecorder(PostgresTrackingRecorder):
    """A materialised view in the library's style: each event's changes and its tracking record
    are committed together, one transaction per event."""

    def apply(
        self,
        projection: Projection,
        generation: int,
        cache: RowCache,
        event: RecordedEvent,
        tracking: Tracking,
    ) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            with cursor.connection.cursor(row_factory=tuple_row) as rows:
                apply_page(PostgresCursor(rows), projection, generation, cache, [event])
            self._insert_tracking(cursor, tracking)


class _Feed(LibraryProjection[ViewRecorder]):
    """Decodes each event with our codec and applies it to one of our views, up to ``limit``."""

    target: ClassVar[Projection]
    generation: ClassVar[int]
    codec: ClassVar[EventCodec]
    limit: ClassVar[int]
    cache: ClassVar[RowCache]
    applied: ClassVar[list[int]]
    reached: ClassVar[threading.Event]
    finished_at: ClassVar[list[float]]

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        position = tracking.notification_id
        if position > self.limit:
            return
        stored = cast(Notification, domain_event)
        stream_id = stored.originator_id
        event = self.codec.decode(
            position,
            stream_id if isinstance(stream_id, UUID) else UUID(stream_id),
            stored.originator_version,
            stored.state,
        )
        self.view.apply(self.target, self.generation, self.cache, event, tracking)
        self.applied.append(position)
        if position == self.limit:
            self.finished_at.append(time.perf_counter())
            self.reached.set()


def _library_env(url: str) -> dict[str, str]:
    parts = conninfo_to_dict(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parts["dbname"]),
        "POSTGRES_HOST": str(parts.get("host") or "127.0.0.1"),
        "POSTGRES_PORT": str(parts.get("port") or 5432),
        "POSTGRES_USER": str(parts.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(parts.get("password") or ""),
    }


def _scratch(backend: Backend, projection: Projection, generation: int) -> Callable[[], None]:
    """Empty tables of ``generation`` for ``projection``; the returned function drops them."""
    with backend.transaction() as cursor:
        for table in projection.tables:
            cursor.execute(table.drop_statement(generation))
        create_tables(cursor, backend.name, projection, generation)

    def drop() -> None:
        with backend.transaction() as cursor:
            for table in projection.tables:
                cursor.execute(table.drop_statement(generation))

    return drop


def _library_runner(
    url: str, backend: Backend, projection: Projection, generation: int, limit: int
) -> float:
    """Events/s of the library's ``ProjectionRunner`` applying the first ``limit`` events."""
    drop = _scratch(backend, projection, generation)
    tracking_table = f"library_{projection.name}_tracking"

    class Feed(_Feed):
        name = f"library_{projection.name}"
        target = projection
        codec = make_codec()
        cache = RowCache()
        applied: ClassVar[list[int]] = []
        reached = threading.Event()
        finished_at: ClassVar[list[float]] = []

    Feed.generation = generation
    Feed.limit = limit
    try:
        started = time.perf_counter()
        with ProjectionRunner(
            application_class=Workledger,
            projection_class=Feed,
            view_class=ViewRecorder,
            env=_library_env(url),
        ) as runner:
            deadline = time.monotonic() + max(600.0, limit / 20)
            while not Feed.reached.wait(1.0):
                runner.run_forever(timeout=0)  # re-raises the runner's error, if any
                assert time.monotonic() < deadline, (
                    f"the library runner stalled at {Feed.applied[-1:]}"
                )
            runner.wait(limit, timeout=30)
        seconds = Feed.finished_at[0] - started
        assert Feed.applied == list(range(1, limit + 1)), "the runner applied every event once"
    finally:
        drop()
        backend.execute(f"DROP TABLE IF EXISTS {tracking_table}")
    return limit / seconds


def _paged(
    store: EventStore, backend: Backend, projection: Projection, generation: int, limit: int
) -> float:
    """Events/s of our page-at-a-time application (as a rebuild does) on the first ``limit``."""
    drop = _scratch(backend, projection, generation)
    cache = RowCache(capacity=None)
    applied = 0
    try:
        started = time.perf_counter()
        for page in iter_pages(store, 0, PAGE, until=limit):
            with backend.transaction() as cursor:
                apply_page(cursor, projection, generation, cache, page)
            applied += len(page)
        seconds = time.perf_counter() - started
    finally:
        drop()
    assert applied == limit
    return limit / seconds


def _read_and_decode(store: EventStore, last: int) -> float:
    started = time.perf_counter()
    count = 0
    try:
        for page in iter_pages(store, 0, PAGE):
            count += len(page)
            gc.freeze()  # as a rebuild does, so the collector's passes don't count here either
    finally:
        gc.unfreeze()
    seconds = time.perf_counter() - started
    assert count == last
    return count / seconds


def _bulk_copy(url: str, rows: int) -> float:
    """Rows/s of a bulk COPY of the log's first ``rows`` rows into a fresh table."""
    with psycopg.connect(url, autocommit=True) as source, psycopg.connect(url) as target:
        target.execute("DROP TABLE IF EXISTS bench_copy")
        target.execute(
            "CREATE TABLE bench_copy (position bigint PRIMARY KEY, stream_id uuid NOT NULL, "
            "version bigint NOT NULL, type text NOT NULL, state bytea NOT NULL)"
        )
        target.commit()
        query = (
            "COPY (SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM workledger_events ORDER BY notification_id LIMIT {int(rows)}) "
            "TO STDOUT (FORMAT BINARY)"
        )
        started = time.perf_counter()
        with (
            source.cursor().copy(query.encode()) as out,
            target.cursor().copy(b"COPY bench_copy FROM STDIN (FORMAT BINARY)") as into,
        ):
            for chunk in out:
                into.write(chunk)
        target.commit()
        seconds = time.perf_counter() - started
        copied = target.execute("SELECT count(*) FROM bench_copy").fetchone()
        target.execute("DROP TABLE bench_copy")
        target.commit()
    assert copied is not None
    assert copied[0] == rows, "COPY moved every row"
    return rows / seconds


@pytest.mark.benchmark
def test_rebuild_each_view_from_the_whole_log(organisation: Organisation) -> None:
    backend = PostgresBackend.from_url(organisation.url, pool_size=4, max_overflow=4)
    store = EventStore(backend, make_codec())
    projections = all_projections()
    server = ServerClock(organisation.url)
    try:
        last = store.last_position()
        rows = backend.fetchall("SELECT count(*) FROM workledger_events")
        events = int(rows[0][0])
        # The organisation, plus whatever a server run earlier in the session appended.
        assert events == last >= organisation.summary.events, "positions have no gaps"
        print()
        print(f"rebuild of each view from {events:,} events on PostgreSQL")
        print(f"({describe(organisation.summary)})")
        if not projections:
            print("no views in this tree yet: nothing to rebuild")
        rebuilt: dict[str, tuple[int, float]] = {}
        costs: dict[str, Cost] = {}
        for projection in projections:
            with measured(server) as cost:
                result = rebuild(store, backend, projection, page_size=PAGE)
            costs[projection.name] = cost
            handled = events
            if projection.event_types is not None:
                counted = backend.fetchall(
                    "SELECT count(*) FROM workledger_events WHERE topic = ANY(%s)",
                    (sorted(projection.event_types),),
                )
                handled = int(counted[0][0])
            assert result.applied == handled, f"{projection.name} applied each of its events"
            assert result.position == last
            rebuilt[projection.name] = (result.applied, result.seconds)
            # Rates are of the whole log: a view that handles only some event types still
            # rebuilds from all of them (the others are filtered out by the read).
            print(f"  rebuilt {projection.name} in {result.seconds:.1f} s", flush=True)
        prefix = min(LIBRARY_EVENTS, last)
        baselines: dict[str, tuple[float, float]] = {}
        for number, projection in enumerate(projections):
            generation = SCRATCH_GENERATION + number
            paged = _paged(store, backend, projection, generation, prefix)
            library = _library_runner(organisation.url, backend, projection, generation, prefix)
            baselines[projection.name] = (paged, library)
            print(f"  ran the baselines on {projection.name}", flush=True)
        with measured(server) as decoding:
            decode = _read_and_decode(store, last)
        copy = _bulk_copy(organisation.url, last)
    finally:
        backend.close()

    print(f"target: >= {TARGET:,} events/s per view. Baselines measured in this run:")
    print("  (events/s counts every event of the log; 'applied' the ones the view handles,")
    print("  the only ones it reads. 'paged' applies every event as a live worker does.)")
    print(f"  bulk COPY of the log's {last:,} rows into a fresh table: {copy:>10,.0f} rows/s")
    print(f"  reading and decoding the log alone (no view):            {decode:>10,.0f} events/s")
    print(f"  on the first {prefix:,} events: the library's ProjectionRunner, one transaction per")
    print("  event with its tracking record, beside our page-at-a-time code on the same events")
    print(
        f"{'view':<10} {'applied':>10} {'seconds':>8} {'events/s':>9} {'target':>7} "
        f"{'vs COPY':>8} | {'paged/s':>9} {'library/s':>9} {'speed-up':>8}"
    )
    for name, (applied, seconds) in rebuilt.items():
        rate = events / seconds
        paged, library = baselines[name]
        print(
            f"{name:<10} {applied:>10,} {seconds:>8.1f} {rate:>9,.0f} "
            f"{'met' if rate >= TARGET else 'MISSED':>7} {rate / copy:>7.0%} | "
            f"{paged:>9,.0f} {library:>9,.0f} {paged / library:>7.0f}x"
        )
    cores = os.cpu_count() or 1
    print("CPU time per event of the log, here and in PostgreSQL, and the most events/s that")
    print(f"this much work allows on this machine's {cores} cores, however it were spread out:")
    print(f"{'':<10} {'here us':>8} {'server us':>9} {'ceiling/s':>10}")
    for name, cost in [*costs.items(), ("read+decode", decoding)]:
        print(f"{name:<10} {cost.line(events, cores)}")


# The data set generator's self-check (not a benchmark: ``make test`` runs it)


def test_the_generated_organisation_replays_through_the_domain(backend: Backend) -> None:
    store = EventStore(backend, make_codec())
    summary = load_organisation(store, issues=200, members=30, projects=4, weeks=5, seed=3)
    versions: dict[UUID, int] = {}
    aggregates: dict[UUID, Aggregate[Any, Any, Any]] = {}
    states: dict[UUID, Any] = {}
    by_kind = {aggregate.kind: aggregate for aggregate in AGGREGATES}
    previous = None
    count = 0
    for page in iter_pages(store, 0, 1000):
        for event in page:
            count += 1
            expected = versions.get(event.stream_id, 0) + 1
            assert event.version == expected, f"stream {event.stream_id} skips a version"
            versions[event.stream_id] = event.version
            aggregate = by_kind[kind_of_event(type(event.data))]
            if expected == 1:
                assert isinstance(event.data, aggregate.created_event)
                aggregates[event.stream_id] = aggregate
            assert aggregates[event.stream_id] is aggregate, "one kind of object per stream"
            states[event.stream_id] = aggregate.evolve(states.get(event.stream_id), event.data)
            assert states[event.stream_id] is not None
            moment = (event.metadata.occurred_at, event.metadata.correlation_id)
            # Time moves on between commands; the events of one command share its moment.
            assert previous is None or moment[0] > previous[0] or moment == previous
            previous = moment
    assert count == summary.events == store.last_position()
    kinds = {aggregate.kind for aggregate in aggregates.values()}
    assert kinds == {"team", "member", "goal", "project", "issue", "operation"}
    assert summary.created["issue"] == 200
    assert summary.issue_statuses.get("done", 0) > 0
    assert summary.busiest_members
    assert summary.busiest_teams
    assert summary.projects


def test_the_same_seed_gives_the_same_history(tmp_path: Any) -> None:
    from services.infrastructure.sqlite import SQLiteBackend

    logs = []
    for run in ("a", "b"):
        backend = SQLiteBackend(str(tmp_path / f"{run}.sqlite3"))
        try:
            store = EventStore(backend, make_codec())
            load_organisation(store, issues=80, members=30, projects=3, weeks=4, seed=11)
            logs.append(
                [
                    (e.position, e.stream_id, e.version, e.type, e.data, e.metadata)
                    for page in iter_pages(store, 0, 1000)
                    for e in page
                ]
            )
        finally:
            backend.close()
    assert logs[0] == logs[1]
