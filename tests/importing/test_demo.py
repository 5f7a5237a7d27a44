"""The demo organisation: deterministic, in time order, the right size, holding every situation
the insights look for, and every line accepted by the command API's rules.

``_Replay`` runs the lines the way the command API runs commands, without HTTP or a database: each
line's path picks the command route, the route's own code validates the body and makes the action
(under ``choosing``, so a create takes the line's id), and the action decides through a
``Session`` on an in-memory log, with ``now`` at the line's time. The actor must be an active
member whose role the route allows. The end-to-end test runs the same lines through the real
importer into SQLite.
"""

from __future__ import annotations

import random
import time
import typing
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.routing import APIRoute
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

from domain import cadence as domain_cadence
from domain import goal, issue, operation, project
from domain.catalog import (
    AGGREGATES,
    GOAL,
    ISSUE,
    MEMBER,
    OPERATION,
    PROJECT,
    TEAM,
    Aggregate,
    kind_of_event,
)
from services.app import build_runtime
from services.command.actions import operations as operation_actions
from services.command.authority import leading
from services.command.deps import required_role
from services.command.handler import CommandContext, Session
from services.command.routes import goals, issues, members, operations, projects, teams
from services.command.streams import StreamCache
from services.importing.demo import (
    LAGGING_GOAL_TITLE,
    LATE_OPERATION_TITLE,
    SLIPPING_PROJECT_KEY,
    DemoPlan,
    generate,
    rules,
)
from services.importing.demo.schedule import Cadence, Schedule, due_dates
from services.importing.lines import ImportLine
from services.infrastructure.ids import choosing
from services.infrastructure.settings import Settings
from services.infrastructure.sqlite import SQLiteBackend
from services.infrastructure.tokens import RANK
from tests.conftest import FrozenClock

END = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)
SMALL = 0.05


@pytest.fixture(scope="module")
def small() -> list[ImportLine]:
    return list(generate(seed=7, scale=SMALL, end=END))


@pytest.fixture(scope="module")
def replayed(small: list[ImportLine]) -> _Replay:
    return _Replay().run(small)


# Replaying lines through the command API's routes and actions


@dataclass(frozen=True)
class _Recorded:
    data: Any
    version: int
    position: int


class _Log:
    """Streams of events in memory, as a ``Session`` reads them."""

    def __init__(self) -> None:
        self.streams: dict[UUID, list[_Recorded]] = {}
        self.position = 0

    def load(self, stream_id: UUID, after_version: int = 0) -> list[_Recorded]:
        return self.streams.get(stream_id, [])[after_version:]


class _Captured:
    def __init__(self) -> None:
        self.action: Any = None

    def __call__(self, action: Any, **_: Any) -> None:
        self.action = action


@dataclass(frozen=True)
class _Route:
    route: APIRoute

    def action(self, values: dict[str, str], body: dict[str, Any] | None) -> Any:
        """The route's action for these path values and body, made by the route's own code."""
        hints = typing.get_type_hints(self.route.endpoint, include_extras=True)
        arguments: dict[str, Any] = {}
        for name, value in values.items():
            arguments[name] = TypeAdapter(hints[name]).validate_python(value)
        for name, hint in hints.items():
            options = typing.get_args(hint) or (hint,)
            model = next(
                (o for o in options if isinstance(o, type) and issubclass(o, BaseModel)), None
            )
            if model is not None:
                arguments[name] = model.model_validate(body or {})
        captured = _Captured()
        self.route.endpoint(**arguments, run=captured)
        return captured.action


class _Replay:
    """The lines run in order; ``states`` holds every object as the lines left it."""

    def __init__(self) -> None:
        self.log = _Log()
        self.cache = StreamCache()
        self.claims: dict[tuple[str, str], UUID] = {}
        self.kinds: dict[UUID, Aggregate[Any, Any, Any]] = {}
        self.routes = [
            _Route(route)
            for module in (teams, members, goals, projects, issues, operations)
            for route in module.router.routes
            if isinstance(route, APIRoute)
        ]

    def run(self, lines: list[ImportLine]) -> _Replay:
        for number, made in enumerate(lines, start=1):
            try:
                self._line(made)
            except Exception as error:
                raise AssertionError(f"line {number} was refused: {made}: {error!r}") from error
        return self

    def state(self, aggregate: Aggregate[Any, Any, Any], stream_id: UUID) -> Any:
        return aggregate.replay([recorded.data for recorded in self.log.load(stream_id)])

    def states(self, aggregate: Aggregate[Any, Any, Any]) -> list[Any]:
        return [self.state(aggregate, i) for i, kind in self.kinds.items() if kind is aggregate]

    def _line(self, made: ImportLine) -> None:
        method, path = made["command"].split(" ")
        local = path.removeprefix("/v1")
        now = datetime.fromisoformat(made["occurred_at"])
        actor = made["actor_id"]
        body = made.get("body")
        if (method, local) == ("POST", "/operations/tick"):
            # As the importer runs a tick: every operation scheduled up to ``until``, now.
            self._check_actor(actor, "manager")
            until = date.fromisoformat((body or {})["until"])
            for operation_id in [i for i, kind in self.kinds.items() if kind is OPERATION]:
                self._commit(operation_actions.schedule_occurrences(operation_id, until), now)
            return
        route, values = self._match(method, local)
        needed = required_role(route.route)
        self._check_actor(actor, needed)
        chosen = UUID(made["id"]) if "id" in made else None
        with choosing(chosen) as unclaimed:
            action = route.action(values, body)
        assert not (chosen and unclaimed), "a line named an id that nothing took"
        if actor is not None and needed == "manager":
            acting = self.state(MEMBER, UUID(actor))
            if acting.role == "manager":
                # As live: a manager manages only the teams they lead.
                action = leading(UUID(actor)).guard(action, None)
        self._commit(action, now, actor)

    def _match(self, method: str, local: str) -> tuple[_Route, dict[str, str]]:
        for candidate in self.routes:
            found = candidate.route.path_regex.match(local)
            if found and method in (candidate.route.methods or ()):
                return candidate, found.groupdict()
        raise AssertionError(f"no command route is {method} {local}")

    def _check_actor(self, actor: str | None, role: str) -> None:
        if actor is None:
            assert not any(kind is MEMBER for kind in self.kinds.values()), (
                "the system acts only before there are members"
            )
            return
        acting = self.state(MEMBER, UUID(actor))
        assert acting is not None, "the actor is no member"
        assert acting.active, "the actor is deactivated"
        assert RANK[acting.role] >= RANK[role], f"a {acting.role} can't do what needs {role}"

    def _commit(self, action: Any, now: datetime, actor: str | None = None) -> None:
        context = CommandContext(actor or "system", "test", now, UUID(int=1), UUID(int=2))
        session = Session(self.log, self.cache, context)
        action(session)
        pending = session.pending()
        for claim in pending.claims:
            owner = self.claims.setdefault((claim.scope, claim.value), claim.owner_id)
            assert owner == claim.owner_id, f"{claim.value} is taken"
        positions = []
        for append in pending.appends:
            stream = self.log.streams.setdefault(append.stream_id, [])
            assert append.expected_version == len(stream)
            for new in append.events:
                self.log.position += 1
                positions.append(self.log.position)
                stream.append(_Recorded(new.event, len(stream) + 1, self.log.position))
                kind = kind_of_event(type(new.event))
                self.kinds.setdefault(append.stream_id, _AGGREGATES[kind])
        session.remember_committed(positions)


_AGGREGATES = {aggregate.kind: aggregate for aggregate in AGGREGATES}


# Determinism, order and size


def test_the_same_seed_makes_the_same_lines_and_another_seed_others(
    small: list[ImportLine],
) -> None:
    again = list(generate(seed=7, scale=SMALL, end=END))
    other = list(generate(seed=8, scale=SMALL, end=END))

    assert again == small
    assert other != small
    assert {made.get("id") for made in other} & {made.get("id") for made in small} == {None}


def test_lines_are_in_time_order_over_six_months_up_to_the_end(small: list[ImportLine]) -> None:
    moments = [datetime.fromisoformat(made["occurred_at"]) for made in small]

    assert moments == sorted(moments)
    assert moments[-1] <= END
    assert END - timedelta(weeks=27) < moments[0] < END - timedelta(weeks=25)
    assert moments[-1] > END - timedelta(days=1)


def test_activity_follows_the_week(small: list[ImportLine]) -> None:
    days = Counter(datetime.fromisoformat(made["occurred_at"]).weekday() for made in small)
    weekend = days[5] + days[6]

    assert weekend < 0.1 * sum(days.values())


def test_every_line_is_accepted_by_the_command_api_rules(replayed: _Replay) -> None:
    assert replayed.log.position > 0


def test_a_small_demo_holds_what_its_plan_counts(replayed: _Replay) -> None:
    plan = DemoPlan.for_scale(SMALL)
    count = Counter(kind.kind for kind in replayed.kinds.values())
    goals_made = replayed.states(GOAL)

    assert count["team"] == plan.teams
    assert count["member"] == plan.members
    assert count["goal"] == plan.goals
    assert sum(len(g.key_results) for g in goals_made) == plan.key_results
    assert count["project"] == plan.projects
    assert count["operation"] == plan.operations
    assert count["issue"] == plan.issues


def test_the_estimate_is_close_to_the_lines_made(small: list[ImportLine]) -> None:
    estimate = DemoPlan.estimate_lines(SMALL)

    assert 0.7 * len(small) < estimate < 1.3 * len(small)


def test_the_description_names_the_counts() -> None:
    plan = DemoPlan.for_scale(1)
    text = plan.describe()

    assert (plan.teams, plan.members, plan.projects, plan.operations) == (8, 120, 40, 20)
    assert plan.issues == 20_000
    for number in ("8 teams", "120 members", f"{plan.goals} goals", "40 projects", "20,000"):
        assert number in text


def test_scale_one_is_made_quickly() -> None:
    started = time.perf_counter()
    count = sum(1 for _ in generate(scale=1.0, end=END))
    seconds = time.perf_counter() - started

    assert count > 100_000
    assert seconds < 20


# The situations the insights are about


def _team_named(replayed: _Replay, name: str) -> Any:
    return next(t for t in replayed.states(TEAM) if t.name == name)


def _moments(lines: list[ImportLine], suffix: str) -> Iterator[tuple[str, datetime, ImportLine]]:
    """Each line whose command ends with ``suffix``: the object in its path, its time, itself."""
    for made in lines:
        if made["command"].endswith(suffix):
            object_id = made["command"].split("/")[3]
            yield object_id, datetime.fromisoformat(made["occurred_at"]), made


def test_a_member_is_assigned_far_more_than_their_capacity(replayed: _Replay) -> None:
    load: Counter[UUID] = Counter()
    for state in replayed.states(ISSUE):
        if state.is_open and state.assignee_id is not None:
            load[state.assignee_id] += state.estimate or 0
    people = {m.id: m for m in replayed.states(MEMBER) if m.weekly_capacity > 0}
    ratios = sorted((load[i] / m.weekly_capacity, i) for i, m in people.items() if m.active)
    ratio, busiest = ratios[-1]
    typical = ratios[len(ratios) // 2][0]
    payments = _team_named(replayed, "Payments")

    assert ratio >= 5
    assert ratio >= 1.5 * ratios[-2][0]
    assert ratio >= 10 * typical
    assert busiest in payments.member_ids


def test_a_project_slips(small: list[ImportLine], replayed: _Replay) -> None:
    slipping = next(p for p in replayed.states(PROJECT) if p.key == SLIPPING_PROJECT_KEY)
    issues_now = replayed.states(ISSUE)
    estimates = {str(state.id): state.estimate or 0 for state in issues_now}
    team_issues = {str(state.id) for state in issues_now if state.team_id == slipping.team_id}
    window = END - timedelta(weeks=4)
    completed = 0.0
    for issue_id, at, made in _moments(small, "/transition"):
        if issue_id in team_issues and at >= window:
            status = made.get("body", {})["status"]
            completed += estimates[issue_id] if status == "done" else 0
    open_work = [s for s in issues_now if s.project_id == slipping.id and s.is_open]
    remaining = sum(s.estimate or 0 for s in open_work)
    forecast = END.date() + timedelta(days=7 * remaining / (completed / 4))

    assert slipping.status == "active"
    assert END.date() < slipping.target_date <= END.date() + timedelta(days=14)
    assert len(open_work) >= 10
    assert forecast > slipping.target_date
    assert slipping.health == "off_track"
    assert any(not m.done and m.due_date < END.date() for m in slipping.milestones)


def test_a_goal_lags_behind_the_time_passed(replayed: _Replay) -> None:
    lagging = next(g for g in replayed.states(GOAL) if g.title == LAGGING_GOAL_TITLE)
    elapsed = (END.date() - lagging.period_start).days / (
        (lagging.period_end - lagging.period_start).days + 1
    )

    progress = goal.goal_progress(lagging)

    assert lagging.status == "active"
    assert progress is not None
    assert progress < elapsed - 0.4


def test_work_ages_in_progress(small: list[ImportLine], replayed: _Replay) -> None:
    started: dict[str, datetime] = {}
    for issue_id, at, made in _moments(small, "/transition"):
        if made.get("body", {})["status"] == "in_progress":
            started[issue_id] = at
    data = _team_named(replayed, "Data Platform")
    aging = [
        state
        for state in replayed.states(ISSUE)
        if state.status == "in_progress"
        and END - started[str(state.id)] > timedelta(weeks=6)
        and state.team_id == data.id
    ]

    assert len(aging) >= DemoPlan.for_scale(SMALL).aging_issues


def test_an_idle_team_sits_beside_a_large_untriaged_queue(replayed: _Replay) -> None:
    by_team: dict[UUID, Counter[str]] = defaultdict(Counter)
    for state in replayed.states(ISSUE):
        by_team[state.team_id][state.status] += 1
    support = _team_named(replayed, "Support Tools").id
    others = [counts for team_id, counts in by_team.items() if team_id != support]

    assert by_team[support]["in_progress"] <= 2
    assert by_team[support]["triage"] >= DemoPlan.for_scale(SMALL).untriaged_issues
    assert all(by_team[support]["triage"] > 5 * counts["triage"] for counts in others)


def test_an_operation_is_repeatedly_late_or_skipped(
    small: list[ImportLine], replayed: _Replay
) -> None:
    late_one = next(o for o in replayed.states(OPERATION) if o.title == LATE_OPERATION_TITLE)
    done_on: dict[date, date] = {}
    for operation_id, at, made in _moments(small, "/complete"):
        if operation_id == str(late_one.id):
            done_on[date.fromisoformat(made["command"].split("/")[5])] = at.date()
    past = [o for o in late_one.occurrences.values() if o.due_date < END.date()]
    late = [o for o in past if o.status == "completed" and done_on[o.due_date] > o.due_date]
    skipped = [o for o in past if o.status == "skipped"]
    overdue = [o for o in past if o.status == "scheduled"]

    assert len(late) + len(skipped) + len(overdue) >= len(past) / 2
    assert len(late) >= 3
    assert len(skipped) >= 3
    assert len(overdue) >= 2


def test_the_demo_holds_every_kind_of_object_and_state(replayed: _Replay) -> None:
    issues_now = replayed.states(ISSUE)
    goals_now = replayed.states(GOAL)
    operations_now = replayed.states(OPERATION)
    cadences = [segment.cadence for o in operations_now for segment in o.segments]

    assert {s.kind for s in issues_now} == set(issue.KINDS)
    assert {s.status for s in issues_now} == set(issue.STATUSES)
    assert {p.status for p in replayed.states(PROJECT)} == {
        "proposed",
        "active",
        "on_hold",
        "completed",
        "cancelled",
    }
    assert {g.status for g in goals_now} == {"active", "achieved", "missed", "abandoned"}
    assert {kr.unit for g in goals_now for kr in g.key_results} == {
        "number",
        "percent",
        "currency",
        "boolean",
    }
    assert {o.status for o in operations_now} == {"active", "retired"}
    assert {c.every for c in cadences} == {"day", "week", "month"}
    assert any(c.interval > 1 and c.every == "week" for c in cadences)
    assert any(len(c.weekdays) > 1 for c in cadences)
    assert any(c.day_of_month == 31 for c in cadences)
    assert any(o.end_date is not None for o in operations_now)
    assert any(s.blocked_by for s in issues_now)
    assert any(s.is_blocked for s in issues_now)
    assert any(s.goal_ids for s in issues_now)
    assert any(s.parent_id for s in issues_now)
    assert any(s.watchers for s in issues_now)
    assert not all(m.active for m in replayed.states(MEMBER))


def test_the_history_holds_every_kind_of_change(small: list[ImportLine]) -> None:
    commands = Counter(
        "/".join(part if len(part) < 30 else "{id}" for part in made["command"].split("/"))
        for made in small
    )
    patched = {key for made in small if "PATCH" in made["command"] for key in made.get("body", {})}
    moves = Counter(
        (made.get("body") or {}).get("status") for made in small if "/transition" in made["command"]
    )

    for command in (
        "POST /v1/issues/{id}/block",
        "POST /v1/issues/{id}/unblock",
        "POST /v1/issues/{id}/dependencies",
        "DELETE /v1/issues/{id}/dependencies/{id}",
        "POST /v1/issues/{id}/comments",
        "POST /v1/issues/{id}/links",
        "POST /v1/issues/{id}/watchers",
        "POST /v1/members/{id}/deactivate",
        "POST /v1/members/{id}/reactivate",
        "DELETE /v1/teams/{id}/members/{id}",
        "POST /v1/projects/{id}/health",
        "POST /v1/projects/{id}/goals",
        "POST /v1/operations/{id}/pause",
        "POST /v1/operations/{id}/resume",
        "PUT /v1/operations/{id}/cadence",
        "POST /v1/operations/{id}/retire",
        "POST /v1/goals/{id}/close",
    ):
        assert commands[command] > 0, command
    assert {"due_date", "priority", "estimate", "labels", "weekly_capacity", "role"} <= patched
    assert {"target_date", "title", "assignee_id", "runbook"} <= patched
    reassigned = Counter(made["command"] for made in small if made["command"].endswith("/assign"))
    assert any(count > 1 for count in reassigned.values())
    assert set(moves) == set(issue.STATUSES) - {"triage"}


def test_done_work_is_sometimes_reopened(replayed: _Replay, small: list[ImportLine]) -> None:
    done: set[str] = set()
    reopened = 0
    for issue_id, _, made in _moments(small, "/transition"):
        status = made.get("body", {})["status"]
        if status == "todo" and issue_id in done:
            reopened += 1
        if status == "done":
            done.add(issue_id)

    assert reopened > 0


# The domain's rules, as the demo writes them out


def test_the_demo_keeps_the_domain_s_tables() -> None:
    assert rules.ISSUE_WORKFLOW == issue.WORKFLOW
    assert rules.UNPLANNED_KINDS == issue.UNPLANNED_KINDS
    assert rules.OPEN_STATUSES == issue.OPEN_STATUSES
    assert rules.PROJECT_MOVES == project.ALLOWED_MOVES
    assert rules.MAX_OCCURRENCES_PER_TICK == operation.MAX_OCCURRENCES_PER_TICK
    for kind in issue.KINDS:
        assert rules.initial_status(kind) == issue.initial_status(kind)


_DAYS = st.dates(date(2024, 1, 1), date(2027, 12, 31))


@st.composite
def _cadences(draw: st.DrawFn) -> Cadence:
    every = draw(st.sampled_from(("day", "week", "month")))
    interval = draw(st.integers(1, 6))
    weekdays = tuple(draw(st.sets(st.integers(0, 6), max_size=3))) if every == "week" else ()
    day_of_month = draw(st.integers(1, 31)) if every == "month" else None
    return Cadence(every, interval, weekdays, day_of_month)


@settings(max_examples=300, deadline=None)
@given(_cadences(), _DAYS, st.none() | _DAYS, _DAYS, st.none() | _DAYS)
def test_due_dates_fall_as_the_domain_s(
    made: Cadence, anchor: date, after: date | None, until: date, end: date | None
) -> None:
    theirs = domain_cadence.due_dates(_domain(made), anchor, after, until, end)

    assert due_dates(made, anchor, after, until, end) == theirs


@pytest.mark.parametrize("seed", range(40))
def test_an_operation_s_schedule_follows_the_domain_s(seed: int) -> None:
    rng = random.Random(seed)
    start = date(2025, 9, 1) + timedelta(days=rng.randint(0, 30))
    kinds = [
        Cadence("day", 2),
        Cadence("week"),
        Cadence("week", 2, (1, 4)),
        Cadence("month", 1, (), 31),
    ]
    first = rng.choice(kinds)
    ours = Schedule(first, start, start + timedelta(days=rng.randint(60, 200)))
    created = operation.CreateOperation(
        UUID(int=seed), "Op", UUID(int=1), UUID(int=2), _domain(first), start, ours.end
    )
    now = datetime.combine(start - timedelta(days=1), datetime.min.time(), UTC)
    state = _apply(None, created, now)
    for _ in range(40):
        now += timedelta(days=rng.randint(0, 9), hours=rng.randint(0, 20))
        today = now.date()
        step = rng.random()
        if step < 0.5:
            until = today + timedelta(days=14)
            events = operation.decide(operation.ScheduleOccurrences(until), state, now)
            scheduled = [e.due_date for e in events if isinstance(e, operation.OccurrenceScheduled)]
            assert ours.tick(until) == scheduled
            state = _fold(state, events)
        elif step < 0.65 and state.status == "active":
            ours.pause()
            state = _apply(state, operation.PauseOperation(), now)
        elif step < 0.8 and state.status == "paused":
            ours.resume(today)
            state = _apply(state, operation.ResumeOperation(), now)
        elif step < 0.95 and state.status != "retired":
            cadence = rng.choice(kinds)
            events = operation.decide(operation.ChangeCadence(_domain(cadence)), state, now)
            assert ours.change_cadence(cadence, today) == bool(events)
            state = _fold(state, events)
        elif state.status != "retired":
            ours.retire()
            state = _apply(state, operation.RetireOperation(), now)
        assert ours.status == state.status
    assert ours.occurrences == {due: o.status for due, o in state.occurrences.items()}


def _domain(made: Cadence) -> domain_cadence.Cadence:
    return domain_cadence.make_cadence(made.every, made.interval, made.weekdays, made.day_of_month)


def _fold(state: Any, events: list[Any]) -> Any:
    for event in events:
        state = operation.evolve(state, event)
    return state


def _apply(state: Any, command: Any, now: datetime) -> Any:
    return _fold(state, operation.decide(command, state, now))


# End to end: the real importer


def test_the_importer_takes_every_line_into_sqlite(tmp_path: Path) -> None:
    lines = list(generate(seed=11, scale=0.02, end=END))
    backend = SQLiteBackend(str(tmp_path / "demo.sqlite3"))
    clock = FrozenClock(END + timedelta(hours=1))
    runtime = build_runtime(
        Settings(data_dir=tmp_path), clock=clock, backend=backend, run_workers=False
    )
    try:
        report = runtime.importer.run("demo", lines)
    finally:
        runtime.close()

    assert report.error is None, report.error and report.error.as_dict()
    assert report.applied == len(lines)
