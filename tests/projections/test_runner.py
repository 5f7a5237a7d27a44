"""The projection runner: exactly-once pages, crash recovery, prompt wake-ups, rebuilds."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import team
from services.app import make_codec
from services.infrastructure.codec import EventMetadata, RecordedEvent
from services.infrastructure.store import Backend, EventStore, NewEvent, PendingCommit, StreamAppend
from services.projections.page_writer import PageWriter, RowCache
from services.projections.readmodel import Column, Snapshot, Table
from services.projections.runner import (
    PositionLost,
    ProjectionWorker,
    RebuildProgress,
    ensure_projection,
    event_time,
    read_state,
    rebuild,
)
from services.projections.views import all_projections
from tests.conftest import create_database, drop_database, wait_until

STREAMS = Table(
    "rt_stream",
    key=("stream_id",),
    columns=(Column("stream_id"), Column("events", "int"), Column("last_type")),
)
SEEN = Table(
    "rt_seen",
    key=("position",),
    columns=(Column("position", "int"), Column("stream_id")),
    versioned=False,
)


class CountingProjection:
    """Counts events per stream and records every position it applies."""

    name = "runner_test"
    schema_version = 1
    tables: tuple[Table, ...] = (STREAMS, SEEN)
    occurred_order = False

    def __init__(self, event_types: frozenset[str] | None = None) -> None:
        self.fail_at: int | None = None
        self.event_types = event_types

    def apply(self, writer: PageWriter, event: RecordedEvent) -> None:
        if self.fail_at is not None and event.position == self.fail_at:
            raise RuntimeError(f"injected failure at {event.position}")
        key = (str(event.stream_id),)
        current = writer.get("rt_stream", key)
        count = current["events"] + 1 if current else 1
        writer.put(
            "rt_stream",
            {"stream_id": key[0], "events": count, "last_type": event.type},
            event_time(event),
            event.position,
        )
        writer.append("rt_seen", {"position": event.position, "stream_id": key[0]})


def _metadata(moment: datetime) -> EventMetadata:
    correlation = uuid4()
    return EventMetadata(uuid4(), "system", moment, correlation, correlation)


def _write(store: EventStore, streams: list[UUID], versions: dict[UUID, int]) -> None:
    """One batch: one event on each of ``streams``."""
    moment = datetime.now(UTC)
    pending = []
    for stream in streams:
        version = versions.get(stream, 0)
        event: Any = (
            team.TeamCreated(stream, "t", None) if version == 0 else team.TeamRenamed(f"t{version}")
        )
        pending.append(
            PendingCommit([StreamAppend(stream, version, (NewEvent(event, _metadata(moment)),))])
        )
        versions[stream] = version + 1
    store.commit(pending)


def _dump(backend: Backend, generation: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    streams = backend.fetchall(
        f"SELECT stream_id, events, last_type, valid_from, valid_to, position "
        f"FROM {STREAMS.physical(generation)} ORDER BY stream_id, position"
    )
    seen = backend.fetchall(
        f"SELECT position, stream_id FROM {SEEN.physical(generation)} ORDER BY position"
    )
    return streams, seen


@pytest.fixture
def store(backend: Backend) -> EventStore:
    return EventStore(backend, make_codec())


def _generation(backend: Backend) -> int:
    state = read_state(backend, CountingProjection.name)
    assert state is not None
    return state.generation


def test_a_worker_applies_every_event_once_in_log_order(
    store: EventStore, backend: Backend
) -> None:
    versions: dict[UUID, int] = {}
    streams = [uuid4() for _ in range(5)]
    for _ in range(7):
        _write(store, streams, versions)
    worker = ProjectionWorker(store, backend, CountingProjection(), page_size=4)
    assert worker.catch_up() == 35
    assert worker.position() == store.last_position()
    counts, seen = _dump(backend, _generation(backend))
    assert [row[0] for row in seen] == sorted({row[0] for row in seen})
    assert len(seen) == 35
    current = [row for row in counts if row[4] is None]
    assert sorted(row[1] for row in current) == [7] * 5


def test_a_failing_event_stops_the_worker_at_its_last_committed_page(
    store: EventStore, backend: Backend
) -> None:
    versions: dict[UUID, int] = {}
    stream = uuid4()
    for _ in range(10):
        _write(store, [stream], versions)
    projection = CountingProjection()
    projection.fail_at = 6
    worker = ProjectionWorker(store, backend, projection, page_size=3)
    with pytest.raises(RuntimeError, match="injected"):
        worker.catch_up()
    assert worker.position() == 3, "the page holding the failure was rolled back whole"
    _, seen = _dump(backend, _generation(backend))
    assert [row[0] for row in seen] == [1, 2, 3]
    projection.fail_at = None
    worker.catch_up()
    _, seen = _dump(backend, _generation(backend))
    assert [row[0] for row in seen] == list(range(1, 11))


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    batches=st.lists(st.integers(1, 4), min_size=1, max_size=8),
    page_size=st.integers(1, 5),
    crash_after=st.integers(0, 40),
)
def test_a_worker_killed_after_any_page_and_restarted_ends_equal_to_one_that_never_stopped(
    backend: Backend, batches: list[int], page_size: int, crash_after: int
) -> None:
    from services.infrastructure.postgres import PostgresBackend
    from tests.conftest import empty_postgres

    if isinstance(backend, PostgresBackend):
        empty_postgres(backend.url)
    else:
        with backend.transaction() as cursor:
            cursor.execute("DELETE FROM workledger_events")
            cursor.execute("DELETE FROM workledger_event_times")
            cursor.execute("DROP TABLE IF EXISTS workledger_projections")
    store = EventStore(backend, make_codec())
    with backend.transaction() as cursor:
        for generation in range(1, 5):
            cursor.execute(STREAMS.drop_statement(generation))
            cursor.execute(SEEN.drop_statement(generation))
    versions: dict[UUID, int] = {}
    streams = [uuid4() for _ in range(3)]
    for size in batches:
        _write(store, streams[:size], versions)
    interrupted = ProjectionWorker(store, backend, CountingProjection(), page_size=page_size)
    for _ in range(crash_after):
        if interrupted.step() == 0:
            break
    # A new worker object is a restarted process: nothing survives but what was committed.
    restarted = ProjectionWorker(store, backend, CountingProjection(), page_size=page_size)
    restarted.catch_up()
    after_crash = _dump(backend, _generation(backend))
    rebuild(store, backend, CountingProjection(), page_size=1000)
    assert _dump(backend, _generation(backend)) == after_crash


def test_a_rebuild_switches_generations_and_the_live_worker_follows(
    store: EventStore, backend: Backend
) -> None:
    versions: dict[UUID, int] = {}
    stream = uuid4()
    for _ in range(5):
        _write(store, [stream], versions)
    live = ProjectionWorker(store, backend, CountingProjection())
    live.catch_up()
    before = _generation(backend)
    result = rebuild(store, backend, CountingProjection())
    assert result.applied == 5
    assert _generation(backend) == before + 1
    _write(store, [stream], versions)
    live.catch_up()
    live.catch_up()
    counts, seen = _dump(backend, before + 1)
    assert len(seen) == 6
    assert [row[1] for row in counts if row[4] is None] == [6]


def test_two_workers_taking_turns_apply_every_event_once_though_each_reads_ahead(
    store: EventStore, backend: Backend
) -> None:
    versions: dict[UUID, int] = {}
    streams = [uuid4() for _ in range(3)]
    for _ in range(6):
        _write(store, streams, versions)
    last = store.last_position()
    # Pages of 2 keep both behind the log, so each reads its next page ahead, and the page one
    # read ahead is often no longer the next when the other has moved the position on.
    first = ProjectionWorker(store, backend, CountingProjection(), page_size=2)
    second = ProjectionWorker(store, backend, CountingProjection(), page_size=2)
    for _ in range(40):
        first.step()
        second.step()
        state = read_state(backend, CountingProjection.name)
        assert state is not None
        if state.position == last:
            break
    first.stop()
    second.stop()

    counts, seen = _dump(backend, _generation(backend))
    assert [row[0] for row in seen] == list(range(last - 17, last + 1))
    assert sorted(row[1] for row in counts if row[4] is None) == [6, 6, 6]


@pytest.mark.parametrize(
    ("capacity", "complete_at_the_log_and_after_a_restart"),
    [(4, True), (3, False)],  # the view has 4 rows: they fit a cache of 4, not one of 3
)
def test_a_worker_holds_every_row_of_its_view_while_they_fit_its_cache_across_restarts(
    store: EventStore,
    backend: Backend,
    capacity: int,
    complete_at_the_log_and_after_a_restart: bool,
) -> None:
    versions: dict[UUID, int] = {}
    streams = [uuid4() for _ in range(4)]
    for _ in range(3):
        _write(store, streams, versions)

    def worker() -> ProjectionWorker:
        return ProjectionWorker(
            store, backend, CountingProjection(), page_size=5, cache_capacity=capacity
        )

    first = worker()
    first.step()
    while_behind = first.holds_every_row
    first.catch_up()
    at_the_log = first.holds_every_row
    restarted = worker()
    restarted.prepare()
    after_restart = restarted.holds_every_row
    _write(store, streams, versions)
    restarted.catch_up()

    assert while_behind
    assert at_the_log == complete_at_the_log_and_after_a_restart
    assert after_restart == complete_at_the_log_and_after_a_restart
    counts, _ = _dump(backend, _generation(backend))
    assert sorted(row[1] for row in counts if row[4] is None) == [4, 4, 4, 4]
    live, _ = _dump(backend, _generation(backend))
    rebuild(store, backend, CountingProjection())
    assert _dump(backend, _generation(backend))[0] == live


def test_a_worker_restarted_far_behind_reads_every_current_row_first_then_catches_up(
    store: EventStore, backend: Backend
) -> None:
    versions: dict[UUID, int] = {}
    streams = [uuid4() for _ in range(4)]
    _write(store, streams, versions)
    ProjectionWorker(store, backend, CountingProjection()).catch_up()
    for _ in range(3):
        _write(store, streams, versions)

    # Its 4 rows don't fit a cache of 3: only a worker far enough behind reads them all first.
    near = ProjectionWorker(
        store, backend, CountingProjection(), page_size=5, warm_up_behind=13, cache_capacity=3
    )
    near.prepare()
    far = ProjectionWorker(
        store, backend, CountingProjection(), page_size=5, warm_up_behind=12, cache_capacity=3
    )
    far.step()
    while_behind = far.holds_every_row
    far.catch_up()

    assert not near.holds_every_row
    assert while_behind
    assert not far.holds_every_row
    counts, _ = _dump(backend, _generation(backend))
    assert sorted(row[1] for row in counts if row[4] is None) == [4, 4, 4, 4]
    live, _ = _dump(backend, _generation(backend))
    rebuild(store, backend, CountingProjection())
    assert _dump(backend, _generation(backend))[0] == live


def test_a_limited_row_cache_keeps_the_rows_it_took_in_last() -> None:
    cache = RowCache(capacity=None)
    for number in range(5):
        cache.put("t", (number,), {"n": number})
    cache.put("u", ("only",), None)
    cache.limit(5)
    unforgetful = cache.complete

    cache.limit(2)

    assert not cache.complete
    assert [cache.get("t", (number,)) for number in range(5)] == [
        (False, None),
        (False, None),
        (False, None),
        (True, {"n": 3}),
        (True, {"n": 4}),
    ]
    assert cache.get("u", ("only",)) == (True, None)
    assert unforgetful


def test_a_row_cache_that_forgets_a_row_is_no_longer_complete() -> None:
    cache = RowCache(capacity=None)
    cache.put("t", (1,), {"n": 1})
    cache.limit(2)
    cache.put("t", (2,), {"n": 2})
    holding_both = cache.complete

    cache.put("t", (3,), {"n": 3})

    assert holding_both
    assert not cache.complete
    assert cache.get("t", (1,)) == (False, None)


class CountingProjectionV2(CountingProjection):
    """The same view with a new schema version, as a deployment of changed view code has."""

    schema_version = 2


def test_a_new_schema_version_starts_on_empty_tables_even_after_a_rebuild_that_crashed(
    store: EventStore, backend: Backend
) -> None:
    versions: dict[UUID, int] = {}
    stream = uuid4()
    for _ in range(3):
        _write(store, [stream], versions)
    ProjectionWorker(store, backend, CountingProjection()).catch_up()
    current = _generation(backend)
    # A rebuild that died after filling part of the next generation and before its switch.
    crashing = CountingProjection()
    crashing.fail_at = store.last_position()
    with pytest.raises(RuntimeError, match="injected failure"):
        rebuild(store, backend, crashing, page_size=1)
    assert _generation(backend) == current

    upgraded = ProjectionWorker(store, backend, CountingProjectionV2())
    upgraded.catch_up()

    assert _generation(backend) == current + 1
    counts, seen = _dump(backend, current + 1)
    assert [row[0] for row in seen] == sorted({row[0] for row in seen})
    assert len(seen) == 3
    assert [row[1] for row in counts if row[4] is None] == [3]


def test_a_rebuilt_generation_on_postgres_is_visible_to_all_and_analysed(
    postgres_backend: Backend,
) -> None:
    backend = postgres_backend
    store = EventStore(backend, make_codec())
    versions: dict[UUID, int] = {}
    streams = [uuid4() for _ in range(50)]
    for _ in range(40):
        _write(store, streams, versions)
    rebuild(store, backend, CountingProjection(), page_size=500)
    generation = _generation(backend)
    for table in CountingProjection.tables:
        ((pages, all_visible, tuples),) = backend.fetchall(
            "SELECT relpages, relallvisible, reltuples FROM pg_class WHERE relname = %s",
            (table.physical(generation),),
        )
        # Index-only scans need no visit to the table's pages, and plans know its size.
        assert pages > 0
        assert all_visible == pages
        assert tuples > 0


def test_a_rebuild_whose_view_changed_generation_meanwhile_is_not_switched_in(
    store: EventStore, backend: Backend
) -> None:
    versions: dict[UUID, int] = {}
    for _ in range(6):
        _write(store, [uuid4()], versions)
    ProjectionWorker(store, backend, CountingProjection()).catch_up()
    moved: list[int] = []

    def move_the_view(_: RebuildProgress) -> None:
        # As a deployment of a new schema version would, between two of the rebuild's pages.
        if not moved:
            moved.append(_generation(backend) + 10)
            backend.execute(
                "UPDATE workledger_projections SET generation = %s WHERE name = %s",
                (moved[0], CountingProjection.name),
            )

    with pytest.raises(PositionLost, match="was not switched in"):
        rebuild(store, backend, CountingProjection(), page_size=2, progress=move_the_view)
    assert _generation(backend) == moved[0]


def test_a_view_of_some_event_types_reads_only_those_and_still_reaches_the_head(
    store: EventStore, backend: Backend
) -> None:
    versions: dict[UUID, int] = {}
    streams = [uuid4(), uuid4()]
    for _ in range(4):
        _write(store, streams, versions)
    head = store.last_position()
    renamed_only = CountingProjection(frozenset({"TeamRenamed"}))
    worker = ProjectionWorker(store, backend, renamed_only, page_size=2)
    worker.catch_up()
    assert worker.position() == head
    _, seen = _dump(backend, _generation(backend))
    renamed = [e.position for e in store.read(0, 100) if e.type == "TeamRenamed"]
    assert [row[0] for row in seen] == renamed
    assert len(renamed) == 6

    # Only created events come next: the worker has nothing to apply, yet moves to the head.
    _write(store, [uuid4()], versions)
    assert worker.step() == 1
    assert worker.position() == store.last_position()
    assert worker.step() == 0

    result = rebuild(store, backend, CountingProjection(frozenset({"TeamRenamed"})), page_size=4)
    assert (result.applied, result.position) == (6, store.last_position())
    assert _dump(backend, _generation(backend))[1] == seen


def test_as_of_sees_the_version_valid_at_that_moment(store: EventStore, backend: Backend) -> None:
    versions: dict[UUID, int] = {}
    stream = uuid4()
    _write(store, [stream], versions)
    middle = datetime.now(UTC)
    time.sleep(0.002)
    _write(store, [stream], versions)
    ProjectionWorker(store, backend, CountingProjection()).catch_up()
    generation = _generation(backend)
    from services.projections.readmodel import micros

    for moment, expected in ((None, 2), (micros(middle), 1)):
        snapshot = Snapshot(generation, moment)
        condition, params = snapshot.visible()
        rows = backend.fetchall(
            f"SELECT events FROM {snapshot.name(STREAMS)} WHERE {condition}", params
        )
        assert rows == [(expected,)]


@pytest.fixture
def postgres_store(postgres_backend: Backend) -> EventStore:
    return EventStore(postgres_backend, make_codec())


def test_writers_that_overlap_commit_in_position_order_and_the_worker_applies_both(
    postgres_store: EventStore, postgres_backend: Backend
) -> None:
    codec = make_codec()
    first_inserted = threading.Event()
    release_first = threading.Event()
    positions: dict[str, list[int]] = {}

    def write(name: str, hold: bool) -> None:
        stream = uuid4()
        state = codec.encode(
            team.TeamCreated(stream, name, None), _metadata(datetime.now(UTC)), datetime.now(UTC)
        )
        with postgres_backend.write_transaction() as tx:
            positions[name] = tx.insert_events([(stream, 1, "TeamCreated", state)])
            if hold:
                first_inserted.set()
                release_first.wait(5)

    first = threading.Thread(target=write, args=("first", True))
    first.start()
    assert first_inserted.wait(5)
    second = threading.Thread(target=write, args=("second", False))
    second.start()
    worker = ProjectionWorker(postgres_store, postgres_backend, CountingProjection())
    assert worker.catch_up() == 0, "nothing is visible before the first writer commits"
    time.sleep(0.2)
    assert second.is_alive(), "the second writer waits for the log's lock"
    release_first.set()
    first.join(5)
    second.join(5)
    assert positions["first"][0] < positions["second"][0]
    assert worker.catch_up() == 2
    _, seen = _dump(postgres_backend, _generation(postgres_backend))
    assert [row[0] for row in seen] == [positions["first"][0], positions["second"][0]]


def test_a_killed_listen_connection_delays_the_worker_but_never_stops_it(
    postgres_store: EventStore,
    postgres_backend: Backend,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = ProjectionWorker(postgres_store, postgres_backend, CountingProjection())
    worker.start()
    try:
        versions: dict[UUID, int] = {}
        stream = uuid4()
        _write(postgres_store, [stream], versions)
        wait_until(lambda: worker.position() == postgres_store.last_position(), timeout=5)
        killed: list[tuple[bool]] = []
        with psycopg.connect(postgres_url, autocommit=True) as admin:

            def kill_listener() -> bool:
                # The worker listens once it runs out of events, a moment after catching up.
                killed.extend(
                    admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE query LIKE 'LISTEN%%' AND datname = current_database()"
                    ).fetchall()
                )
                return bool(killed)

            wait_until(kill_listener, timeout=5)
        assert killed, "the worker had a LISTEN connection to kill"
        # As if written by another process: no in-process wake-up, only LISTEN or polling.
        monkeypatch.setattr(postgres_backend, "notify_committed", lambda: None)
        for _ in range(3):
            _write(postgres_store, [stream], versions)
        started = time.monotonic()
        wait_until(lambda: worker.position() == postgres_store.last_position(), timeout=5)
        assert time.monotonic() - started < 2.5
    finally:
        worker.stop()


def test_processes_starting_together_on_a_new_database_set_every_view_up_once(
    postgres_server_url: str,
) -> None:
    from services.infrastructure.postgres import PostgresBackend

    url = create_database(postgres_server_url, "workledger_setup")
    starting = 4
    backends = [PostgresBackend.from_url(url, pool_size=1, max_overflow=1) for _ in range(starting)]
    together = threading.Barrier(starting)

    def start(backend: Backend) -> list[tuple[str, int, int, int]]:
        together.wait(timeout=30)
        states = [ensure_projection(backend, projection) for projection in all_projections()]
        return [(s.name, s.position, s.generation, s.schema_version) for s in states]

    try:
        with ThreadPoolExecutor(starting) as pool:
            seen = list(pool.map(start, backends))
        stored = [read_state(backends[0], projection.name) for projection in all_projections()]
    finally:
        for backend in backends:
            backend.close()
        drop_database(postgres_server_url, url)

    assert all(states == seen[0] for states in seen)
    assert [(s.name, s.position, s.generation) for s in stored if s] == [
        (projection.name, 0, 1) for projection in all_projections()
    ]
