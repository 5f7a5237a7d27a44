"""Backups of the log: an export restored into an empty store of either backend is the same log,
event by event (positions, ids, times, data, imported times), its views rebuilt equal the
original's and the history's hash chain verifies to the same last hash; an increment restored
onto its base equals the whole; a store the backup does not continue is refused; a damaged file
writes nothing."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest

from contracts import commands as body
from contracts.views.history import ChainIntact
from services.app import Runtime, build_runtime, make_codec
from services.command.actions import issues, members, teams
from services.command.handler import CommandContext
from services.importing.demo import generate
from services.infrastructure.backend import LogRecord
from services.infrastructure.backup import (
    BadBackup,
    RestoreRefused,
    check_backup,
    export_log,
    restore_log,
)
from services.infrastructure.ids import new_id
from services.infrastructure.settings import Settings
from services.infrastructure.sqlite import SQLiteBackend
from services.infrastructure.store import MAX_POSITION, Backend, EventStore
from services.projections.runner import read_state, rebuild
from services.projections.views import all_projections
from services.projections.views.history.chain import verify_chain
from services.projections.views.history.tables import ENTRIES
from tests.conftest import create_database, drop_database

DEMO_END = datetime(2026, 6, 1, 9, tzinfo=UTC)
NewBackend = Callable[[str], Backend]


@pytest.fixture
def new_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewBackend]:
    """Makes empty stores of a kind (``sqlite`` or ``postgresql``), each in a database of its
    own, closed (and dropped) at the end."""
    made: list[tuple[Backend, str | None]] = []

    def make(kind: str) -> Backend:
        if kind == "sqlite":
            backend: Backend = SQLiteBackend(str(tmp_path / f"restored-{len(made)}.sqlite3"))
            made.append((backend, None))
            return backend
        from services.infrastructure.postgres import PostgresBackend

        server: str = request.getfixturevalue("postgres_server_url")
        url = create_database(server, "workledger_restored")
        backend = PostgresBackend.from_url(url, pool_size=2, max_overflow=4)
        made.append((backend, url))
        return backend

    yield make
    for backend, url in made:
        backend.close()
        if url is not None:
            drop_database(request.getfixturevalue("postgres_server_url"), url)


def store_of(backend: Backend) -> EventStore:
    return EventStore(backend, make_codec())


@pytest.fixture
def populated(backend: Backend, tmp_path: Path) -> Iterator[Runtime]:
    """A store holding a small demo organisation, imported with its original times, then work
    recorded live and a scheduler tick."""
    runtime = build_runtime(Settings(data_dir=tmp_path), backend=backend, run_workers=False)
    runtime.start()
    report = runtime.importer.run("demo:backup", generate(seed=3, scale=0.01, end=DEMO_END))
    assert report.error is None, report.error
    record_live_work(runtime, "Platform")
    yield runtime
    runtime.stop()


def record_live_work(runtime: Runtime, name: str) -> None:
    """A team, a member of it with a unique email, and an issue of theirs taken up, recorded
    live (stamped at their commit), and the operations scheduled ahead."""

    def run(action: Any) -> UUID:
        context = CommandContext(
            actor="system",
            principal="system:test",
            now=runtime.clock(),
            correlation_id=new_id(),
            causation_id=new_id(),
        )
        return UUID(runtime.handler.execute(context, action).body["id"])

    team = run(teams.create_team(body.CreateTeam(name=name)))
    email = f"{name.lower()}@example.com"
    member = run(
        members.create_member(
            body.CreateMember(
                name=f"{name} lead", email=email, role="member", weekly_capacity=10, team_ids=[team]
            )
        )
    )
    issue = run(
        issues.create_issue(body.CreateIssue(title=f"{name} runbook", kind="task", team_id=team))
    )
    run(issues.assign_issue(issue, body.AssignIssue(assignee_id=member)))
    run(issues.transition_issue(issue, body.TransitionIssue(status="todo")))
    runtime.scheduler.tick(runtime.scheduler.system_context(), until=DEMO_END.date())


def exported(backend: Backend, after: int = 0) -> bytes:
    sink = io.BytesIO()
    export_log(store_of(backend), sink, after=after, now=datetime.now(UTC))
    return sink.getvalue()


def restored(backend: Backend, export: bytes) -> None:
    restore_log(store_of(backend), export.splitlines(keepends=True))


def lines_of(export: bytes, kind: str) -> list[bytes]:
    return [line for line in export.splitlines() if orjson.loads(line)["kind"] == kind]


def log_of(backend: Backend) -> list[LogRecord]:
    return backend.archive().records(0, 1_000_000, MAX_POSITION)


def _plain(value: Any) -> Any:
    # SQLite keeps booleans as integers.
    return int(value) if isinstance(value, bool) else value


def views_of(backend: Backend) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Every view rebuilt from the backend's log: each table's rows, in a stable order."""
    store = store_of(backend)
    views: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    for projection in all_projections():
        rebuild(store, backend, projection)
        state = read_state(backend, projection.name)
        assert state is not None
        views[projection.name] = {
            table.name: sorted(
                (
                    tuple(map(_plain, row))
                    for row in backend.fetchall(f"SELECT * FROM {table.physical(state.generation)}")
                ),
                key=repr,
            )
            for table in projection.tables
        }
    return views


def chain_of(backend: Backend) -> ChainIntact:
    """The history's verdict on its chain, which must hold."""
    state = read_state(backend, "history")
    assert state is not None
    verdict = verify_chain(backend.fetchall, ENTRIES.physical(state.generation), state.position)
    assert isinstance(verdict, ChainIntact), verdict
    return verdict


def assert_same_log(original: Backend, copy: Backend) -> None:
    """The same log event by event, the same views rebuilt from it, the same chain."""
    assert log_of(copy) == log_of(original)
    assert views_of(copy) == views_of(original)
    assert chain_of(copy) == chain_of(original)


def test_a_log_restored_into_an_empty_store_is_the_same_log_with_the_same_views_and_chain(
    populated: Runtime, new_backend: NewBackend
) -> None:
    original = populated.backend
    export = exported(original)
    copy = new_backend(original.name)

    restored(copy, export)

    assert_same_log(original, copy)
    again = exported(copy)
    for kind in ("event", "import", "end"):
        assert lines_of(again, kind) == lines_of(export, kind), kind
    assert sorted(lines_of(again, "claim")) == sorted(lines_of(export, "claim"))
    assert len(lines_of(export, "claim")) > 20


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_log_moves_from_sqlite_to_postgresql_and_back_unchanged(
    populated: Runtime, new_backend: NewBackend, tmp_path: Path
) -> None:
    original = populated.backend
    export = exported(original)
    on_postgres = new_backend("postgresql")
    restored(on_postgres, export)
    moved = exported(on_postgres)
    back = new_backend("sqlite")

    restored(back, moved)

    assert lines_of(moved, "event") == lines_of(export, "event")
    assert orjson.loads(lines_of(moved, "end")[0]) == orjson.loads(lines_of(export, "end")[0])
    assert_same_log(original, on_postgres)
    assert_same_log(original, back)
    # A SQLite store restored from PostgreSQL takes live work at the next positions.
    runtime = build_runtime(Settings(data_dir=tmp_path), backend=back, run_workers=False)
    runtime.start()
    try:
        record_live_work(runtime, "Moved")
    finally:
        runtime.stop()
    assert log_of(back)[len(log_of(original))].position == original.max_position() + 1


def test_a_base_and_its_increment_restored_in_turn_equal_the_whole_log(
    populated: Runtime, new_backend: NewBackend
) -> None:
    original = populated.backend
    base = exported(original)
    cut = original.max_position()
    record_live_work(populated, "Growth")
    increment = exported(original, after=cut)
    copy = new_backend(original.name)

    restored(copy, base)
    restored(copy, increment)

    assert orjson.loads(increment.splitlines()[0])["base"]["position"] == cut
    assert min(orjson.loads(line)["position"] for line in lines_of(increment, "event")) > cut
    assert_same_log(original, copy)
    whole = exported(original)
    assert lines_of(exported(copy), "event") == lines_of(whole, "event")


def test_a_store_that_holds_events_is_refused_unless_the_file_continues_its_log(
    populated: Runtime, new_backend: NewBackend
) -> None:
    original = populated.backend
    whole = exported(original)
    cut = original.max_position()
    record_live_work(populated, "Growth")
    increment = exported(original, after=cut)
    copy = new_backend(original.name)

    with pytest.raises(RestoreRefused, match="the store is empty, and this file continues"):
        restored(copy, increment)
    assert copy.max_position() == 0
    restored(copy, whole)
    held = log_of(copy)
    with pytest.raises(RestoreRefused, match=f"already holds a log, up to position {cut:,}"):
        restored(copy, whole)
    later = exported(original, after=cut + 1)
    with pytest.raises(RestoreRefused, match=f"continues a log after position {cut + 1:,}"):
        restored(copy, later)

    assert log_of(copy) == held


def _damaged(export: bytes, number: int, change: Callable[[bytes], bytes]) -> bytes:
    lines = export.splitlines(keepends=True)
    lines[number - 1] = change(lines[number - 1])
    return b"".join(lines)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda line: line[:40] + b"\n", "not JSON"),
        (lambda line: line.replace(b'"version":', b'"version":-', 1), "version must be"),
        (lambda line: line.replace(b'"actor":"', b'"actor":"x', 1), "SHA-256 differs"),
        (lambda line: line.replace(b'"type":"', b'"type":"Unheard'), "can't be read"),
    ],
    ids=["cut-line", "bad-field", "changed-envelope", "unknown-type"],
)
def test_a_damaged_line_is_named_and_nothing_is_written(
    populated: Runtime,
    new_backend: NewBackend,
    damage: Callable[[bytes], bytes],
    reason: str,
) -> None:
    export = exported(populated.backend)
    number = len(export.splitlines()) // 2
    copy = new_backend(populated.backend.name)

    with pytest.raises(BadBackup, match=reason) as refused:
        restored(copy, _damaged(export, number, damage))

    # A changed envelope is found at the end line, whose digest no longer matches.
    at_end = reason == "SHA-256 differs"
    assert refused.value.line == (len(export.splitlines()) if at_end else number)
    assert copy.max_position() == 0
    assert copy.archive().claims(MAX_POSITION, ("", ""), 10) == []
    assert copy.archive().imports() == []


def test_a_file_cut_short_is_refused_and_nothing_is_written(
    populated: Runtime, new_backend: NewBackend
) -> None:
    export = exported(populated.backend)
    lines = export.splitlines(keepends=True)
    copy = new_backend(populated.backend.name)

    with pytest.raises(BadBackup, match="ends without its end line") as refused:
        restored(copy, b"".join(lines[:-1]))
    assert refused.value.line == len(lines)
    with pytest.raises(BadBackup, match="counts"):
        check_backup(lines[:2] + lines[3:], make_codec())

    assert copy.max_position() == 0
    assert check_backup(lines, make_codec()).events == populated.backend.max_position()
