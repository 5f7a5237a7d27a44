"""The simulation the demo runs: actors that act at moments, and the organisation they share.

Every object's life (an issue, a project, a goal, an operation, the people, the scheduler) is an
*actor*: a generator that does what it does at the current moment (``World.emit`` writes the
command as an import line) and then yields the moment it acts next. A heap of actors keyed by
that moment runs them in time order, so lines come out in time order, and an actor deciding at a
moment sees the organisation exactly as the earlier lines left it: a project closed before an
issue arrives gets no new issue, a member who left gets no work. Ties are broken by the order in
which actors were scheduled, so the same seed gives the same lines.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from services.importing.demo.calendar import Calendar
from services.importing.lines import ImportLine, line

Actor = Generator[int, None, None]
"""Acts at the moment it is resumed at; each ``yield`` is the moment it acts next."""

_VERSION_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)
# How many of its latest issues a team keeps in view, for new ones to wait on or sit under.
RECENT_ISSUES = 80


@dataclass(eq=False)
class Person:
    """A member; ``away`` holds the spans (start, stop) when they are deactivated."""

    id: UUID
    name: str
    email: str
    role: str
    capacity: float
    joined: int
    team: Team | None = None
    away: list[tuple[int, int | None]] = field(default_factory=list)

    def available(self, moment: int, margin: int = 0) -> bool:
        """Registered and active at ``moment``, and not leaving within ``margin`` seconds."""
        if moment <= self.joined:
            return False
        return not any(
            start - margin <= moment and (stop is None or moment < stop)
            for start, stop in self.away
        )

    @property
    def works(self) -> bool:
        """Takes on issues and occurrences (viewers and admins only follow and decide)."""
        return self.role in ("member", "manager")


@dataclass(eq=False)
class Team:
    id: UUID
    name: str
    pace: float
    """How long this team's work takes, relative to the organisation's usual pace."""
    share: float
    """The team's share of the organisation's incoming issues."""
    manager: Person | None = None
    people: list[Person] = field(default_factory=list)
    idle_from: int | None = None
    """From this moment the team barely triages or starts anything."""
    recent: deque[IssueRecord] = field(default_factory=lambda: deque(maxlen=RECENT_ISSUES))
    projects: list[ProjectRecord] = field(default_factory=list)
    operations: list[OperationRecord] = field(default_factory=list)

    def workers(self, moment: int, margin: int = 0) -> list[Person]:
        return [
            person for person in self.people if person.works and person.available(moment, margin)
        ]

    def is_idle(self, moment: int) -> bool:
        return self.idle_from is not None and moment >= self.idle_from


@dataclass(eq=False)
class IssueRecord:
    """What other issues may know of an issue: to wait on it, or to become its sub-issue."""

    id: UUID
    kind: str
    project: ProjectRecord | None
    status: str
    number: int
    """Issues are numbered as they are created; one waits only on an earlier one, so
    dependencies never form a cycle."""


@dataclass(eq=False)
class ProjectRecord:
    id: UUID
    name: str
    key: str
    team: Team
    status: str = "proposed"
    weight: float = 1.0
    """How much of its team's new work lands in it while it is open."""
    slipping: bool = False
    closers: list[Callable[[], None]] = field(default_factory=list)
    """What closes the project's open issues when the project is completed or cancelled."""

    @property
    def open(self) -> bool:
        return self.status not in ("completed", "cancelled")


@dataclass(eq=False)
class GoalRecord:
    id: UUID
    title: str
    team: Team | None
    quarter: int
    """0 for the earlier quarter, 1 for the current one."""
    created: int


@dataclass(eq=False)
class OperationRecord:
    id: UUID
    title: str
    team: Team


class World:
    """The organisation as the lines so far have made it, the clock, and the actors' schedule."""

    def __init__(self, seed: int, calendar: Calendar) -> None:
        self.rng = random.Random(seed)
        self.calendar = calendar
        self.now = 0
        self.teams: list[Team] = []
        self.people: list[Person] = []
        self.admin: Person | None = None
        self.viewers: list[Person] = []
        self.goals: list[GoalRecord] = []
        self.issues_created = 0
        self._schedule: list[tuple[int, int, Actor]] = []
        self._sequence = 0
        self._outbox: list[ImportLine] = []

    def new_id(self) -> UUID:
        """A random (version 4) UUID drawn from the seeded generator."""
        return UUID(int=(self.rng.getrandbits(128) & _VERSION_CLEAR) | _VERSION_4)

    def spawn(self, actor: Actor, at: int) -> None:
        """Runs ``actor`` from ``at`` on (not before the current moment)."""
        self._sequence += 1
        heapq.heappush(self._schedule, (max(at, self.now), self._sequence, actor))

    def call_at(self, moment: int, action: Callable[[], None]) -> None:
        """Runs ``action`` once, at ``moment``."""
        self.spawn(_once(action), moment)

    def emit(
        self,
        command: str,
        actor: Person | None,
        body: dict[str, Any] | None = None,
        *,
        id: UUID | None = None,
    ) -> None:
        """The command as an import line at the current moment."""
        moment = self.calendar.datetime(self.now)
        made = line(command, moment, actor.id if actor else None, body, id=id)
        self._outbox.append(made)

    def run(self) -> Iterator[ImportLine]:
        """Runs the actors in time order up to the calendar's end, yielding their lines."""
        end = self.calendar.end
        schedule = self._schedule
        while schedule and schedule[0][0] <= end:
            moment, _, actor = heapq.heappop(schedule)
            self.now = moment
            following = next(actor, None)
            if self._outbox:
                yield from self._outbox
                self._outbox.clear()
            if following is not None:
                self._sequence += 1
                heapq.heappush(schedule, (max(following, moment), self._sequence, actor))

    # What actors ask of the organisation

    def today(self) -> date:
        return self.calendar.day(self.now)

    def goals_of(self, team: Team | None, moment: int) -> list[GoalRecord]:
        """Goals of ``team`` (company goals for ``None``) of the quarter holding ``moment``
        that exist by then."""
        day = self.calendar.day(moment)
        quarter = 1 if day >= self.calendar.current.start else 0
        return [
            goal
            for goal in self.goals
            if goal.team is team and goal.quarter == quarter and goal.created < moment
        ]


def _once(action: Callable[[], None]) -> Actor:
    action()
    # A generator that acts once and is done: it never yields.
    yield from ()
