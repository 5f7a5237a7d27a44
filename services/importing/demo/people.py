"""Teams and members: who is there on the first day, and who joins, leaves, moves or changes.

The first lines of the history are the system creating the teams and the first admin; the admin
then registers everyone else into their teams and the team leads write their working agreements.
Afterwards a few people join, leave for good, take a few weeks off (deactivated, then reactivated),
move team, go part-time or are promoted. Leaving is planned up front (``Person.away``), so no one
is given work days before they go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from services.importing.demo.calendar import DAY, HOUR, MINUTE
from services.importing.demo.names import DOMAIN, FIRST_NAMES, LAST_NAMES, TEAM_NAMES
from services.importing.demo.plan import DemoPlan
from services.importing.demo.world import Actor, Person, Team, World

# Each team's pace (how long its work takes), size and share of incoming work, by position; the
# first four carry the insight situations (see the package docstring).
TEAM_PROFILES: tuple[tuple[float, float, float], ...] = (
    (0.75, 1.4, 1.3),  # fast and busy: home of the overloaded member
    (1.5, 1.0, 0.9),  # slow: owns the slipping project
    (1.2, 1.1, 1.0),  # work ages in progress here
    (1.3, 0.7, 0.7),  # goes idle while its triage queue grows
    (0.9, 1.1, 1.1),
    (1.0, 1.0, 1.0),
    (1.1, 0.9, 0.8),
    (0.85, 0.9, 1.0),
)
OTHER_PACES = (0.9, 1.0, 1.1, 1.2)
FULL_TIME = (8.0, 10.0, 10.0, 12.0)
PART_TIME = (4.0, 5.0, 6.0)
IDLE_WEEKS = 8
WORKING_AGREEMENT = (
    "We pick up work from the top of the queue, review each other's changes within a day, "
    "and keep no more than two things in progress each."
)
DEFINITION_OF_DONE = ("Reviewed by a teammate", "Tests pass", "Released", "Docs updated")


@dataclass
class Organisation:
    """The people the other parts of the demo lean on."""

    teams: list[Team]
    admins: list[Person]
    overloaded: Person
    """Full-time, in the first team, never leaves: gets far more work than they can do."""
    setup: int
    """When the teams and people were registered."""


def _profile(index: int) -> tuple[float, float, float]:
    if index < len(TEAM_PROFILES):
        return TEAM_PROFILES[index]
    return OTHER_PACES[index % len(OTHER_PACES)], 1.0, 1.0


def _team_name(index: int) -> str:
    name = TEAM_NAMES[index % len(TEAM_NAMES)]
    return name if index < len(TEAM_NAMES) else f"{name} {index // len(TEAM_NAMES) + 1}"


class _Registry:
    """Unique names and emails for new people."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.names: set[str] = set()
        self.emails: set[str] = set()

    def person(self, role: str, capacity: float, joined: int) -> Person:
        rng = self.world.rng
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        while name in self.names:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        self.names.add(name)
        local = name.lower().replace(" ", ".")
        email, number = f"{local}@{DOMAIN}", 1
        while email in self.emails:
            number += 1
            email = f"{local}{number}@{DOMAIN}"
        self.emails.add(email)
        person = Person(self.world.new_id(), name, email, role, capacity, joined)
        self.world.people.append(person)
        return person


def _member_body(person: Person, team: Team | None) -> dict[str, object]:
    return {
        "name": person.name,
        "email": person.email,
        "role": person.role,
        "weekly_capacity": person.capacity,
        "team_ids": [str(team.id)] if team else [],
    }


def start_people(world: World, plan: DemoPlan) -> Organisation:
    """Plans the organisation's teams and people, and starts the actor writing their history
    on the first working day of the history."""
    calendar, rng = world.calendar, world.rng
    first = calendar.first_day
    while first.weekday() >= 5:
        first += timedelta(days=1)
    setup = calendar.at(first, 9 * HOUR)
    registry = _Registry(world)
    teams = []
    for index in range(plan.teams):
        pace, _, share = _profile(index)
        teams.append(Team(world.new_id(), _team_name(index), pace, share))
    world.teams = teams
    idle_team = teams[3]
    idle_team.idle_from = calendar.end - IDLE_WEEKS * 7 * DAY
    admins = [registry.person("admin", 2.0, setup), registry.person("admin", 2.0, setup + 600)]
    world.admin = admins[0]
    viewer_count = max(1, round(plan.members * 0.02))
    viewers = [registry.person("viewer", 0.0, setup + 900) for _ in range(viewer_count)]
    world.viewers = viewers
    for team in teams:
        team.manager = registry.person("manager", 6.0, setup + 1200)
    doers = plan.members - len(admins) - len(viewers) - len(teams)
    sizes = _team_sizes([_profile(index)[1] for index in range(len(teams))], doers)
    history = calendar.end - setup
    joins: list[tuple[int, Person, Team]] = []
    for team, size in zip(teams, sizes, strict=True):
        for seat in range(size):
            part_time = seat > 0 and rng.random() < 0.12
            capacity = rng.choice(PART_TIME if part_time else FULL_TIME)
            late = seat >= 3 and rng.random() < 0.08
            joined = setup + 1500 + seat
            if late:
                joined = setup + rng.randint(2 * 7 * DAY, max(history - 3 * 7 * DAY, 3 * 7 * DAY))
                joined = calendar.working_at(calendar.day(joined), rng.uniform(0.5, 7.0))
            person = registry.person("member", capacity, joined)
            person.team = team
            if late:
                joins.append((joined, person, team))
            else:
                team.people.append(person)
        assert team.manager is not None
        team.manager.team = team
        team.people.append(team.manager)
    overloaded = teams[0].people[0]
    overloaded.capacity = 8.0
    organisation = Organisation(teams, admins, overloaded, setup)
    world.spawn(_setup(world, organisation, {id(person) for _, person, _ in joins}), setup)
    _plan_changes(world, organisation, setup, joins)
    return organisation


def _team_sizes(weights: list[float], doers: int) -> list[int]:
    """``doers`` spread over the teams by weight, at least three each."""
    total = sum(weights)
    sizes = [max(3, int(doers * weight / total)) for weight in weights]
    index = 0
    while sum(sizes) < doers:
        sizes[index % len(sizes)] += 1
        index += 1
    return sizes


def _plan_changes(
    world: World, organisation: Organisation, setup: int, joins: list[tuple[int, Person, Team]]
) -> None:
    """Schedules what changes later: late joiners; departures, a leave of absence, a team move,
    a part-time switch and a promotion among ordinary members (never the overloaded one)."""
    calendar, rng = world.calendar, world.rng
    admin = organisation.admins[0]
    for joined, person, team in joins:
        world.call_at(joined, _join(world, admin, person, team))
    spare = [
        person
        for team in organisation.teams
        for person in team.people[1:]
        if person.role == "member" and person is not organisation.overloaded
    ]
    rng.shuffle(spare)
    history = calendar.end - setup

    def moment(low: float, high: float) -> int:
        return calendar.working_at(
            calendar.day(setup + int(history * rng.uniform(low, high))), rng.uniform(1, 8)
        )

    def deactivate(person: Person) -> Callable[[], None]:
        return lambda: world.emit(f"POST /v1/members/{person.id}/deactivate", admin)

    leavers = max(1, round(len(world.people) * 0.025))
    for person in spare[:leavers]:
        left = moment(0.25, 0.9)
        person.away.append((left, None))
        world.call_at(left, deactivate(person))
    rest = spare[leavers:]
    if rest:
        away = rest.pop()
        start = moment(0.3, 0.6)
        stop = start + 21 * DAY
        away.away.append((start, stop))
        world.call_at(start, deactivate(away))
        world.call_at(stop, lambda: world.emit(f"POST /v1/members/{away.id}/reactivate", admin))
    if rest and len(organisation.teams) > 1:
        mover = rest.pop()
        others = [team for team in organisation.teams if team is not mover.team]
        world.call_at(moment(0.4, 0.7), _move(world, mover, rng.choice(others)))
    if rest:
        part_timer = rest.pop()

        def go_part_time() -> None:
            part_timer.capacity = 5.0
            body = {"weekly_capacity": part_timer.capacity}
            world.emit(f"PATCH /v1/members/{part_timer.id}", admin, body)

        world.call_at(moment(0.3, 0.8), go_part_time)
    if rest:
        promoted = rest.pop()

        def promote() -> None:
            promoted.role = "manager"
            world.emit(f"PATCH /v1/members/{promoted.id}", admin, {"role": "manager"})

        world.call_at(moment(0.5, 0.8), promote)


def _join(world: World, admin: Person, person: Person, team: Team) -> Callable[[], None]:
    def join() -> None:
        world.emit("POST /v1/members", admin, _member_body(person, team), id=person.id)
        team.people.append(person)

    return join


def _move(world: World, person: Person, team: Team) -> Callable[[], None]:
    def move() -> None:
        old = person.team
        assert old is not None
        world.emit(f"DELETE /v1/teams/{old.id}/members/{person.id}", old.manager)
        body = {"member_id": str(person.id)}
        world.emit(f"POST /v1/teams/{team.id}/members", team.manager, body)
        old.people.remove(person)
        team.people.append(person)
        person.team = team

    return move


def _setup(world: World, organisation: Organisation, joiners: set[int]) -> Actor:
    """The first lines: the system creates the teams and the first admin, who registers
    everyone else and names each team's manager its lead; then each lead writes the team's
    working agreement."""
    admin = organisation.admins[0]
    for team in organisation.teams:
        world.emit("POST /v1/teams", None, {"name": team.name}, id=team.id)
    world.emit("POST /v1/members", None, _member_body(admin, None), id=admin.id)
    yield world.now + MINUTE
    for person in world.people[1:]:
        if id(person) not in joiners:
            world.emit("POST /v1/members", admin, _member_body(person, person.team), id=person.id)
    for team in organisation.teams:
        assert team.manager is not None
        body = {"member_id": str(team.manager.id)}
        world.emit(f"POST /v1/teams/{team.id}/leads", admin, body)
    yield world.now + 10 * MINUTE
    for team in organisation.teams:
        lead = team.manager
        world.emit(f"PUT /v1/teams/{team.id}/working-agreement", lead, {"text": WORKING_AGREEMENT})
        items = list(DEFINITION_OF_DONE[: 3 + len(team.people) % 2])
        world.emit(f"PUT /v1/teams/{team.id}/definition-of-done", lead, {"items": items})
