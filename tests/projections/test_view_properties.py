"""Every read model, under random command sequences: rebuilt equals live, a worker killed after
any page and restarted equals one that never stopped, and ``as_of`` a past moment equals the live
view captured at that moment. With the events' times going back along objects (writers racing,
history imported late), each object's versions still follow one another without overlap, so
every list and view names each object once as of any moment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any, get_args
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import commands as body
from contracts.commands import ProjectStatus as ProjectStatusName
from domain import issue
from services.app import Runtime, build_runtime, create_app
from services.command.actions import goals as goals_actions
from services.command.actions import issues as issues_actions
from services.command.actions import operations as operations_actions
from services.command.actions import projects as projects_actions
from services.infrastructure.codec import EventMetadata, RecordedEvent
from services.infrastructure.settings import Settings
from services.infrastructure.sqlite import SQLiteBackend
from services.infrastructure.store import (
    Backend,
    Committed,
    EventStore,
    NewEvent,
    PendingCommit,
    StreamAppend,
)
from services.projections.page_writer import DEFAULT_CACHE_CAPACITY
from services.projections.readmodel import Snapshot, Table, from_micros, micros
from services.projections.runner import Projection, ProjectionWorker, read_state, rebuild
from services.projections.views import all_projections
from tests.conftest import FrozenClock, bearer
from tests.integration.test_command_properties import (
    Step,
    World,
    create_operation,
    log_after,
    perform,
    setup_world,
    steps,
)
from tests.projections.portfolio_helpers import nodes

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


# A log whose events' times go backwards along objects


@pytest.fixture
def deciding_runtime(clock: FrozenClock, tmp_path: Path) -> Iterator[Runtime]:
    """Where the commands of the next property are decided, by the real command handler, before
    their events are recorded elsewhere with other times."""
    backend = SQLiteBackend(str(tmp_path / "decided.sqlite3"))
    built = build_runtime(
        Settings(data_dir=tmp_path / "decided"),
        clock=clock,
        backend=backend,
        run_workers=False,
        views=(),
    )
    built.start()
    yield built
    built.stop()
    backend.close()


@pytest.fixture
def quiet_client(quiet_runtime: Runtime) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A client of the quiet runtime's query API, and an admin's headers."""
    headers = bearer(quiet_runtime.tokens.create("admin"))
    with TestClient(create_app(quiet_runtime), raise_server_exceptions=False) as client:
        yield client, headers


@dataclass(frozen=True)
class ProjectStatus:
    project: int
    status: ProjectStatusName


project_steps: st.SearchStrategy[ProjectStatus] = st.builds(
    ProjectStatus, st.integers(0, 1), st.sampled_from(get_args(ProjectStatusName))
)


def _projects(world: World) -> list[UUID]:
    """A goal and two projects of the world's team, one towards the goal, each with two issues."""
    today = world.clock().date()
    goal_id = world.create(
        goals_actions.create_goal(
            body.CreateGoal(
                title="Grow revenue",
                owner_id=world.members[0],
                team_id=world.team_id,
                period_start=today,
                period_end=today + timedelta(days=90),
            )
        )
    )
    projects: list[UUID] = []
    for number in range(2):
        data = body.CreateProject(
            name=f"Project {number}",
            key=f"P{uuid4().hex[:8]}",
            owner_id=world.members[number],
            team_id=world.team_id,
            start_date=today,
            target_date=today + timedelta(days=30),
            goal_ids=[goal_id] if number == 0 else [],
        )
        projects.append(world.create(projects_actions.create_project(data)))
        for estimate in (2.0, 5.0):
            issue_data = body.CreateIssue(
                title="Ship it",
                kind="task",
                team_id=world.team_id,
                project_id=projects[-1],
                estimate=estimate,
                assignee_id=world.members[number],
            )
            world.issues.append(world.create(issues_actions.create_issue(issue_data)))
    return projects


def _recorded_with_times_going_back(
    events: list[RecordedEvent], store: EventStore, shifts: list[int]
) -> list[int]:
    """Records ``events`` in ``store`` as writers racing each other (or an import) would: each
    command's events occurring ``shifts`` minutes earlier than they did, in turn, so that times
    go back along many objects. The times they occurred at, in microseconds."""
    commands: dict[UUID, int] = {}
    pending: list[PendingCommit] = []
    times: list[int] = []
    for event in events:
        metadata = event.metadata
        turn = commands.setdefault(metadata.correlation_id, len(commands))
        moment = metadata.occurred_at - timedelta(minutes=shifts[turn % len(shifts)])
        times.append(micros(moment))
        recorded = EventMetadata(
            metadata.event_id,
            metadata.actor,
            moment,
            metadata.correlation_id,
            metadata.causation_id,
        )
        append = StreamAppend(event.stream_id, event.version - 1, (NewEvent(event.data, recorded),))
        pending.append(PendingCommit([append]))
    outcomes = store.commit(pending)
    assert all(isinstance(outcome, Committed) for outcome in outcomes)
    return times


def _versions_out_of_order(backend: Backend, projection: Projection) -> list[str]:
    """Each versioned table's keys whose versions are empty, out of order or overlapping."""
    found: list[str] = []
    generation = _generation(backend, projection)
    for table in projection.tables:
        if not table.versioned or table.latest_only:
            continue
        key = ", ".join(table.key)
        rows = backend.fetchall(
            f"SELECT {key}, valid_from, valid_to FROM {table.physical(generation)} "
            f"ORDER BY {key}, valid_from"
        )
        for row in rows:
            if row[-1] is not None and row[-1] <= row[-2]:
                found.append(f"{table.name}: empty or inverted {row}")
        for earlier, later in pairwise(rows):
            if earlier[:-2] == later[:-2] and (earlier[-1] is None or earlier[-1] > later[-2]):
                found.append(f"{table.name}: {earlier} overlaps {later}")
    return found


def _every_row(backend: Backend, projection: Projection) -> Dump:
    """Every stored row of every table, spans and positions included."""
    generation = _generation(backend, projection)
    return {
        table.name: sorted(
            backend.fetchall(
                f"SELECT {', '.join(name for name, _ in table.typed_columns)} "
                f"FROM {table.physical(generation)}"
            ),
            key=repr,
        )
        for table in projection.tables
    }


LISTS = (
    "/v1/teams",
    "/v1/members",
    "/v1/goals",
    "/v1/projects",
    "/v1/issues",
    "/v1/operations",
    "/v1/views/workload",
)


def _named_more_than_once(
    client: TestClient, headers: dict[str, str], world: World, moment: int
) -> list[str]:
    """What any list or view, asked as of ``moment``, names more than once."""
    as_of = from_micros(moment).isoformat()
    found: list[str] = []

    def read(path: str) -> Any:
        response = client.get(path, params={"as_of": as_of, "limit": 500}, headers=headers)
        assert response.status_code == 200, f"{path} as of {as_of}: {response.text}"
        return response.json()

    def once(what: str, names: list[Any]) -> list[Any]:
        if len(names) != len(set(names)):
            found.append(f"{what} as of {as_of}: {sorted(names)}")
        return names

    for path in LISTS:
        listed = once(path, [item["id"] for item in read(path)["items"]])
        if path == "/v1/members":
            for member_id in set(world.members) & {UUID(m) for m in listed}:
                queue = read(f"/v1/views/queue/{member_id}")
                once(f"the queue of {member_id}", [item["id"] for item in queue["items"]])
        if path == "/v1/views/workload" and str(world.team_id) in listed:
            team = read(f"/v1/views/workload/{world.team_id}")
            once("the team's members", [member["id"] for member in team["members"]])
            once("the team's weeks", [week["week"] for week in team["throughput"]])
    portfolio = read("/v1/views/portfolio")
    once("the portfolio's projects", [item["id"] for item in portfolio["items"]])
    once("the portfolio's goals", [node["id"] for node in nodes(portfolio["goal_tree"])])
    once("the portfolio's kinds of work", [row["kind"] for row in portfolio["totals"]["issues"]])
    return found


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plan=st.lists(steps | project_steps, min_size=3, max_size=10),
    shifts=st.lists(st.integers(0, 5), min_size=2, max_size=8, unique=True),
    page_size=st.integers(1, 9),
    restarts=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    cache_capacity=st.sampled_from([1, 4, DEFAULT_CACHE_CAPACITY]),
    warm_up=st.booleans(),
    moments=st.lists(
        st.tuples(st.integers(0, 1000), st.sampled_from([0, 0, 1, 30_000_000])),
        min_size=3,
        max_size=6,
    ),
)
def test_views_of_a_log_whose_times_go_back_keep_one_version_of_each_object_at_a_time(
    deciding_runtime: Runtime,
    quiet_runtime: Runtime,
    quiet_client: tuple[TestClient, dict[str, str]],
    clock: FrozenClock,
    plan: list[Step | ProjectStatus],
    shifts: list[int],
    page_size: int,
    restarts: list[int],
    cache_capacity: int,
    warm_up: bool,
    moments: list[tuple[int, int]],
) -> None:
    world = setup_world(deciding_runtime, clock)
    projects = _projects(world)
    operation_id = create_operation(world, body.Cadence(every="week"), clock().date())
    # This world's operation only: a tick of every operation would write to earlier examples'.
    world.run(operations_actions.schedule_occurrences(operation_id, clock().date() + timedelta(14)))
    for step in plan:
        clock.advance(timedelta(minutes=1))
        if isinstance(step, ProjectStatus):
            change = body.ProjectStatusChange(status=step.status)
            world.run(projects_actions.change_project_status(projects[step.project], change))
        else:
            perform(world, step)
    backend = quiet_runtime.backend
    times = sorted(
        _recorded_with_times_going_back(
            log_after(deciding_runtime, world.start), quiet_runtime.store, shifts
        )
    )

    live: dict[str, Dump] = {}
    for projection in all_projections():
        # Each new worker is a restarted process: it either reads every row first or looks each
        # key up as it meets it, in a cache that may be too small to keep it.
        worker = partial(
            ProjectionWorker,
            quiet_runtime.store,
            backend,
            projection,
            page_size=page_size,
            cache_capacity=cache_capacity,
            warm_up_behind=1 if warm_up else 1 << 62,
        )
        for pages in restarts:
            killed = worker()
            for _ in range(pages):
                if killed.step() == 0:
                    break
        worker().catch_up()
        assert _versions_out_of_order(backend, projection) == [], projection.name
        live[projection.name] = _every_row(backend, projection)

    client, headers = quiet_client
    for pick, offset in moments:
        moment = times[pick % len(times)] + offset
        assert _named_more_than_once(client, headers, world, moment) == []

    for projection in all_projections():
        rebuild(quiet_runtime.store, backend, projection, page_size=7)
        assert _every_row(backend, projection) == live[projection.name], (
            f"{projection.name} rebuilt differs from the live view"
        )
