"""`workledger migrate` prepares a database once, so that the processes of a deployment start
on it without racing to; `workledger scheduler` runs the operation scheduler alone."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import httpx
import psycopg
import pytest

from contracts import commands as body
from domain.operation import OccurrenceScheduled
from services.app import build_runtime, make_codec
from services.command.actions import members, operations, teams
from services.command.handler import Action, CommandContext
from services.infrastructure.ids import new_id
from services.infrastructure.settings import Settings
from services.infrastructure.sqlite import SQLiteBackend
from services.infrastructure.store import EventStore
from services.projections.views import all_projections
from tests.conftest import create_database, drop_database, wait_until
from tests.integration.test_cli_backup import REPO, settings_env, workledger
from tests.stream.conftest import free_port


@pytest.fixture
def postgres_database(postgres_server_url: str) -> Iterator[str]:
    url = create_database(postgres_server_url, "workledger_migrate")
    yield url
    drop_database(postgres_server_url, url)


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in rows.fetchall()}


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False


def test_migrate_prepares_every_table_twice_over_and_the_api_starts_on_it(
    postgres_database: str, tmp_path: Path
) -> None:
    env = settings_env(tmp_path, postgres_database)

    first = workledger(env, "migrate")
    prepared = _tables(postgres_database)
    second = workledger(env, "migrate")

    assert first.returncode == 0, first.stderr.decode()
    assert second.returncode == 0, second.stderr.decode()
    assert first.stdout == second.stdout
    said = first.stdout.decode()
    assert "PostgreSQL is ready: the log (0 events)" in said
    assert _tables(postgres_database) == prepared
    assert {
        "workledger_events",
        "workledger_claims",
        "workledger_idempotency",
        "workledger_event_times",
        "workledger_imports",
        "workledger_tokens",
        "workledger_relay_positions",
        "workledger_view_health",
        "workledger_projections",
    } <= prepared
    for projection in all_projections():
        assert f"{projection.name} (schema {projection.schema_version}, at position 0)" in said
        assert {f"{table.name}_g1" for table in projection.tables} <= prepared

    port = free_port()
    api = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "api", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/readyz"), 30, "the API is ready")
    finally:
        api.terminate()
        api.wait(20)
    assert _tables(postgres_database) == prepared


def test_migrate_prepares_the_embedded_sqlite_store(tmp_path: Path) -> None:
    done = workledger(settings_env(tmp_path / "data"), "migrate")

    assert done.returncode == 0, done.stderr.decode()
    assert f"SQLite at {tmp_path / 'data' / 'workledger.sqlite3'} is ready" in done.stdout.decode()


def _an_operation_due_every_day(data_dir: Path) -> UUID:
    """A team, its owner, and an operation due every day from today: nothing scheduled yet."""
    runtime = build_runtime(Settings(data_dir=data_dir), run_workers=False, views=())
    runtime.start()

    def run(action: Action) -> UUID:
        context = CommandContext(
            actor="system",
            principal="system:test",
            now=runtime.clock(),
            correlation_id=new_id(),
            causation_id=new_id(),
        )
        return UUID(runtime.handler.execute(context, action).body["id"])

    try:
        team = run(teams.create_team(body.CreateTeam(name="Ops")))
        owner = run(
            members.create_member(
                body.CreateMember(
                    name="Olu", email="olu@example.com", role="member", weekly_capacity=0
                )
            )
        )
        cadence = body.Cadence(every="day")
        today = datetime.now(UTC).date()
        return run(
            operations.create_operation(
                body.CreateOperation(
                    title="Check the backups",
                    team_id=team,
                    owner_id=owner,
                    cadence=cadence,
                    start_date=today,
                )
            )
        )
    finally:
        runtime.close()


def _scheduled(data_dir: Path) -> list[tuple[str, str]]:
    backend = SQLiteBackend(str(data_dir / "workledger.sqlite3"))
    try:
        events = EventStore(backend, make_codec()).read(0, 10_000)
        return [
            (event.metadata.actor, event.stream_id_text)
            for event in events
            if isinstance(event.data, OccurrenceScheduled)
        ]
    finally:
        backend.close()


def test_the_scheduler_alone_schedules_occurrences_and_stops_on_sigterm(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    operation = _an_operation_due_every_day(data_dir)
    assert _scheduled(data_dir) == []
    metrics_port = free_port()
    env = settings_env(data_dir) | {
        "WORKLEDGER_SCHEDULER_INTERVAL_SECONDS": "0.2",
        "WORKLEDGER_SCHEDULER_HORIZON_DAYS": "3",
        "WORKLEDGER_METRICS_PORT": str(metrics_port),
    }
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "scheduler"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert scheduler.stdout is not None
        started = scheduler.stdout.readline().decode()
        wait_until(lambda: len(_scheduled(data_dir)) >= 3, 30, "the scheduler has ticked")
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
    finally:
        scheduler.send_signal(signal.SIGTERM)
        code = scheduler.wait(20)

    assert code == 0
    assert "scheduler running on SQLite" in started
    assert "ticking every 0.2 s, 3 days ahead" in started
    assert set(_scheduled(data_dir)) == {("system:scheduler", str(operation))}
    assert "workledger_scheduler_ticks_total" in scraped
