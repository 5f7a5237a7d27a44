"""Every read model, under random command sequences: rebuilt equals live, a worker killed after
any page and restarted equals one that never stopped, and ``as_of`` a past moment equals the live
view captured at that moment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import commands as body
from domain import issue
from services.app import Runtime, build_runtime
from services.command.actions import issues as issues_actions
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from services.projections.readmodel import Snapshot, Table, micros
from services.projections.runner import Projection, ProjectionWorker, read_state, rebuild
from services.projections.views import all_projections
from tests.conftest import FrozenClock
from tests.integration.test_command_properties import (
    Step,
    create_operation,
    perform,
    setup_world,
    steps,
)

Dump = dict[str, list[tuple[Any, ...]]]


@pytest.fixture
def quiet_runtime(backend: Backend, clock: FrozenClock, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime whose projection workers are driven by the test, not by threads."""
    built = build_runtime(
        Settings(data_dir=tmp_path), clock=clock, backend=backend, run_workers=False
    )
    built.start()
    yield built
    built.stop()


def _columns(table: Table) -> str:
    return ", ".join(table.column_names)


def _dump(backend: Backend, projection: Projection, snapshot: Snapshot, *, full: bool) -> Dump:
    """The rows a query would see: versioned tables' visible versions, and (``full``) facts and
    the state a view keeps only the latest version of (never asked ``as_of``)."""
    dump: Dump = {}
    for table in projection.tables:
        if table.versioned and (full or not table.latest_only):
            condition, params = snapshot.visible()
            rows = backend.fetchall(
                f"SELECT {_columns(table)}, valid_from, position FROM {snapshot.name(table)} "
                f"WHERE {condition}",
                params,
            )
        elif full:
            rows = backend.fetchall(f"SELECT {_columns(table)} FROM {snapshot.name(table)}")
        else:
            continue
        dump[table.name] = sorted(rows, key=repr)
    return dump


def _generation(backend: Backend, projection: Projection) -> int:
    state = read_state(backend, projection.name)
    assert state is not None
    return state.generation


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plan=st.lists(steps, min_size=4, max_size=16),
    cut=st.integers(0, 16),
    page_size=st.integers(1, 9),
    crash_after=st.integers(0, 12),
    warm_up=st.booleans(),
)
def test_every_view_rebuilt_restarted_or_asked_as_of_agrees_with_the_live_one(
    quiet_runtime: Runtime,
    clock: FrozenClock,
    plan: list[Step],
    cut: int,
    page_size: int,
    crash_after: int,
    warm_up: bool,
) -> None:
    runtime = quiet_runtime
    backend = runtime.backend
    world = setup_world(runtime, clock)
    create_operation(world, body.Cadence(every="week"), clock().date())
    for kind in issue.KINDS:
        data = body.CreateIssue(title=f"A {kind}", kind=kind, team_id=world.team_id)
        world.issues.append(world.create(issues_actions.create_issue(data)))
    runtime.scheduler.tick(runtime.scheduler.system_context())

    projections = all_projections()
    live = {
        p.name: ProjectionWorker(runtime.store, backend, p, page_size=page_size)
        for p in projections
    }
    captured: dict[str, Dump] = {}
    moment = clock()
    for index, step in enumerate(plan):
        if index == cut:
            moment = clock()
            for projection in projections:
                live[projection.name].catch_up()
                snapshot = Snapshot(_generation(backend, projection))
                captured[projection.name] = _dump(backend, projection, snapshot, full=False)
        clock.advance(timedelta(minutes=1))
        perform(world, step)
    if not captured:
        moment = clock()
        for projection in projections:
            live[projection.name].catch_up()
            snapshot = Snapshot(_generation(backend, projection))
            captured[projection.name] = _dump(backend, projection, snapshot, full=False)

    for projection in projections:
        interrupted = live[projection.name]
        for _ in range(crash_after):
            if interrupted.step() == 0:
                break
        # A new worker is a restarted process: only what was committed survives. It either
        # reads every current row first (as when far behind) or looks rows up as it meets them.
        ProjectionWorker(
            runtime.store,
            backend,
            projection,
            page_size=page_size,
            warm_up_behind=1 if warm_up else 1 << 62,
        ).catch_up()
        generation = _generation(backend, projection)
        now = _dump(backend, projection, Snapshot(generation), full=True)

        then = _dump(backend, projection, Snapshot(generation, micros(moment)), full=False)
        assert then == captured[projection.name], f"{projection.name} as_of differs"

        rebuild(runtime.store, backend, projection, page_size=1000)
        rebuilt = _dump(backend, projection, Snapshot(_generation(backend, projection)), full=True)
        assert rebuilt == now, f"{projection.name} rebuilt differs from the live view"
