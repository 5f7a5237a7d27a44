"""A realistic organisation's history, generated from a seed and written straight into the log.

Every event comes from the domain's own deciders and is folded with its own evolve functions, so
the data obeys every rule the command API enforces (workflow, dependency and parent cycles,
closed projects, deactivated members, key-result units ...). Only HTTP and the command handler are
bypassed, to write a million events in minutes rather than hours: commands are grouped into large
batches, each committed through ``EventStore.commit`` with its exact expected versions, on a
thread of its own while the next batch is generated.

Time is simulated. Every actor (the arrival of issues, each issue's life, each project, goal and
operation, the scheduler, the people) is a generator that yields how long it waits before its next
step; a priority queue runs them in time order, so ``occurred_at`` increases in log order (strictly
from one command to the next; the events of one command share its moment). Work happens in
working hours (Monday to Friday, 08:00-18:00 UTC) over ``weeks`` weeks ending at ``end``. The same
seed and end give the same log, event ids included.
"""

from __future__ import annotations

import heapq
import queue
import random
import threading
from collections import Counter
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID, SafeUUID

from domain import goal, issue, member, operation, project, team
from domain.cadence import Cadence, make_cadence
from domain.catalog import GOAL, ISSUE, MEMBER, OPERATION, PROJECT, TEAM, Aggregate
from services.infrastructure.codec import EventMetadata
from services.infrastructure.store import (
    Claim,
    Committed,
    EventStore,
    NewEvent,
    PendingCommit,
    StreamAppend,
)

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

S = TypeVar("S")
C = TypeVar("C")
E = TypeVar("E")
T = TypeVar("T")

MICROS = 1_000_000
MINUTE = 60 * MICROS
HOUR = 60 * MINUTE
WORK_DAY = 10 * HOUR
WORK_WEEK = 5 * WORK_DAY
DAY_STARTS = 8 * HOUR

DEFAULT_END = datetime(2026, 3, 2, tzinfo=UTC)

_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (4 << 76) | (0x8000 << 48)
_UNKNOWN_SAFETY = SafeUUID.unknown
_new_object = object.__new__
_set_attribute = object.__setattr__

Agent = Generator[int, None, None]
"""A simulated actor: each ``yield`` is how long (working-time microseconds) it waits next."""

AREAS = (
    "Payments", "Search", "Checkout", "Identity", "Mobile", "Platform", "Data", "Growth",
    "Billing", "Messaging", "Infra", "Security", "Support Tools", "Catalog", "Pricing",
    "Onboarding", "Analytics", "Reliability", "Web", "Partners", "Risk", "Ledger", "Notifications",
    "Design System", "Developer Experience",
)  # fmt: skip
FIRST_NAMES = (
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken",
    "Radia", "Dennis", "Sophie", "Tim", "Karen", "Leslie", "Niklaus", "Shafi", "Bjarne", "Hedy",
    "Lynn", "Guido", "Anita", "Robin", "Mary", "Yukihiro", "Adele", "Brian", "Carol", "Jean",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Hamilton",
    "Thompson", "Perlman", "Ritchie", "Wilson", "Berners", "Jones", "Lamport", "Wirth",
    "Goldwasser", "Stroustrup", "Lamarr", "Conway", "Rossum", "Borg", "Milner", "Keller",
    "Matsumoto", "Goldberg", "Kernighan", "Shaw", "Sammet",
)  # fmt: skip
WORDS = (
    "refund", "retry", "webhook", "ledger", "invoice", "index", "cache", "token", "session",
    "export", "import", "report", "alert", "queue", "schema", "migration", "timeout", "latency",
    "dashboard", "permission", "audit", "search", "filter", "upload", "checkout", "coupon",
    "payout", "rollout", "flag", "backfill",
)  # fmt: skip
VERBS = (
    "Fix", "Add", "Speed up", "Remove", "Harden", "Document", "Refactor", "Migrate", "Monitor",
    "Support", "Validate", "Paginate",
)  # fmt: skip
LABELS = (
    "backend", "frontend", "api", "ux", "performance", "security", "tech-debt", "customer",
    "regression", "docs", "infra", "data", "mobile", "a11y", "flaky",
)  # fmt: skip
RUNBOOK = ("Check the dashboards", "Review open alerts", "Write the summary", "File follow-ups")

KINDS: tuple[tuple[issue.Kind, float], ...] = (
    ("task", 0.58),
    ("bug", 0.27),
    ("request", 0.10),
    ("incident", 0.05),
)
PRIORITIES: tuple[tuple[issue.Priority, float], ...] = (
    ("urgent", 0.04),
    ("high", 0.18),
    ("medium", 0.38),
    ("low", 0.25),
    ("none", 0.15),
)


@dataclass(frozen=True)
class Summary:
    """What was loaded, and a few objects worth querying."""

    events: int
    first_position: int
    last_position: int
    started_at: datetime
    ended_at: datetime
    created: dict[str, int]
    """Objects created, by kind: ``team``, ``member``, ``goal``, ``project``, ``issue``,
    ``operation``, ``occurrence``."""
    event_types: dict[str, int]
    issue_statuses: dict[str, int]
    busiest_members: tuple[UUID, ...]
    """Active members with the most open assigned issues, busiest first."""
    busiest_loads: tuple[int, ...]
    """How many open issues each of ``busiest_members`` has assigned."""
    busiest_teams: tuple[UUID, ...]
    """Teams with the most open issues, busiest first."""
    projects: tuple[UUID, ...]
    """Active projects with the most issues, largest first."""
    goals: tuple[UUID, ...]
    operations: tuple[UUID, ...]
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def load_organisation(
    store: EventStore,
    *,
    issues: int = 100_000,
    members: int = 1_000,
    projects: int = 500,
    teams: int | None = None,
    weeks: int = 26,
    seed: int = 1,
    end: datetime = DEFAULT_END,
    batch_events: int = 20_000,
) -> Summary:
    """Writes an organisation's history into ``store``, which must hold an empty log.

    The defaults make about a million events: 50 teams of 20 members, goals with key results and
    weekly check-ins, 500 projects with milestones and health posts, 100,000 issues of every kind
    moving through the workflow, and two recurring operations per team with their occurrences.
    Smaller numbers scale everything down (``teams`` defaults to one per 20 members).
    """
    if store.last_position() != 0:
        raise ValueError("load_organisation writes into an empty log only")
    started = datetime.now(UTC)
    world = _World(
        store,
        _Random(seed),
        end=end,
        weeks=weeks,
        teams=teams if teams is not None else max(2, members // 20),
        members=max(members, 4),
        projects=projects,
        issues=issues,
        batch_events=batch_events,
    )
    summary = world.run()
    return replace(summary, seconds=(datetime.now(UTC) - started).total_seconds())


class _Random(random.Random):
    """The standard generator with cheaper integer and choice draws (the hot path calls them
    millions of times); as deterministic as the original for a given seed."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq: SupportsLenAndGetItem[T]) -> T:
        return seq[int(self.random() * len(seq))]


def _weighted(rng: random.Random, choices: Sequence[tuple[T, float]]) -> T:
    point = rng.random()
    for value, weight in choices:
        point -= weight
        if point < 0:
            return value
    return choices[-1][0]


class _Command:
    """One command's writes: several streams, each appended at the version it was read at."""

    __slots__ = ("_appends", "_world", "actor", "claims", "correlation", "now")

    def __init__(self, world: _World, actor: str, now: datetime) -> None:
        self._world = world
        self.actor = actor
        self.now = now
        self.correlation = world.new_id()
        self._appends: dict[UUID, tuple[int, list[NewEvent]]] = {}
        self.claims: list[Claim] = []

    def decide(self, aggregate: Aggregate[S, C, E], stream_id: UUID, command: C) -> Sequence[E]:
        """Asks the domain; its events are folded into the world and kept for the commit."""
        world = self._world
        state: S | None = world.states.get(stream_id)
        events = aggregate.decide(command, state, self.now)
        if not events:
            return events
        entry = self._appends.get(stream_id)
        if entry is None:
            entry = self._appends[stream_id] = (world.versions.get(stream_id, 0), [])
        pending = entry[1]
        for event in events:
            state = aggregate.evolve(state, event)
            metadata = EventMetadata(
                world.new_id(), self.actor, self.now, self.correlation, self.correlation
            )
            pending.append(NewEvent(event, metadata))
            world.event_types[type(event).__name__] += 1
        world.states[stream_id] = state
        world.versions[stream_id] = world.versions.get(stream_id, 0) + len(events)
        return events

    def pending(self) -> tuple[PendingCommit, int]:
        appends = []
        count = 0
        for stream_id, (expected, events) in self._appends.items():
            appends.append(StreamAppend(stream_id, expected, tuple(events)))
            count += len(events)
        return PendingCommit(appends=appends, claims=self.claims), count


class _Writer:
    """Commits batches on a thread of its own, so the database works while Python generates."""

    def __init__(self, store: EventStore, batch_events: int) -> None:
        self._store = store
        self._size = batch_events
        self._batch: list[PendingCommit] = []
        self._events = 0
        self._queue: queue.Queue[list[PendingCommit] | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.first_position = 0
        self.last_position = 0
        self.written = 0
        self._thread = threading.Thread(target=self._run, name="dataset-writer", daemon=True)
        self._thread.start()

    def add(self, pending: PendingCommit, events: int) -> None:
        if events == 0:
            return
        self._batch.append(pending)
        self._events += events
        if self._events >= self._size:
            self._send()

    def _send(self) -> None:
        if self.error is not None:
            raise RuntimeError("writing the organisation failed") from self.error
        if self._batch:
            self._queue.put(self._batch)
            self._batch = []
            self._events = 0

    def close(self) -> None:
        self._send()
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise RuntimeError("writing the organisation failed") from self.error

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                for outcome in self._store.commit(batch):
                    if not isinstance(outcome, Committed):
                        raise AssertionError(f"the generator's command was refused: {outcome}")
                    if outcome.positions:
                        self.first_position = self.first_position or outcome.positions[0]
                        self.last_position = outcome.positions[-1]
                        self.written += len(outcome.positions)
            except BaseException as error:
                self.error = error


@dataclass
class _Org:
    teams: list[UUID] = field(default_factory=list)
    team_members: dict[UUID, list[UUID]] = field(default_factory=dict)
    """The members of each team who do work (viewers only watch)."""
    managers: dict[UUID, UUID] = field(default_factory=dict)
    admins: list[UUID] = field(default_factory=list)
    members: list[UUID] = field(default_factory=list)
    open_projects: dict[UUID, list[UUID]] = field(default_factory=dict)
    project_issues: dict[UUID, list[UUID]] = field(default_factory=dict)
    goals: dict[UUID | None, list[UUID]] = field(default_factory=dict)
    all_goals: list[UUID] = field(default_factory=list)
    operations: list[UUID] = field(default_factory=list)
    team_operations: dict[UUID, list[UUID]] = field(default_factory=dict)
    issues: list[UUID] = field(default_factory=list)
    projects: list[UUID] = field(default_factory=list)


class _World:
    """The simulation: every object's current state, the clock, and the actors' schedule."""

    def __init__(
        self,
        store: EventStore,
        rng: random.Random,
        *,
        end: datetime,
        weeks: int,
        teams: int,
        members: int,
        projects: int,
        issues: int,
        batch_events: int,
    ) -> None:
        self.rng = rng
        self.store = store
        end = end.astimezone(UTC)
        first_day = end.date() - timedelta(weeks=weeks)
        first_day -= timedelta(days=first_day.weekday())
        self.origin = datetime.combine(first_day, time(), UTC)
        self._mornings: list[datetime] = []
        self.end = end
        self.horizon = self.work_time(end)
        self.shape = (teams, members, projects, issues)
        self.states: dict[UUID, Any] = {}
        self.versions: dict[UUID, int] = {}
        self.event_types: Counter[str] = Counter()
        self.created: Counter[str] = Counter()
        self.org = _Org()
        self._writer = _Writer(store, batch_events)
        self._schedule: list[tuple[int, int, Agent]] = []
        self._sequence = 0
        self.clock = 0
        self._last = -1

    # Time

    def calendar(self, moment: int) -> datetime:
        """The calendar time of a working-time instant (microseconds of working hours)."""
        days, within = divmod(moment, WORK_DAY)
        mornings = self._mornings
        while days >= len(mornings):
            weeks, day = divmod(len(mornings), 5)
            mornings.append(self.origin + timedelta(days=weeks * 7 + day, microseconds=DAY_STARTS))
        return mornings[days] + timedelta(microseconds=within)

    def work_time(self, moment: datetime) -> int:
        """The working-time instant of a calendar time; nights and weekends map to the next
        working morning."""
        delta = moment - self.origin
        weeks, day = divmod(delta.days, 7)
        if day >= 5:
            return (weeks + 1) * WORK_WEEK
        within = delta.seconds * MICROS + delta.microseconds - DAY_STARTS
        within = min(max(within, 0), WORK_DAY - 1)
        return weeks * WORK_WEEK + day * WORK_DAY + within

    def day_time(self, day: date, hours: float) -> int:
        """A working-time instant ``hours`` into the working day ``day``."""
        return self.work_time(datetime.combine(day, time(8), UTC)) + int(hours * HOUR)

    @property
    def today(self) -> date:
        return self.calendar(self.clock).date()

    # Ids and commands

    def new_id(self) -> UUID:
        """A random (version 4) UUID drawn from the seeded generator."""
        # Made without UUID.__init__, whose checks cost more than the rest of an event's ids.
        identifier = _new_object(UUID)
        value = (self.rng.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET
        _set_attribute(identifier, "int", value)
        _set_attribute(identifier, "is_safe", _UNKNOWN_SAFETY)
        return identifier

    def command(self, actor: UUID | str) -> _Command:
        moment = max(self.clock, self._last + 1)
        self._last = moment
        return _Command(self, str(actor), self.calendar(moment))

    def commit(self, command: _Command) -> None:
        pending, count = command.pending()
        self._writer.add(pending, count)

    def do(
        self, actor: UUID | str, aggregate: Aggregate[S, C, E], stream_id: UUID, command: C
    ) -> Sequence[E]:
        """A command on a single stream."""
        run = self.command(actor)
        events = run.decide(aggregate, stream_id, command)
        self.commit(run)
        return events

    # Scheduling

    def spawn(self, agent: Agent, at: int) -> None:
        self._sequence += 1
        heapq.heappush(self._schedule, (max(at, self.clock), self._sequence, agent))

    def run(self) -> Summary:
        teams, members, projects, issues = self.shape
        self.clock = 0
        _setup_teams_and_members(self, teams, members)
        self.spawn(_goals(self, first_half=True), 0)
        self.spawn(_goals(self, first_half=False), self.horizon // 2 - 3 * WORK_DAY)
        self.spawn(_projects(self, projects), HOUR)
        self.spawn(_operations(self), 2 * HOUR)
        self.spawn(_scheduler(self), 3 * HOUR)
        self.spawn(_people(self), WORK_WEEK)
        self.spawn(_arrivals(self, issues), WORK_DAY)
        schedule = self._schedule
        while schedule:
            at, _, agent = heapq.heappop(schedule)
            if at >= self.horizon:
                break
            self.clock = at
            try:
                delay = next(agent)
            except StopIteration:
                continue
            self._sequence += 1
            heapq.heappush(schedule, (at + max(delay, 1), self._sequence, agent))
        self._writer.close()
        return self._summary()

    # Lookups

    def active(self, member_id: UUID) -> bool:
        state: member.Member = self.states[member_id]
        return state.active

    def team_member(self, team_id: UUID) -> UUID:
        """An active member of the team (its manager if no one else is active)."""
        people = self.org.team_members[team_id]
        for _ in range(8):
            candidate = self.rng.choice(people)
            if self.active(candidate):
                return candidate
        return self.org.managers[team_id]

    def acting(self, member_id: UUID | None, team_id: UUID) -> UUID:
        """``member_id`` if they are still active, else the team's manager acts for them."""
        if member_id is not None and self.active(member_id):
            return member_id
        return self.org.managers[team_id]

    def issue(self, issue_id: UUID) -> issue.Issue:
        state: issue.Issue = self.states[issue_id]
        return state

    def waits_on(self, start: UUID) -> frozenset[UUID]:
        """Everything ``start`` waits on through ``blocked_by``, as the command API computes it."""
        seen: set[UUID] = set()
        frontier = list(self.issue(start).blocked_by)
        while frontier:
            node = frontier.pop()
            if node not in seen:
                seen.add(node)
                frontier.extend(self.issue(node).blocked_by)
        return frozenset(seen)

    def _summary(self) -> Summary:
        statuses: Counter[str] = Counter()
        open_by_member: Counter[UUID] = Counter()
        open_by_team: Counter[UUID] = Counter()
        for issue_id in self.org.issues:
            state = self.issue(issue_id)
            statuses[state.status] += 1
            if state.is_open:
                open_by_team[state.team_id] += 1
                if state.assignee_id is not None and self.active(state.assignee_id):
                    open_by_member[state.assignee_id] += 1
        sizes = Counter(
            {
                p: len(self.org.project_issues.get(p, ()))
                for p in self.org.projects
                if self.states[p].status == "active"
            }
        )
        return Summary(
            events=self._writer.written,
            first_position=self._writer.first_position,
            last_position=self._writer.last_position,
            started_at=self.calendar(0),
            ended_at=self.calendar(max(self._last, 0)),
            created=dict(self.created),
            event_types=dict(self.event_types),
            issue_statuses=dict(statuses),
            busiest_members=tuple(m for m, _ in open_by_member.most_common(10)),
            busiest_loads=tuple(n for _, n in open_by_member.most_common(10)),
            busiest_teams=tuple(t for t, _ in open_by_team.most_common(10)),
            projects=tuple(p for p, _ in sizes.most_common(10)),
            goals=tuple(self.org.all_goals[:10]),
            operations=tuple(self.org.operations[:10]),
        )


# The organisation at the start: teams, their members, working agreements.


def _setup_teams_and_members(world: _World, teams: int, members: int) -> None:
    rng = world.rng
    org = world.org
    for index in range(teams):
        team_id = world.new_id()
        area = AREAS[index % len(AREAS)]
        name = area if index < len(AREAS) else f"{area} {index // len(AREAS) + 1}"
        capacity = float(rng.choice((40, 60, 80))) if rng.random() < 0.2 else None
        world.do("system", TEAM, team_id, team.CreateTeam(team_id, name, capacity))
        world.created["team"] += 1
        org.teams.append(team_id)
        org.team_members[team_id] = []
        org.open_projects[team_id] = []
        org.team_operations[team_id] = []
    for index in range(members):
        member_id = world.new_id()
        home = org.teams[index % teams]
        if index < 3:
            role: member.Role = "admin"
        elif index < 3 + teams or not org.team_members[home]:
            role = "manager"
        elif rng.random() < 0.05:
            role = "viewer"
        else:
            role = "member"
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index // len(FIRST_NAMES) + index) % len(LAST_NAMES)]
        email = f"{first}.{last}.{index}@example.com".lower()
        capacity = float(rng.choice((6, 8, 8, 10, 10, 10, 12, 13)))
        joins = [home]
        if rng.random() < 0.08:
            other = rng.choice(org.teams)
            if other != home:
                joins.append(other)
        admin = org.admins[0] if org.admins else "system"
        run = world.command(admin)
        run.decide(
            MEMBER,
            member_id,
            member.RegisterMember(member_id, f"{first} {last}", email, role, capacity),
        )
        run.claims.append(Claim("member.email", email, member_id))
        for team_id in joins:
            run.decide(TEAM, team_id, team.AddTeamMember(member_id, member_active=True))
            if role != "viewer":
                org.team_members[team_id].append(member_id)
        world.commit(run)
        world.created["member"] += 1
        org.members.append(member_id)
        if role == "admin":
            org.admins.append(member_id)
        if role == "manager" and home not in org.managers:
            org.managers[home] = member_id
    for team_id in org.teams:
        org.managers.setdefault(team_id, org.team_members[team_id][0])
        manager = org.managers[team_id]
        world.do(
            manager,
            TEAM,
            team_id,
            team.SetWorkingAgreement("We review within a day; WIP at most two per person."),
        )
        world.do(
            manager,
            TEAM,
            team_id,
            team.SetDefinitionOfDone(("Reviewed", "Tested", "Documented", "Released")),
        )


# Goals: company goals and team goals under them, for each half of the period.


def _goals(world: _World, *, first_half: bool) -> Agent:
    rng = world.rng
    org = world.org
    half = world.horizon // 2
    start_at = 0 if first_half else half
    period_start = world.calendar(start_at).date()
    period_end = world.calendar(start_at + half - 1).date()
    owners = org.admins or [org.managers[org.teams[0]]]
    company: list[UUID] = []
    created: list[tuple[UUID, UUID]] = []
    for index in range(max(1, len(org.teams) // 10)):
        goal_id = world.new_id()
        owner = owners[index % len(owners)]
        world.do(
            owner,
            GOAL,
            goal_id,
            goal.CreateGoal(
                goal_id,
                f"{rng.choice(VERBS)} {rng.choice(WORDS)} across the company",
                owner,
                world.active(owner),
                period_start,
                period_end,
            ),
        )
        company.append(goal_id)
        created.append((goal_id, owner))
    for index, team_id in enumerate(org.teams):
        for extra in range(2 if rng.random() < 0.3 else 1):
            goal_id = world.new_id()
            owner = org.managers[team_id]
            parent = company[(index + extra) % len(company)]
            world.do(
                owner,
                GOAL,
                goal_id,
                goal.CreateGoal(
                    goal_id,
                    f"{rng.choice(VERBS)} {rng.choice(WORDS)} for {world.states[team_id].name}",
                    owner,
                    world.active(owner),
                    period_start,
                    period_end,
                    team_id=team_id,
                    parent_id=parent,
                    parent_exists=True,
                    parent_chain=(),
                ),
            )
            created.append((goal_id, owner))
    key_results: list[tuple[UUID, UUID, UUID]] = []
    for goal_id, owner in created:
        world.created["goal"] += 1
        org.all_goals.append(goal_id)
        for number in range(rng.choice((2, 2, 3, 3, 4))):
            kr_id = world.new_id()
            unit = rng.choice(("number", "percent", "percent", "currency", "boolean"))
            start, target = {
                "number": (0.0, float(rng.choice((10, 20, 50, 100)))),
                "percent": (float(rng.randint(20, 60)), float(rng.randint(70, 99))),
                "currency": (0.0, float(rng.choice((10_000, 50_000, 250_000)))),
                "boolean": (0.0, 1.0),
            }[unit]
            world.do(
                owner,
                GOAL,
                goal_id,
                goal.AddKeyResult(
                    kr_id, f"KR {number + 1}: {rng.choice(WORDS)}", unit, start, target
                ),
            )
            key_results.append((goal_id, kr_id, owner))
    yield max(start_at - world.clock, 1)
    for goal_id, owner in created:
        world.do(owner, GOAL, goal_id, goal.ActivateGoal())
        team_id = world.states[goal_id].team_id
        org.goals.setdefault(team_id, []).append(goal_id)
    pace = {kr_id: rng.uniform(0.4, 1.3) for _, kr_id, _ in key_results}
    weeks = max(1, half // WORK_WEEK)
    for week in range(1, weeks):
        yield WORK_WEEK
        for goal_id, kr_id, owner in key_results:
            state: goal.Goal = world.states[goal_id]
            if state.status != "active" or rng.random() < 0.2:
                continue
            kr = goal.find_key_result(state, kr_id)
            assert kr is not None
            share = min(1.0, week / weeks * pace[kr_id] + rng.uniform(-0.05, 0.05))
            if kr.unit == "boolean":
                value = 1.0 if share >= 0.95 else 0.0
            else:
                value = round(kr.start + (kr.target - kr.start) * max(share, 0.0), 1)
            world.do(owner, GOAL, goal_id, goal.CheckInKeyResult(kr_id, value, "weekly check-in"))
        if week == weeks // 2:
            for goal_id, owner in created:
                if rng.random() < 0.04:
                    world.do(owner, GOAL, goal_id, goal.CloseGoal("abandoned"))
                elif rng.random() < 0.05:
                    world.do(owner, GOAL, goal_id, goal.RetitleGoal(f"{rng.choice(VERBS)} more"))
    if not first_half:
        return
    yield WORK_DAY
    for goal_id, owner in created:
        state = world.states[goal_id]
        if state.status != "active":
            continue
        progress = goal.goal_progress(state) or 0.0
        world.do(owner, GOAL, goal_id, goal.CloseGoal("achieved" if progress >= 0.7 else "missed"))
        org.goals[state.team_id].remove(goal_id)


# Projects: created over the first months, each with a life of its own.


def _projects(world: _World, count: int) -> Agent:
    rng = world.rng
    # Most projects start early; the rest arrive through the first two thirds of the period.
    early = count * 2 // 5
    for index in range(count):
        if index >= early:
            remaining = world.horizon * 2 // 3 - world.clock
            yield max(1, int(remaining / max(count - index, 1) * rng.uniform(0.5, 1.5)))
        team_id = world.org.teams[index % len(world.org.teams)]
        world.spawn(_project_life(world, index, team_id), world.clock)


def _project_life(world: _World, index: int, team_id: UUID) -> Agent:
    rng = world.rng
    org = world.org
    owner = org.managers[team_id] if rng.random() < 0.6 else world.team_member(team_id)
    project_id = world.new_id()
    start = world.today
    target = start + timedelta(weeks=rng.randint(6, 20))
    area = world.states[team_id].name
    key = f"{''.join(ch for ch in area.upper() if ch.isalpha())[:3]}{index}"
    run = world.command(owner)
    run.decide(
        PROJECT,
        project_id,
        project.CreateProject(
            project_id,
            f"{rng.choice(VERBS)} {rng.choice(WORDS)} {index}",
            key,
            owner,
            team_id,
            start,
            target,
            owner_active=world.active(owner),
            key_in_use=False,
        ),
    )
    run.claims.append(Claim("project.key", key, project_id))
    goals = org.goals.get(team_id, []) + org.goals.get(None, [])
    for goal_id in rng.sample(goals, min(len(goals), rng.choice((0, 1, 1, 2)))):
        run.decide(PROJECT, project_id, project.LinkProjectGoal(goal_id, goal_exists=True))
    world.commit(run)
    world.created["project"] += 1
    org.projects.append(project_id)
    org.open_projects[team_id].append(project_id)
    org.project_issues[project_id] = []
    span = (target - start).days
    milestones = sorted(
        (start + timedelta(days=rng.randint(span // 4, span)), world.new_id())
        for _ in range(rng.randint(2, 4))
    )
    for number, (due, milestone_id) in enumerate(milestones):
        world.do(
            owner,
            PROJECT,
            project_id,
            project.AddMilestone(milestone_id, f"Milestone {number + 1}", due),
        )
    yield rng.randint(HOUR, 5 * WORK_DAY)
    if rng.random() < 0.06:
        world.do(owner, PROJECT, project_id, project.ChangeProjectStatus("cancelled"))
        org.open_projects[team_id].remove(project_id)
        return
    world.do(owner, PROJECT, project_id, project.ChangeProjectStatus("active"))
    while True:
        yield WORK_WEEK + rng.randint(-WORK_DAY, WORK_DAY)
        owner = world.acting(owner, team_id)
        state: project.Project = world.states[project_id]
        today = world.today
        if state.status == "on_hold":
            if rng.random() < 0.5:
                world.do(owner, PROJECT, project_id, project.ChangeProjectStatus("active"))
            continue
        for milestone in state.milestones:
            if not milestone.done and milestone.due_date <= today and rng.random() < 0.8:
                world.do(owner, PROJECT, project_id, project.CompleteMilestone(milestone.id))
        if rng.random() < 0.75:
            health = _weighted(rng, (("on_track", 0.7), ("at_risk", 0.22), ("off_track", 0.08)))
            world.do(owner, PROJECT, project_id, project.PostProjectHealth(health, "weekly status"))
        roll = rng.random()
        if roll < 0.02:
            world.do(owner, PROJECT, project_id, project.ChangeProjectStatus("on_hold"))
        elif roll < 0.03:
            world.do(owner, PROJECT, project_id, project.RenameProject(f"{state.name} (phase 2)"))
        elif roll < 0.035:
            world.do(owner, PROJECT, project_id, project.ChangeProjectStatus("cancelled"))
            org.open_projects[team_id].remove(project_id)
            return
        if today >= state.target_date:
            if rng.random() < 0.3:
                new_target = state.target_date + timedelta(weeks=rng.randint(2, 6))
                world.do(
                    owner,
                    PROJECT,
                    project_id,
                    project.RescheduleProject(state.start_date, new_target),
                )
            else:
                world.do(owner, PROJECT, project_id, project.ChangeProjectStatus("completed"))
                org.open_projects[team_id].remove(project_id)
                return


# Issues: a steady arrival of work, and the life of each item.


def _arrivals(world: _World, count: int) -> Agent:
    rng = world.rng
    first = world.clock
    slot = (world.horizon - first) / max(count, 1)
    for index in range(count):
        at = first + int((index + rng.random()) * slot)
        yield max(at - world.clock, 0)
        world.spawn(_issue_life(world, index), world.clock)


def _title(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)} {rng.choice(WORDS)} {rng.choice(WORDS)}"


def _issue_life(world: _World, index: int) -> Agent:
    rng = world.rng
    org = world.org
    kind = _weighted(rng, KINDS)
    team_id = rng.choice(org.teams)
    project_id: UUID | None = None
    in_project = rng.random() < (0.9 if kind == "task" else 0.45)
    if in_project and org.open_projects[team_id]:
        project_id = rng.choice(org.open_projects[team_id])
    reporter = world.team_member(team_id)
    issue_id = world.new_id()
    priority = _weighted(rng, PRIORITIES)
    severity: issue.Severity | None = None
    if kind == "incident":
        severity = _weighted(rng, (("sev1", 0.05), ("sev2", 0.2), ("sev3", 0.45), ("sev4", 0.3)))
        priority = "urgent" if severity in ("sev1", "sev2") else "high"
    estimate = rng.choice((None, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 5.0, 5.0, 8.0, 13.0))
    due = world.today + timedelta(days=rng.randint(3, 45)) if rng.random() < 0.35 else None
    labels = tuple(rng.sample(LABELS, rng.choice((0, 1, 1, 2, 3))))
    siblings = org.project_issues[project_id] if project_id is not None else []
    parent_id: UUID | None = None
    if siblings and rng.random() < 0.08:
        candidate = rng.choice(siblings[-20:])
        if world.issue(candidate).is_open:
            parent_id = candidate
    goals = org.goals.get(team_id, [])
    goal_ids = (rng.choice(goals),) if goals and rng.random() < 0.12 else ()
    assignee = world.team_member(team_id) if rng.random() < 0.3 else None
    run = world.command(reporter)
    number: int | None = None
    key: str | None = None
    if project_id is not None:
        added = run.decide(PROJECT, project_id, project.AddIssueToProject(issue_id))
        numbered = added[0]
        assert isinstance(numbered, project.ProjectIssueAdded)
        number = numbered.number
        key = project.issue_key(world.states[project_id], number)
    run.decide(
        ISSUE,
        issue_id,
        issue.CreateIssue(
            issue_id=issue_id,
            kind=kind,
            title=_title(rng),
            team_id=team_id,
            description=f"Reported by {world.states[reporter].name}.",
            project_id=project_id,
            number=number,
            key=key,
            priority=priority,
            severity=severity,
            estimate=estimate,
            due_date=due,
            labels=labels,
            parent_id=parent_id,
            goal_ids=goal_ids,
            assignee_id=assignee,
            assignee_active=True,
        ),
    )
    world.commit(run)
    world.created["issue"] += 1
    org.issues.append(issue_id)
    position_in_project = len(siblings)
    if project_id is not None:
        siblings.append(issue_id)
    life = _IssueLife(world, issue_id, team_id, reporter)
    urgent = kind == "incident"

    yield from life.pause(rng.randint(5 * MINUTE, 2 * HOUR), comment=0.35)
    reporter = world.acting(reporter, team_id)
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
        world.do(reporter, ISSUE, issue_id, issue.WatchIssue(world.team_member(team_id)))
    if project_id is not None and position_in_project and rng.random() < 0.12:
        earlier = siblings[max(0, position_in_project - 30) : position_in_project]
        blocker = rng.choice(earlier)
        if world.issue(blocker).is_open:
            world.do(
                reporter,
                ISSUE,
                issue_id,
                issue.AddDependency(blocker, world.waits_on(blocker)),
            )
    if urgent:
        targets: list[tuple[UUID, issue.TargetKind]] = [
            (p, "project") for p in org.open_projects[team_id][:3]
        ] + [(o, "operation") for o in org.team_operations[team_id]]
        if targets:
            target_id, target_kind = rng.choice(targets)
            world.do(reporter, ISSUE, issue_id, issue.LinkIssue("affects", target_id, target_kind))
    elif goals and rng.random() < 0.04:
        world.do(reporter, ISSUE, issue_id, issue.LinkIssue("goal", rng.choice(goals), "goal"))

    if kind in issue.UNPLANNED_KINDS:
        yield from life.pause(rng.randint(10 * MINUTE, HOUR if urgent else 2 * WORK_DAY))
        if not urgent and rng.random() < 0.07:
            life.move("cancelled", comment=True)
            return
        life.move("todo" if urgent or rng.random() < 0.55 else "backlog")
    if life.state.status == "backlog":
        if rng.random() < 0.2:
            yield from life.pause(rng.randint(WORK_DAY, 8 * WORK_WEEK), comment=0.3)
            return
        yield from life.pause(rng.randint(WORK_DAY // 2, 3 * WORK_WEEK), comment=0.45, edit=0.2)
        life.move("todo")
    for round_ in range(2):
        if life.state.assignee_id is None or not world.active(life.state.assignee_id):
            life.assign()
        wait = rng.randint(10 * MINUTE, 2 * HOUR) if urgent else rng.randint(HOUR, 6 * WORK_DAY)
        yield from life.pause(wait, comment=0.5, edit=0.25)
        if rng.random() < 0.05:
            life.assign()
        life.move("in_progress")
        if rng.random() < 0.05:
            yield from life.pause(rng.randint(HOUR, WORK_DAY))
            world.do(life.worker, ISSUE, issue_id, issue.BlockIssue(f"waiting on {_title(rng)}"))
            yield from life.pause(rng.randint(WORK_DAY, 5 * WORK_DAY), comment=0.5)
            world.do(life.worker, ISSUE, issue_id, issue.UnblockIssue())
        points = life.state.estimate or 2.0
        work = int(points * rng.uniform(0.3, 1.2) * WORK_DAY)
        if urgent:
            work = rng.randint(30 * MINUTE, WORK_DAY)
        yield from life.pause(work, comment=0.8, edit=0.2)
        roll = rng.random()
        if roll < 0.04:
            life.move("cancelled", comment=True)
            return
        if roll > 0.3:
            life.move("in_review")
            yield from life.pause(rng.randint(HOUR, 12 * HOUR), comment=0.7)
            if rng.random() < 0.15:
                life.move("in_progress", comment=True)
                yield from life.pause(rng.randint(2 * HOUR, 2 * WORK_DAY))
                life.move("in_review")
                yield from life.pause(rng.randint(HOUR, 8 * HOUR))
        life.move("done")
        blockers = sorted(life.state.blocked_by)
        if blockers and rng.random() < 0.3:
            world.do(life.worker, ISSUE, issue_id, issue.RemoveDependency(blockers[0]))
        if round_ or rng.random() >= 0.04:
            return
        yield from life.pause(rng.randint(2 * WORK_DAY, 10 * WORK_DAY))
        life.move("todo", comment=True)


class _IssueLife:
    """The moves one issue makes, and the talk and edits between them."""

    def __init__(self, world: _World, issue_id: UUID, team_id: UUID, reporter: UUID) -> None:
        self.world = world
        self.issue_id = issue_id
        self.team_id = team_id
        self.reporter = reporter

    @property
    def state(self) -> issue.Issue:
        return self.world.issue(self.issue_id)

    @property
    def worker(self) -> UUID:
        """Who acts on the issue now: its assignee, else its reporter (while they are active)."""
        return self.world.acting(self.state.assignee_id or self.reporter, self.team_id)

    def pause(self, delay: int, *, comment: float = 0.0, edit: float = 0.0) -> Agent:
        """Waits ``delay``; somewhere in it, maybe a comment and maybe an edit."""
        rng = self.world.rng
        if comment and rng.random() < comment:
            part = rng.randint(0, delay)
            yield part
            delay -= part
            self.comment()
        if edit and rng.random() < edit:
            part = rng.randint(0, delay)
            yield part
            delay -= part
            self.edit()
        yield delay

    def comment(self) -> None:
        world = self.world
        author = self.worker if world.rng.random() < 0.6 else world.team_member(self.team_id)
        body = f"{world.rng.choice(WORDS).capitalize()} looks {world.rng.choice(('fine', 'odd'))}."
        world.do(
            author,
            ISSUE,
            self.issue_id,
            issue.CommentOnIssue(world.new_id(), str(author), body),
        )

    def edit(self) -> None:
        world = self.world
        rng = world.rng
        state = self.state
        roll = rng.random()
        edit: issue.EditIssue
        if roll < 0.3:
            edit = issue.EditIssue(estimate=rng.choice((1.0, 2.0, 3.0, 5.0, 8.0)))
        elif roll < 0.55:
            edit = issue.EditIssue(priority=_weighted(rng, PRIORITIES))
        elif roll < 0.7:
            edit = issue.EditIssue(due_date=world.today + timedelta(days=rng.randint(2, 30)))
        elif roll < 0.82:
            edit = issue.EditIssue(labels=(*state.labels[:1], rng.choice(LABELS)))
        elif roll < 0.92 or state.kind != "incident":
            edit = issue.EditIssue(title=f"{state.title} ({rng.choice(WORDS)})")
        else:
            edit = issue.EditIssue(severity=rng.choice(("sev2", "sev3")))
        world.do(self.worker, ISSUE, self.issue_id, edit)

    def assign(self) -> None:
        world = self.world
        assignee = world.team_member(self.team_id)
        actor = self.world.acting(self.reporter, self.team_id)
        world.do(actor, ISSUE, self.issue_id, issue.AssignIssue(assignee, True))

    def move(self, status: issue.Status, *, comment: bool = False) -> None:
        if comment:
            self.comment()
        self.world.do(self.worker, ISSUE, self.issue_id, issue.TransitionIssue(status))


# Operations: recurring work, the scheduler's ticks, and the occurrences done or skipped.


def _cadence(rng: random.Random) -> Cadence:
    roll = rng.random()
    if roll < 0.1:
        return make_cadence("day")
    if roll < 0.6:
        return make_cadence("week", 1, tuple(sorted(rng.sample(range(5), rng.choice((1, 1, 2))))))
    if roll < 0.75:
        return make_cadence("week", 2)
    return make_cadence("month", 1, (), rng.randint(1, 28))


def _operations(world: _World) -> Agent:
    rng = world.rng
    org = world.org
    for team_id in org.teams:
        for number in range(2):
            operation_id = world.new_id()
            owner = org.managers[team_id]
            assignee = world.team_member(team_id) if rng.random() < 0.85 else None
            world.do(
                owner,
                OPERATION,
                operation_id,
                operation.CreateOperation(
                    operation_id=operation_id,
                    title=f"{rng.choice(('Review', 'Rotate', 'Audit', 'Report on'))} "
                    f"{rng.choice(WORDS)} ({number + 1})",
                    team_id=team_id,
                    owner_id=owner,
                    cadence=_cadence(rng),
                    start_date=world.today + timedelta(days=rng.randint(0, 10)),
                    runbook=RUNBOOK[: rng.randint(1, len(RUNBOOK))],
                    estimate=rng.choice((None, 0.5, 1.0, 2.0)),
                    assignee_id=assignee,
                ),
            )
            world.created["operation"] += 1
            org.operations.append(operation_id)
            org.team_operations[team_id].append(operation_id)
    while True:
        yield WORK_WEEK
        for operation_id in org.operations:
            state: operation.Operation = world.states[operation_id]
            roll = rng.random()
            owner = state.owner_id
            if state.status == "retired":
                continue
            if state.status == "paused":
                if roll < 0.4:
                    world.do(owner, OPERATION, operation_id, operation.ResumeOperation())
            elif roll < 0.01:
                world.do(owner, OPERATION, operation_id, operation.PauseOperation())
            elif roll < 0.013:
                world.do(owner, OPERATION, operation_id, operation.RetireOperation())
            elif roll < 0.02:
                cadence = _cadence(rng)
                world.do(owner, OPERATION, operation_id, operation.ChangeCadence(cadence))
            elif roll < 0.03:
                assignee = world.team_member(state.team_id)
                world.do(
                    owner,
                    OPERATION,
                    operation_id,
                    operation.ChangeOperationAssignee(assignee, True),
                )
            elif roll < 0.035:
                world.do(owner, OPERATION, operation_id, operation.EditRunbook(RUNBOOK))


def _scheduler(world: _World) -> Agent:
    """Ticks every working morning, scheduling occurrences 14 days ahead, as ``serve`` does."""
    rng = world.rng
    while True:
        until = world.today + timedelta(days=14)
        for operation_id in world.org.operations:
            events = world.do(
                "system:scheduler",
                OPERATION,
                operation_id,
                operation.ScheduleOccurrences(until),
            )
            for event in events:
                if isinstance(event, operation.OccurrenceScheduled):
                    world.created["occurrence"] += 1
                    at = world.day_time(event.due_date, rng.uniform(0.5, 9.5))
                    world.spawn(_occurrence(world, operation_id, event), at)
        yield WORK_DAY


def _occurrence(
    world: _World, operation_id: UUID, scheduled: operation.OccurrenceScheduled
) -> Agent:
    rng = world.rng
    yield rng.randint(0, WORK_DAY)
    state: operation.Operation = world.states[operation_id]
    occurrence = state.occurrences.get(scheduled.due_date)
    if occurrence is None or occurrence.status != "scheduled":
        return
    actor = world.acting(occurrence.assignee_id or state.owner_id, state.team_id)
    roll = rng.random()
    if roll < 0.85:
        command: operation.OperationCommand = operation.CompleteOccurrence(
            scheduled.due_date, "done per runbook"
        )
    elif roll < 0.93:
        command = operation.SkipOccurrence(scheduled.due_date, "not needed this time")
    else:
        return
    world.do(actor, OPERATION, operation_id, command)


# People: capacity changes, role changes, moves between teams, a few departures.


def _people(world: _World) -> Agent:
    rng = world.rng
    org = world.org
    weeks = world.horizon // WORK_WEEK
    for week in range(1, weeks):
        for _ in range(max(1, len(org.members) // 100)):
            member_id = rng.choice(org.members)
            if not world.active(member_id) or world.states[member_id].role == "viewer":
                continue
            admin = org.admins[0] if org.admins else "system"
            roll = rng.random()
            if roll < 0.5:
                capacity = float(rng.choice((6, 8, 10, 12)))
                world.do(admin, MEMBER, member_id, member.SetMemberCapacity(capacity))
            elif roll < 0.7:
                team_id = rng.choice(org.teams)
                manager = org.managers[team_id]
                if member_id not in world.states[team_id].member_ids:
                    world.do(manager, TEAM, team_id, team.AddTeamMember(member_id, True))
                    org.team_members[team_id].append(member_id)
            elif roll < 0.8:
                state: member.Member = world.states[member_id]
                if state.role == "member":
                    world.do(admin, MEMBER, member_id, member.ChangeMemberRole("manager"))
            elif (
                week > weeks * 3 // 4
                and member_id not in org.managers.values()
                and member_id not in org.admins
            ):
                world.do(admin, MEMBER, member_id, member.DeactivateMember())
        if week % 4 == 0:
            team_id = rng.choice(org.teams)
            world.do(
                org.managers[team_id],
                TEAM,
                team_id,
                team.SetWorkingAgreement(f"Revision {week}: we swarm on incidents first."),
            )
        yield WORK_WEEK
