"""Imported history tells the same story as if it had been recorded live, in occurred order.

A store records some work live (each command at its own moment), then imports other work whose
times lie among the live work's. Every view that mixes objects (team totals, the portfolio,
the queues, the lists) is compared, as of random moments and now, with a store that recorded the
very same commands in the order they occurred. The two logs number their events differently,
so positions are compared by the event they name: its object and version.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.app import Runtime, build_runtime
from services.command.handler import CommandContext
from services.importing.lines import ImportLine, line
from services.infrastructure.ids import new_id
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from services.projections.readmodel import Snapshot, micros
from services.projections.runner import Projection, ProjectionWorker, read_state
from services.projections.views import all_projections
from tests.conftest import FrozenClock, create_database, drop_database

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
# The workflow's way forward, and a reopening: what each issue's history walks along.
WALK = ("todo", "in_progress", "in_review", "done", "todo", "in_progress", "done")


@dataclass(frozen=True)
class Org:
    team: UUID
    members: tuple[UUID, ...]
    projects: dict[bool, UUID]


@dataclass(frozen=True)
class IssuePlan:
    imported: bool
    start_hour: int
    steps: int
    gaps: tuple[int, ...]
    assignees: tuple[int, ...]
    in_project: bool
    due_in_days: int | None


issue_plans = st.builds(
    IssuePlan,
    imported=st.booleans(),
    start_hour=st.integers(1, 400),
    steps=st.integers(0, len(WALK)),
    gaps=st.lists(st.integers(1, 60), min_size=len(WALK) + 1, max_size=len(WALK) + 1).map(tuple),
    assignees=st.lists(st.integers(0, 2), min_size=2, max_size=2).map(tuple),
    in_project=st.booleans(),
    due_in_days=st.none() | st.integers(1, 30),
)


def _organisation() -> tuple[Org, list[ImportLine]]:
    """A team, three members and a project for each origin, at the start, before any work."""
    org = Org(new_id(), tuple(new_id() for _ in range(3)), {False: new_id(), True: new_id()})
    lines = [
        line("POST /v1/teams", START, None, {"name": "Core", "weekly_capacity": 60}, id=org.team)
    ]
    for number, member in enumerate(org.members):
        body = {
            "name": f"Member {number}",
            "email": f"m{number}@example.com",
            "role": "member",
            "weekly_capacity": 20,
            "team_ids": [str(org.team)],
        }
        lines.append(line("POST /v1/members", START, None, body, id=member))
    for imported, project in org.projects.items():
        body = {
            "name": "Imported" if imported else "Live",
            "key": "IMP" if imported else "LIV",
            "owner_id": str(org.members[0]),
            "team_id": str(org.team),
            "start_date": "2026-03-01",
            "target_date": "2026-06-30",
        }
        lines.append(line("POST /v1/projects", START, org.members[0], body, id=project))
    return org, lines


def _issue_lines(org: Org, plan: IssuePlan) -> list[ImportLine]:
    issue_id = new_id()
    actor = org.members[plan.assignees[0]]
    moment = START + plan.start_hour * HOUR
    body: dict[str, Any] = {"title": "Work", "kind": "task", "team_id": str(org.team)}
    if plan.in_project:
        # An object's events never go back in time, so imported issues go in the project whose
        # history is imported too.
        body["project_id"] = str(org.projects[plan.imported])
    if plan.due_in_days is not None:
        body["due_date"] = (moment + timedelta(days=plan.due_in_days)).date().isoformat()
    made = [line("POST /v1/issues", moment, actor, body, id=issue_id)]
    moment += plan.gaps[0] * HOUR
    assignee = {"assignee_id": str(org.members[plan.assignees[1]])}
    made.append(line(f"POST /v1/issues/{issue_id}/assign", moment, actor, assignee))
    for step in range(plan.steps):
        moment += plan.gaps[step + 1] * HOUR
        status = {"status": WALK[step]}
        made.append(line(f"POST /v1/issues/{issue_id}/transition", moment, actor, status))
    return made


def _record_live(runtime: Runtime, clock: FrozenClock, lines: list[ImportLine]) -> None:
    """Each command as a live one, at its moment: the clock stands there when it commits."""
    catalog = runtime.importer.catalog
    for number, made in enumerate(lines, start=1):
        moment = datetime.fromisoformat(made["occurred_at"])
        clock.advance(moment - clock())
        command = catalog.parse(number, dict(made), clock())
        assert command.action is not None
        actor = made["actor_id"] or "system"
        context = CommandContext(actor, "test", clock(), new_id(), new_id())
        runtime.handler.execute(context, command.action)


def _by_time(lines: list[ImportLine]) -> list[ImportLine]:
    return sorted(lines, key=lambda made: made["occurred_at"])


def _catch_up(runtime: Runtime) -> None:
    for projection in all_projections():
        worker = ProjectionWorker(runtime.store, runtime.backend, projection)
        worker.import_quiet_seconds = 0
        worker.catch_up()


def _events(backend: Backend) -> dict[int, tuple[str, int]]:
    """Each position's event, by its object and version (the same in both logs)."""
    if backend.name == "postgresql":
        found = backend.fetchall(
            "SELECT notification_id, originator_id::text, originator_version FROM workledger_events"
        )
    else:
        found = backend.fetchall(
            "SELECT rowid, originator_id, originator_version FROM workledger_events"
        )
    return {int(p): (str(UUID(str(s))), int(v)) for p, s, v in found}


def _as_recorded(events: dict[int, Any], name: str, value: Any) -> Any:
    """A column's value with the log positions in it as (stream, version): a ``…position``
    column holds one, a ``…positions`` column a JSON list of them, or a map to them."""
    if name.endswith("position"):
        return events.get(value, value)
    if name.endswith("positions") and isinstance(value, str):
        held = orjson.loads(value)
        if isinstance(held, dict):
            return tuple(sorted((key, events.get(found, found)) for key, found in held.items()))
        return tuple(events.get(found, found) for found in held)
    return value


def _dump(
    backend: Backend, projection: Projection, as_of: datetime | None
) -> dict[str, list[tuple[Any, ...]]]:
    state = read_state(backend, projection.name)
    assert state is not None
    snapshot = Snapshot(state.generation, micros(as_of) if as_of else None)
    events = _events(backend)
    dump: dict[str, list[tuple[Any, ...]]] = {}
    for table in projection.tables:
        if table.latest_only:
            continue
        names = list(table.column_names)
        if table.versioned:
            condition, params = snapshot.visible()
            sql = (
                f"SELECT {', '.join(names)}, valid_from FROM {snapshot.name(table)} "
                f"WHERE {condition}"
            )
            names.append("valid_from")
        else:
            time_column = "occurred" if "occurred" in names else None
            if time_column is None:
                continue
            condition, params = snapshot.occurred_by(time_column)
            sql = f"SELECT {', '.join(names)} FROM {snapshot.name(table)} WHERE {condition}"
        rows = []
        for values in backend.fetchall(sql, params):
            row = tuple(
                _as_recorded(events, name, value) for name, value in zip(names, values, strict=True)
            )
            rows.append(row)
        dump[table.name] = sorted(rows, key=repr)
    return dump


@pytest.fixture
def second_backend(
    backend: Backend, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Backend]:
    """A store of the same kind as ``backend``, for the same commands in occurred order."""
    if backend.name == "postgresql":
        from services.infrastructure.postgres import PostgresBackend

        postgres_server_url: str = request.getfixturevalue("postgres_server_url")
        url = create_database(postgres_server_url, "wl_occurred_order")
        served = PostgresBackend.from_url(url)
        yield served
        served.close()
        drop_database(postgres_server_url, url)
    else:
        from services.infrastructure.sqlite import SQLiteBackend

        other = SQLiteBackend(str(tmp_path / "occurred-order.sqlite3"))
        yield other
        other.close()


def _empty(backend: Backend) -> None:
    tables = [
        row[0]
        for row in backend.fetchall(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            if backend.name == "postgresql"
            else "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    ]
    with backend.transaction() as cursor:
        for table in tables:
            if table.startswith("workledger_"):
                cursor.execute(f"DELETE FROM {table}")
            else:
                cursor.execute(f"DROP TABLE {table}")


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plans=st.lists(issue_plans, min_size=2, max_size=8),
    moments=st.lists(st.integers(0, 600), min_size=3, max_size=3),
)
def test_every_view_as_of_any_moment_equals_a_store_that_recorded_it_all_live_in_occurred_order(
    backend: Backend,
    second_backend: Backend,
    tmp_path: Path,
    plans: list[IssuePlan],
    moments: list[int],
) -> None:
    _empty(backend)
    _empty(second_backend)
    org, setup = _organisation()
    live = list(setup)
    imported: list[ImportLine] = []
    for plan in plans:
        (imported if plan.imported else live).extend(_issue_lines(org, plan))
    end = START + 2000 * HOUR

    clock = FrozenClock(START)
    mixed = build_runtime(
        Settings(data_dir=tmp_path), clock=clock, backend=backend, run_workers=False
    )
    mixed.start()
    try:
        _record_live(mixed, clock, _by_time(live))
        _catch_up(mixed)
        clock.advance(end - clock())
        report = mixed.importer.run("history", _by_time(imported))
        assert report.error is None, report.error
        _catch_up(mixed)
    finally:
        mixed.stop()

    reference = build_runtime(
        Settings(data_dir=tmp_path),
        clock=FrozenClock(end),
        backend=second_backend,
        run_workers=False,
    )
    reference.start()
    try:
        everything = reference.importer.run("everything", _by_time(live + imported))
        assert everything.error is None, everything.error
        _catch_up(reference)
    finally:
        reference.stop()

    for projection in all_projections():
        if not projection.occurred_order:
            continue
        for as_of in [None, *(START + hours * HOUR for hours in moments)]:
            assert _dump(backend, projection, as_of) == _dump(second_backend, projection, as_of), (
                projection.name,
                as_of,
            )
