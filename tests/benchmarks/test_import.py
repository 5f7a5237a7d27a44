"""Importing history: its rate beside the live command rate and a bulk ``COPY``, the demo loaded
with its views, and an import into the benchmark organisation's log with the time until every
view has been derived again.

- **Import rate**, on SQLite and PostgreSQL: the demo organisation's lines through the importer
  (decided by the same actions and deciders as live commands, in atomic batches), in lines and
  events per second. Beside it, in the same run: the same lines' first stretch run as live
  commands one after another (each its own commit through the group committer, as a client
  that waits for each answer sends them) and, on PostgreSQL, a binary ``COPY`` of the imported
  events' rows into a table of the log's shape (what writing the rows alone costs).
- **The demo at the default scale**, views included: the import, then each view built from the
  log (as a worker that starts on an empty view builds it), on SQLite (what ``make run`` uses)
  and PostgreSQL. The target is under two minutes.
- **Import into a live log**: the benchmark organisation (about a million events recorded live)
  gets a season of imported history whose times lie among its own; every view then has to be
  derived again in occurred order. The time until each has caught up is its cost.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from services.app import Runtime, build_runtime
from services.command.handler import CommandContext
from services.importing.demo import DemoPlan, generate
from services.importing.lines import ImportLine
from services.infrastructure.ids import new_id
from services.infrastructure.postgres import PostgresBackend
from services.infrastructure.settings import Settings
from services.infrastructure.sqlite import SQLiteBackend
from services.infrastructure.store import Backend
from services.projections.runner import ProjectionWorker, read_state
from services.projections.views import all_projections
from tests.benchmarks.conftest import SCALE, Organisation
from tests.conftest import create_database, drop_database

# The stretch of the demo's lines also run as live commands (one commit each): enough to settle
# a rate, few enough to be quick.
LIVE_LINES = 3_000


def _demo_lines(scale: float, end: datetime) -> list[ImportLine]:
    return list(generate(seed=7, scale=scale, end=end))


def _runtime(backend: Backend, tmp_path: Path) -> Runtime:
    runtime = build_runtime(Settings(data_dir=tmp_path), backend=backend, run_workers=False)
    runtime.start()
    return runtime


def _live_rate(runtime: Runtime, lines: list[ImportLine]) -> float:
    """Lines per second run as live commands, each committed before the next is sent."""
    catalog = runtime.importer.catalog
    started = time.perf_counter()
    for number, made in enumerate(lines, start=1):
        command = catalog.parse(number, dict(made), runtime.clock())
        actor = made["actor_id"] or "system"
        context = CommandContext(actor, "bench", runtime.clock(), new_id(), new_id())
        if command.action is None:
            runtime.scheduler.tick(context, command.tick_until)
        else:
            runtime.handler.execute(context, command.action)
    return len(lines) / (time.perf_counter() - started)


def _build_views(runtime: Runtime) -> dict[str, float]:
    """Each view built from the log as a worker starting on it builds it; seconds each."""
    seconds: dict[str, float] = {}
    for projection in all_projections():
        worker = ProjectionWorker(runtime.store, runtime.backend, projection, warm_up_behind=1)
        worker.import_quiet_seconds = 0
        started = time.perf_counter()
        worker.catch_up()
        seconds[projection.name] = time.perf_counter() - started
    return seconds


def _copy_rate(url: str) -> float:
    """Events per second a binary ``COPY`` of the log's rows into a fresh table takes."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copied_events")
        conn.execute("CREATE TABLE bench_copied_events (LIKE workledger_events)")
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state, notification_id "
            "FROM workledger_events"
        ).fetchall()
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY bench_copied_events (originator_id, originator_version, topic, state, "
                "notification_id) "
                "FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["uuid", "int8", "text", "bytea", "int8"])
            for row in rows:
                copy.write_row(row)
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_copied_events")
    return len(rows) / seconds


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_store(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server_url: str
) -> Iterator[tuple[Backend, str | None]]:
    if request.param == "sqlite":
        backend: Backend = SQLiteBackend(str(tmp_path / "import.sqlite3"))
        yield backend, None
        backend.close()
        return
    url = create_database(postgres_server_url, "workledger_bench_import")
    served = PostgresBackend.from_url(url, pool_size=4, max_overflow=4)
    yield served, url
    served.close()
    drop_database(postgres_server_url, url)


@pytest.mark.benchmark
def test_import_rate_and_the_demo_loaded_with_its_views(
    empty_store: tuple[Backend, str | None], tmp_path: Path, postgres_server_url: str
) -> None:
    server_url = postgres_server_url
    backend, url = empty_store
    end = datetime.now(UTC).replace(microsecond=0)
    lines = _demo_lines(SCALE, end)
    runtime = _runtime(backend, tmp_path)
    try:
        started = time.perf_counter()
        report = runtime.importer.run("demo", lines)
        imported = time.perf_counter() - started
        assert report.error is None, report.error
        assert report.lines_done == len(lines)
        built = _build_views(runtime)
        for projection in all_projections():
            state = read_state(backend, projection.name)
            assert state is not None
            assert state.position == runtime.store.last_position()
    finally:
        runtime.stop()
    total = imported + sum(built.values())
    print()
    plan = DemoPlan.for_scale(SCALE)
    print(
        f"the demo organisation at scale {SCALE:g} on {backend.name}: {plan.teams} teams, "
        f"{plan.members} members, {plan.projects} projects, {plan.issues:,} issues"
    )
    print(
        f"  import   {len(lines):>9,} lines {report.events:>9,} events in {imported:6.1f} s: "
        f"{len(lines) / imported:>7,.0f} lines/s {report.events / imported:>7,.0f} events/s"
    )
    for name, seconds in built.items():
        print(f"  view     {name:<10} built in {seconds:6.1f} s")
    print(f"  demo loaded, views included, in {total:.1f} s (target: under 120 s at scale 1)")
    # The baselines, in the same run, on a fresh store of the same kind.
    baseline_store = _fresh_like(backend, tmp_path, server_url)
    live_runtime = _runtime(baseline_store, tmp_path / "live")
    try:
        live = _live_rate(live_runtime, lines[:LIVE_LINES])
    finally:
        live_runtime.stop()
        baseline_store.close()
    print(
        f"  live commands, one after another: {live:>7,.0f} lines/s (import is "
        f"{len(lines) / imported / live:.1f}x)"
    )
    if url is not None:
        copy = _copy_rate(url)
        print(
            f"  bulk COPY of the same events' rows: {copy:>9,.0f} events/s (import is "
            f"{report.events / imported / copy:.0%} of it)"
        )


def _fresh_like(backend: Backend, tmp_path: Path, server_url: str) -> Backend:
    if isinstance(backend, PostgresBackend):
        url = create_database(server_url, "workledger_bench_live")
        return PostgresBackend.from_url(url, pool_size=4, max_overflow=4)
    (tmp_path / "live").mkdir(exist_ok=True)
    return SQLiteBackend(str(tmp_path / "live" / "live.sqlite3"))


@pytest.mark.benchmark
def test_history_imported_into_a_live_log_and_every_view_derived_again(
    organisation: Organisation, tmp_path: Path, postgres_server_url: str
) -> None:
    url = create_database(postgres_server_url, "workledger_bench_mixed")
    source = str(conninfo_to_dict(organisation.url)["dbname"])
    target = str(conninfo_to_dict(url)["dbname"])
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        # A copy of the organisation's log, so other benchmarks keep theirs as it was. A
        # database is copied only while no one is connected to it; pools reconnect.
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (source,),
        )
        conn.execute(f'DROP DATABASE "{target}"')
        conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    backend = PostgresBackend.from_url(url, pool_size=4, max_overflow=4)
    runtime = _runtime(backend, tmp_path)
    try:
        built = _build_views(runtime)
        live_events = runtime.store.last_position()
        # A season of history whose times lie among the organisation's own (it ends where the
        # organisation's history does).
        end = _last_occurred(runtime)
        lines = _demo_lines(0.05, end)
        started = time.perf_counter()
        report = runtime.importer.run("season", lines)
        imported = time.perf_counter() - started
        assert report.error is None, report.error
        rederived: dict[str, float] = {}
        for projection in all_projections():
            worker = ProjectionWorker(runtime.store, backend, projection)
            worker.import_quiet_seconds = 0
            begun = time.perf_counter()
            worker.catch_up()
            rederived[projection.name] = time.perf_counter() - begun
            state = read_state(backend, projection.name)
            assert state is not None
            assert state.position == runtime.store.last_position()
            assert worker.derivations == (1 if projection.occurred_order else 0)
    finally:
        runtime.stop()
        backend.close()
        drop_database(postgres_server_url, url)
    print()
    print(
        f"{len(lines):,} lines of history ({report.events:,} events) imported into a log of "
        f"{live_events:,} live events on PostgreSQL in {imported:.1f} s"
    )
    for name, seconds in rederived.items():
        print(
            f"  view {name:<10} caught up in {seconds:6.1f} s (built from scratch before: "
            f"{built[name]:.1f} s)"
        )
    print(f"  every view caught up {sum(rederived.values()):.1f} s after the import")


def _last_occurred(runtime: Runtime) -> datetime:
    last = runtime.store.read(runtime.store.last_position() - 1, 1)
    moment: datetime = last[0].metadata.occurred_at if last else datetime.now(UTC)
    return min(moment, datetime.now(UTC)) - timedelta(seconds=1)
