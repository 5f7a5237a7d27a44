"""Properties of the command side, run against the real command handler and event store.

Random sequences of commands go through ``CommandHandler.execute`` exactly as the routes send
them; refused ones are skipped. Afterwards the stored log is checked: replaying it rebuilds what
the handler loads, and no invariant of the work model is broken anywhere in it.

Every example of a property shares its test's runtime (and so its log) with the examples before
it: each example creates its own team, members and issues with fresh ids, and checks the part of
the log written since it started, so that the examples together check the whole log.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import commands as body
from domain import issue, member, operation
from domain.catalog import AGGREGATES, ISSUE, OPERATION, Aggregate
from domain.errors import DomainError
from domain.rules import reachable, walk
from services.app import Runtime
from services.command.actions import issues as issues_actions
from services.command.actions import members as members_actions
from services.command.actions import operations as operations_actions
from services.command.actions import teams as teams_actions
from services.command.actions.common import on
from services.command.handler import Action, CommandContext, Session
from services.command.outcomes import Accepted, ConcurrencyConflict
from services.command.streams import StreamCache
from services.infrastructure.codec import RecordedEvent
from services.infrastructure.store import iter_pages
from tests.conftest import FrozenClock

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# The workflow table of the product specification, independent of the module's.
TABLE: dict[str, set[str]] = {
    "triage": {"backlog", "todo", "cancelled"},
    "backlog": {"todo", "in_progress", "cancelled"},
    "todo": {"backlog", "in_progress", "cancelled"},
    "in_progress": {"todo", "in_review", "done", "cancelled"},
    "in_review": {"in_progress", "done", "cancelled"},
    "done": {"todo"},
    "cancelled": {"todo"},
}


def context(clock: FrozenClock) -> CommandContext:
    """What a command route's ``Run`` carries for an authenticated caller."""
    return CommandContext(
        actor="member:test",
        principal="token:test",
        now=clock(),
        correlation_id=uuid4(),
        causation_id=uuid4(),
    )


@dataclass
class World:
    """The objects one example made, and the way it runs commands."""

    runtime: Runtime
    clock: FrozenClock
    team_id: UUID = field(default_factory=uuid4)
    members: list[UUID] = field(default_factory=list)
    issues: list[UUID] = field(default_factory=list)
    operations: list[UUID] = field(default_factory=list)
    start: int = 0
    refused: set[str] = field(default_factory=set)

    def run(self, action: Action) -> Accepted | None:
        """Runs the action as the API would; a domain refusal answers ``None``."""
        try:
            accepted = self.runtime.handler.execute(context(self.clock), action)
        except DomainError as error:
            self.refused.add(error.code)
            return None
        return accepted

    def create(self, action: Action) -> UUID:
        accepted = self.run(action)
        assert accepted is not None
        assert accepted.status == 201
        return UUID(accepted.body["id"])

    def streams(self) -> Iterator[UUID]:
        yield self.team_id
        yield from self.members
        yield from self.issues
        yield from self.operations


def setup_world(runtime: Runtime, clock: FrozenClock, members: int = 3) -> World:
    world = World(runtime, clock, start=runtime.store.last_position())
    world.team_id = world.create(teams_actions.create_team(body.CreateTeam(name="Payments")))
    for n in range(members):
        data = body.CreateMember(
            name=f"Member {n}",
            email=f"m{n}.{uuid4().hex}@example.com",
            role="member",
            weekly_capacity=10,
            team_ids=[world.team_id],
        )
        world.members.append(world.create(members_actions.create_member(data)))
    return world


def create_operation(world: World, cadence: body.Cadence, start: date) -> UUID:
    data = body.CreateOperation(
        title="Rotate certificates",
        team_id=world.team_id,
        owner_id=world.members[0],
        cadence=cadence,
        start_date=start,
        estimate=1.5,
    )
    operation_id = world.create(operations_actions.create_operation(data))
    world.operations.append(operation_id)
    return operation_id


# Steps on teams, members and issues


@dataclass(frozen=True)
class NewIssue:
    kind: issue.Kind
    title: str
    estimate: float | None
    severity: issue.Severity | None
    labels: tuple[str, ...]
    parent: int | None
    assignee: int | None


@dataclass(frozen=True)
class Edit:
    at: int
    fields: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Move:
    at: int
    status: issue.Status


@dataclass(frozen=True)
class Block:
    at: int
    reason: str | None  # None unblocks


@dataclass(frozen=True)
class Depend:
    at: int
    blocker: int


@dataclass(frozen=True)
class Undepend:
    at: int
    blocker: int


@dataclass(frozen=True)
class Reparent:
    at: int
    parent: int | None


@dataclass(frozen=True)
class Assign:
    at: int
    member: int | None


@dataclass(frozen=True)
class Activity:
    member: int
    active: bool


@dataclass(frozen=True)
class Watch:
    at: int
    member: int


@dataclass(frozen=True)
class Comment:
    at: int
    text: str


@dataclass(frozen=True)
class Affects:
    at: int
    link: bool


@dataclass(frozen=True)
class Profile:
    member: int
    capacity: float
    team_name: str


Step = (
    NewIssue
    | Edit
    | Move
    | Block
    | Depend
    | Undepend
    | Reparent
    | Assign
    | Activity
    | Watch
    | Comment
    | Affects
    | Profile
)

index = st.integers(0, 15)
# Graph steps keep mostly to the first few issues, so that cycles are often attempted.
near = st.integers(0, 3) | index
member_index = st.integers(0, 2)
estimates = st.none() | st.sampled_from([0.0, 0.5, 1.0, 3.0, 8.0])
label_lists = st.lists(st.sampled_from(["ui", "api", "ledger", "ops"]), max_size=3).map(tuple)
titles = st.sampled_from(["Fix the ledger", "Rotate keys", "Write the report"])
edit_fields = st.dictionaries(
    st.sampled_from(["title", "description", "priority", "severity", "estimate", "labels"]),
    st.none(),
    max_size=4,
).flatmap(
    lambda chosen: st.fixed_dictionaries(
        {
            name: {
                "title": titles,
                "description": st.none() | st.just("Details"),
                "priority": st.sampled_from(issue.PRIORITIES),
                "severity": st.none() | st.sampled_from(issue.SEVERITIES),
                "estimate": estimates,
                "labels": label_lists.map(list),
            }[name]
            for name in chosen
        }
    )
)
steps: st.SearchStrategy[Step] = st.one_of(
    st.builds(
        NewIssue,
        st.sampled_from(issue.KINDS),
        titles,
        estimates,
        st.none() | st.sampled_from(issue.SEVERITIES),
        label_lists,
        st.none() | index,
        st.none() | member_index,
    ),
    st.builds(Edit, index, edit_fields.map(lambda d: tuple(sorted(d.items())))),
    st.builds(Move, index, st.sampled_from(issue.STATUSES)),
    st.builds(Move, index, st.sampled_from(issue.STATUSES)),
    st.builds(Block, index, st.none() | st.just("waiting on the bank")),
    st.builds(Depend, near, near),
    st.builds(Depend, near, near),
    st.builds(Depend, near, near),
    st.builds(Undepend, near, near),
    st.builds(Reparent, near, st.none() | near),
    st.builds(Reparent, near, near),
    st.builds(Assign, index, st.none() | member_index),
    st.builds(Activity, member_index, st.booleans()),
    st.builds(Watch, index, member_index),
    st.builds(Comment, index, st.sampled_from(["LGTM", "  On it  "])),
    st.builds(Affects, index, st.booleans()),
    st.builds(
        Profile, member_index, st.sampled_from([0.0, 5.0, 10.0]), st.sampled_from(["Pay", "Ops"])
    ),
)


def perform(world: World, step: Step) -> None:
    def pick(i: int) -> UUID:
        return world.issues[i % len(world.issues)]

    if isinstance(step, NewIssue):
        data = body.CreateIssue(
            title=step.title,
            kind=step.kind,
            team_id=world.team_id,
            severity=step.severity,
            estimate=step.estimate,
            labels=list(step.labels),
            parent_id=None if step.parent is None or not world.issues else pick(step.parent),
            assignee_id=None if step.assignee is None else world.members[step.assignee],
        )
        accepted = world.run(issues_actions.create_issue(data))
        if accepted is not None:
            world.issues.append(UUID(accepted.body["id"]))
        return
    if isinstance(step, Activity | Profile):
        someone = world.members[step.member]
        if isinstance(step, Activity):
            world.run(
                members_actions.reactivate_member(someone)
                if step.active
                else members_actions.deactivate_member(someone)
            )
        else:
            capacity = body.UpdateMember(weekly_capacity=step.capacity)
            world.run(members_actions.update_member(someone, capacity))
            world.run(
                teams_actions.update_team(world.team_id, body.UpdateTeam(name=step.team_name))
            )
        return
    if not world.issues:
        return
    target = pick(step.at)
    action: Action
    match step:
        case Edit(fields=fields):
            action = issues_actions.update_issue(
                target, body.UpdateIssue.model_validate(dict(fields))
            )
        case Move(status=status):
            action = on(ISSUE, target, issue.TransitionIssue(status))
        case Block(reason=None):
            action = on(ISSUE, target, issue.UnblockIssue())
        case Block(reason=str(reason)):
            action = on(ISSUE, target, issue.BlockIssue(reason))
        case Depend(blocker=blocker):
            dependency = body.AddDependency(blocked_by_id=pick(blocker))
            action = issues_actions.add_dependency(target, dependency)
        case Undepend(blocker=blocker):
            action = on(ISSUE, target, issue.RemoveDependency(pick(blocker)))
        case Reparent(parent=parent):
            parent_id = None if parent is None else pick(parent)
            action = issues_actions.update_issue(target, body.UpdateIssue(parent_id=parent_id))
        case Assign(member=who):
            assignee = None if who is None else world.members[who]
            action = issues_actions.assign_issue(target, body.AssignIssue(assignee_id=assignee))
        case Watch(member=who):
            action = issues_actions.watch_issue(target, body.Watch(member_id=world.members[who]))
        case Comment(text=text):
            action = issues_actions.comment_on_issue(target, body.Comment(body=text))
        case Affects(link=True):
            data_link = body.LinkIssue(kind="affects", target_id=world.operations[0])
            action = issues_actions.link_issue(target, data_link)
        case Affects(link=False):
            action = on(ISSUE, target, issue.UnlinkIssue("affects", world.operations[0]))
        case _:
            raise AssertionError(f"unexpected step {step}")
    world.run(action)


def describe(world: World) -> None:
    """Labels the example for ``--hypothesis-show-statistics``: what it actually exercised."""
    kinds = {
        type(e.data).__name__
        for stream in world.streams()
        for e in world.runtime.store.load(stream)
    }
    for kind in sorted(kinds):
        hypothesis.event(f"wrote {kind}")
    for code in sorted(world.refused):
        hypothesis.event(f"refused {code}")


# Checks over the stored log


def log_after(runtime: Runtime, after: int = 0) -> list[RecordedEvent]:
    """The stored log after position ``after``: everything written since then."""
    return [event for page in iter_pages(runtime.store, after, 500) for event in page]


def aggregate_of(events: Sequence[RecordedEvent]) -> Aggregate[Any, Any, Any]:
    first = type(events[0].data)
    [aggregate] = [a for a in AGGREGATES if a.created_event is first]
    return aggregate


def check_replay_matches_the_handler(world: World) -> None:
    """(a) Each stream's stored events rebuild exactly what the handler's session loads."""
    for stream_id in world.streams():
        events = world.runtime.store.load(stream_id)
        assert events, "every object the world made has a stream"
        aggregate = aggregate_of(events)
        replayed = aggregate.replay([e.data for e in events])
        for cache in (world.runtime.handler._cache, StreamCache()):
            loaded = Session(world.runtime.store, cache, context(world.clock)).load(
                aggregate, stream_id
            )
            assert loaded.state == replayed
            assert loaded.version == len(events) == events[-1].version
            assert loaded.position == events[-1].position


def check_the_log(runtime: Runtime, after: int = 0) -> None:
    """(b) No invariant is broken in the stored log after ``after``.

    An example's objects are all created after the position it starts from, and no command of
    one example touches the issues or members of another, so checking each example's part of
    the log checks the whole log, one part at a time.
    """
    log = log_after(runtime, after)
    positions = [e.position for e in log]
    assert positions == sorted(set(positions)), "positions strictly increase"
    assert not positions or positions[0] > after
    last_version: dict[UUID, int] = {}
    for event in log:
        if event.stream_id in last_version:
            expected = last_version[event.stream_id] + 1
            assert event.version == expected, "versions run 1..n in log order"
        last_version[event.stream_id] = event.version
    for stream_id, version in last_version.items():
        stored = [e.version for e in runtime.store.load(stream_id)]
        assert stored == list(range(1, version + 1)), "a stream's versions are 1..n"

    issues: dict[UUID, issue.Issue] = {}
    members: dict[UUID, member.Member] = {}
    for event in log:
        data = event.data
        stream_id = event.stream_id
        if isinstance(data, member.MemberEvent):
            evolved_member = member.evolve(members.get(stream_id), data)
            assert evolved_member is not None
            members[stream_id] = evolved_member
            continue
        if not isinstance(data, issue.IssueEvent):
            continue
        before = issues.get(stream_id)
        match data:
            case issue.IssueCreated():
                assert before is None
                assert data.status == issue.initial_status(data.kind)
                assert data.estimate is None or data.estimate >= 0
                assert data.severity is None or data.kind == "incident"
                assert data.parent_id is None or data.parent_id in issues
                assert data.assignee_id is None or members[data.assignee_id].active
            case issue.IssueTransitioned():
                assert before is not None
                assert data.from_status == before.status
                assert data.to_status in TABLE[data.from_status], "a move outside the workflow"
            case issue.IssueEstimated():
                assert data.estimate is None or data.estimate >= 0
            case issue.IssueAssigned():
                assert members[data.assignee_id].active, "work given to a deactivated member"
            case issue.IssueDependencyAdded():
                assert data.blocked_by_id != stream_id
                assert data.blocked_by_id in issues
            case issue.IssueParentChanged():
                assert data.parent_id is None or data.parent_id in issues
            case _:
                pass
        evolved = issue.evolve(before, data)
        assert evolved is not None
        issues[stream_id] = evolved
        if isinstance(data, issue.IssueDependencyAdded):
            edges = {i: state.blocked_by for i, state in issues.items()}
            assert stream_id not in reachable(stream_id, edges), "a dependency cycle"
        if isinstance(data, issue.IssueParentChanged):
            chain = walk(stream_id, lambda i: issues[i].parent_id, len(issues) + 1)
            assert issues[chain[-1]].parent_id is None, "a parent cycle"


@given(plan=st.lists(steps, min_size=8, max_size=30))
@PROPERTY
def test_random_commands_leave_a_log_that_replays_to_the_handlers_state_and_keeps_invariants(
    runtime: Runtime, clock: FrozenClock, plan: list[Step]
) -> None:
    world = setup_world(runtime, clock)
    create_operation(world, body.Cadence(every="week"), clock().date())
    for kind in issue.KINDS:
        data = body.CreateIssue(title=f"A {kind}", kind=kind, team_id=world.team_id)
        world.issues.append(world.create(issues_actions.create_issue(data)))
    for step in plan:
        perform(world, step)
    describe(world)
    check_replay_matches_the_handler(world)
    check_the_log(runtime, world.start)


small = st.integers(0, 4)
graph_steps: st.SearchStrategy[Step] = st.one_of(
    st.builds(Depend, small, small),
    st.builds(Depend, small, small),
    st.builds(Depend, small, small),
    st.builds(Undepend, small, small),
    st.builds(Reparent, small, small),
    st.builds(Reparent, small, st.none() | small),
)


@given(plan=st.lists(graph_steps, min_size=5, max_size=25))
@PROPERTY
def test_random_dependency_and_parent_changes_never_close_a_cycle(
    runtime: Runtime, clock: FrozenClock, plan: list[Step]
) -> None:
    world = setup_world(runtime, clock, members=1)
    for n in range(5):
        data = body.CreateIssue(title=f"Issue {n}", kind="task", team_id=world.team_id)
        world.issues.append(world.create(issues_actions.create_issue(data)))
    for step in plan:
        perform(world, step)
    describe(world)
    check_the_log(runtime, world.start)
    check_replay_matches_the_handler(world)


# Operations: ticks and cadence changes


@dataclass(frozen=True)
class Tick:
    days_ahead: int
    every_operation: bool


@dataclass(frozen=True)
class Recadence:
    cadence: body.Cadence


@dataclass(frozen=True)
class Advance:
    days: int


@dataclass(frozen=True)
class Lifecycle:
    pause: bool


@dataclass(frozen=True)
class Settle:
    index: int
    complete: bool


OperationStep = Tick | Recadence | Advance | Lifecycle | Settle

cadences: st.SearchStrategy[body.Cadence] = st.one_of(
    st.builds(body.Cadence, every=st.just("day"), interval=st.integers(1, 5)),
    st.builds(
        body.Cadence,
        every=st.just("week"),
        interval=st.integers(1, 3),
        weekdays=st.none()
        | st.lists(st.sampled_from(body.WEEKDAYS), min_size=1, max_size=3, unique=True),
    ),
    st.builds(
        body.Cadence,
        every=st.just("month"),
        interval=st.integers(1, 2),
        day_of_month=st.integers(1, 31),
    ),
)
operation_steps: st.SearchStrategy[OperationStep] = st.one_of(
    st.builds(Tick, st.integers(-10, 120), st.booleans()),
    st.builds(Tick, st.integers(0, 30), st.just(False)),
    st.builds(Tick, st.integers(0, 60), st.just(False)),
    st.builds(Recadence, cadences),
    st.builds(Advance, st.integers(0, 20)),
    st.builds(Lifecycle, st.booleans()),
    st.builds(Settle, st.integers(0, 100), st.booleans()),
)


def perform_on_operation(world: World, operation_id: UUID, step: OperationStep) -> None:
    today = world.clock().date()
    match step:
        case Tick(days_ahead=days, every_operation=True):
            world.runtime.scheduler.tick(context(world.clock), today + timedelta(days=days))
        case Tick(days_ahead=days):
            world.run(
                operations_actions.schedule_occurrences(operation_id, today + timedelta(days=days))
            )
        case Recadence(cadence=cadence):
            change = body.ChangeCadence(cadence=cadence)
            world.run(operations_actions.change_cadence(operation_id, change))
        case Advance(days=days):
            world.clock.advance(timedelta(days=days))
        case Lifecycle(pause=True):
            world.run(on(OPERATION, operation_id, operation.PauseOperation()))
        case Lifecycle(pause=False):
            world.run(on(OPERATION, operation_id, operation.ResumeOperation()))
        case Settle(index=at, complete=complete):
            scheduled = [
                e.data.due_date
                for e in world.runtime.store.load(operation_id)
                if isinstance(e.data, operation.OccurrenceScheduled)
            ]
            if not scheduled:
                return
            due = scheduled[at % len(scheduled)]
            note = body.OccurrenceNote(note="done")
            settle = (
                operations_actions.complete_occurrence
                if complete
                else operations_actions.skip_occurrence
            )
            world.run(settle(operation_id, due, note))


def check_occurrences(runtime: Runtime, after: int = 0) -> None:
    """(c) No operation holds two occurrences with one id or one due date; ids follow dates.

    Every operation that scheduled anything after ``after`` is checked over its whole stream.
    """
    ticked = {
        e.stream_id
        for e in log_after(runtime, after)
        if isinstance(e.data, operation.OccurrenceScheduled)
    }
    for operation_id in ticked:
        stream = [e.data for e in runtime.store.load(operation_id)]
        created = stream[0]
        assert isinstance(created, operation.OperationCreated)
        scheduled = [e for e in stream if isinstance(e, operation.OccurrenceScheduled)]
        ids = [e.occurrence_id for e in scheduled]
        dues = [e.due_date for e in scheduled]
        assert len(set(ids)) == len(ids), "an occurrence id scheduled twice"
        assert len(set(dues)) == len(dues), "a due date scheduled twice"
        assert dues == sorted(dues), "due dates are only ever added after the last one"
        assert all(
            e.occurrence_id == operation.occurrence_id(operation_id, e.due_date) for e in scheduled
        )
        assert all(due >= created.start_date for due in dues)


@given(
    cadence=cadences,
    start_offset=st.integers(-40, 40),
    plan=st.lists(operation_steps, min_size=5, max_size=25),
)
@PROPERTY
def test_ticks_and_cadence_changes_never_schedule_an_occurrence_twice(
    runtime: Runtime,
    clock: FrozenClock,
    cadence: body.Cadence,
    start_offset: int,
    plan: list[OperationStep],
) -> None:
    world = setup_world(runtime, clock, members=1)
    start = clock().date() + timedelta(days=start_offset)
    operation_id = create_operation(world, cadence, start)
    for step in plan:
        perform_on_operation(world, operation_id, step)
    describe(world)
    check_occurrences(runtime, world.start)
    check_replay_matches_the_handler(world)


# Concurrent commands


def run_concurrently(jobs: Sequence[Callable[[], None]], threads: int = 8) -> None:
    start = threading.Barrier(min(threads, len(jobs)))

    def job_at(job: Callable[[], None]) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(10)
        job()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(job_at, job) for job in jobs]:
            future.result(timeout=60)


def test_concurrent_dependencies_never_close_a_cycle(runtime: Runtime, clock: FrozenClock) -> None:
    world = setup_world(runtime, clock, members=1)
    for n in range(6):
        data = body.CreateIssue(title=f"Issue {n}", kind="task", team_id=world.team_id)
        world.issues.append(world.create(issues_actions.create_issue(data)))
    rng = random.Random(20260302)
    pairs = [tuple(rng.sample(world.issues, 2)) for _ in range(48)]

    def depend(waiting: UUID, blocker: UUID) -> Callable[[], None]:
        def job() -> None:
            data = body.AddDependency(blocked_by_id=blocker)
            # A conflict that outlasts the retries is a 409 to the caller: nothing is written.
            with contextlib.suppress(ConcurrencyConflict):
                world.run(issues_actions.add_dependency(waiting, data))

        return job

    run_concurrently([depend(a, b) for a, b in pairs])
    check_the_log(runtime)
    states = {
        i: Session(runtime.store, StreamCache(), context(clock)).load(ISSUE, i).state
        for i in world.issues
    }
    edges = {i: s.blocked_by for i, s in states.items() if s is not None}
    assert any(edges.values()), "some dependencies were added"
    assert all(i not in reachable(i, edges) for i in edges)


def test_concurrent_ticks_never_schedule_an_occurrence_twice(
    runtime: Runtime, clock: FrozenClock
) -> None:
    world = setup_world(runtime, clock, members=1)
    for every in ("day", "week"):
        create_operation(world, body.Cadence(every=every), clock().date())
    until = clock().date() + timedelta(days=60)

    def tick() -> None:
        runtime.scheduler.tick(context(clock), until)

    run_concurrently([tick] * 8)
    check_occurrences(runtime)
    scheduled = [e for e in log_after(runtime) if isinstance(e.data, operation.OccurrenceScheduled)]
    assert len(scheduled) == 61 + 9
    check_replay_matches_the_handler(world)
