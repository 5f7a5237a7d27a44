"""Projects: proposed, started, held, finished or dropped, with milestones and weekly health.

Each project gets a *fate* (the state it is in at the end) and a schedule that leads there along
the project lifecycle (``rules.PROJECT_MOVES``): completed projects ran their course in the past,
active ones are under way, one held project stays on hold and another resumed, one cancelled
project was stopped half-way and another dropped while still proposed, and the newest are still
proposed. Milestones are added when a project is proposed and completed around their due dates;
the owner posts the project's health every Thursday while it is active, and links it to its
team's goals as they appear.

The slipping project (``SLIPPING_PROJECT_KEY``, team Checkout) started ten weeks before the end,
has already had its target moved once, is due in under two weeks, has a late milestone and
reports at risk, then off track; its team is slow and much new work lands in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from services.importing.demo.calendar import DAY, HOUR, MINUTE
from services.importing.demo.names import HEALTH_NOTES, MILESTONES, PROJECT_THEMES
from services.importing.demo.people import Organisation
from services.importing.demo.plan import DemoPlan
from services.importing.demo.rules import PROJECT_MOVES
from services.importing.demo.world import Actor, Person, ProjectRecord, Team, World

SLIPPING_PROJECT_KEY = "CHKOUT"
# Fates every demo has, then the mix the rest are drawn from in turn.
GUARANTEED_FATES = (
    "slipping",
    "active",
    "on_hold",
    "completed",
    "cancelled",
    "proposed",
    "dropped",
)
FATES = (
    "completed", "active", "active", "completed", "on_hold", "resumed", "proposed",
    "completed", "cancelled", "active", "completed", "active",
)  # fmt: skip


@dataclass
class _Schedule:
    """A project's planned life, moments and dates."""

    record: ProjectRecord
    owner: Person
    created: int
    start: date
    target: date
    moves: list[tuple[int, str]] = field(default_factory=list)
    milestones: list[tuple[str, date, int | None]] = field(default_factory=list)
    reschedule: tuple[int, date] | None = None
    rename: int | None = None


def start_projects(world: World, plan: DemoPlan, organisation: Organisation) -> ProjectRecord:
    """Plans every project and starts an actor for each; answers the slipping project."""
    slipping: ProjectRecord | None = None
    themes = [theme for theme in PROJECT_THEMES if theme[1] != SLIPPING_PROJECT_KEY]
    used_keys: set[str] = set()
    for index in range(plan.projects):
        if index < len(GUARANTEED_FATES):
            fate = GUARANTEED_FATES[index]
        else:
            fate = FATES[(index - len(GUARANTEED_FATES)) % len(FATES)]
        if fate == "slipping":
            team = organisation.teams[1]
            theme = next(theme for theme in PROJECT_THEMES if theme[1] == SLIPPING_PROJECT_KEY)
        else:
            team = organisation.teams[index % len(organisation.teams)]
            theme = themes[index % len(themes)]
        name, key = theme
        # Past the list of themes, a second round of the same themes: "Audit trail 2", AUDIT2.
        round_ = 1
        while key in used_keys:
            round_ += 1
            name, key = f"{theme[0]} {round_}", f"{theme[1][:8]}{round_}"
        used_keys.add(key)
        record = ProjectRecord(world.new_id(), name, key, team, slipping=fate == "slipping")
        if record.slipping:
            record.weight = 4.0
            slipping = record
        schedule = _plan(world, record, fate, organisation.setup)
        world.spawn(_life(world, schedule), schedule.created)
    assert slipping is not None
    return slipping


def _owner(world: World, team: Team) -> Person:
    """The team lead, or a member who is there from the start and never away."""
    assert team.manager is not None
    steady = [person for person in team.people if person.role == "member" and not person.away]
    if steady and world.rng.random() < 0.5:
        return world.rng.choice(steady)
    return team.manager


def _plan(world: World, record: ProjectRecord, fate: str, setup: int) -> _Schedule:
    """The project's schedule; days are counted from the day the organisation was set up."""
    rng, calendar = world.rng, world.calendar
    first = calendar.day(setup)
    last = (calendar.end_day - first).days

    def day(offset: float) -> date:
        return first + timedelta(days=int(offset))

    def moment(offset: float, low: float = 1.0, high: float = 8.0) -> int:
        return calendar.working_at(day(offset), rng.uniform(low, high))

    owner = _owner(world, record.team)
    if fate == "slipping":
        began = last - 75
        schedule = _Schedule(record, owner, moment(began - 5), day(began), day(last + 3))
        schedule.moves.append((moment(began, 0.5, 1), "active"))
        schedule.reschedule = (moment(last - 21), day(last + 12))
        schedule.milestones = [
            (MILESTONES[0], day(last - 60), moment(last - 58)),
            (MILESTONES[2], day(last - 20), None),
            (MILESTONES[3], day(last + 12), None),
        ]
        return schedule
    if fate in ("completed", "cancelled"):
        start = rng.uniform(7, last - 80)
    elif fate in ("dropped", "proposed"):
        start = rng.uniform(21, last - 25) if fate == "dropped" else last - rng.uniform(5, 20)
    else:
        start = rng.uniform(max(7.0, last - 130), last - 45)
    created = max(1.0, start - rng.uniform(3, 12))
    if fate == "proposed":
        created, start = start, start + rng.uniform(14, 30)
    length = rng.uniform(42, 84)
    target = start + length
    if fate in ("active", "resumed", "on_hold"):
        target = max(target, last + rng.uniform(10, 60))
    schedule = _Schedule(record, owner, moment(created), day(start), day(target))
    finish: int | None = None
    if fate == "dropped":
        finish = moment(created + rng.uniform(7, 20))
        schedule.moves.append((finish, "cancelled"))
    elif fate != "proposed":
        schedule.moves.append((moment(start, 0.5, 1), "active"))
    if fate == "completed":
        finish = moment(min(target + rng.uniform(-7, 10), last - 3))
        schedule.moves.append((finish, "completed"))
    elif fate == "cancelled":
        finish = moment(start + rng.uniform(20, 45))
        schedule.moves.append((finish, "cancelled"))
    elif fate == "on_hold":
        schedule.moves.append((moment(last - rng.uniform(10, 35)), "on_hold"))
    elif fate == "resumed":
        held = last - rng.uniform(30, 40)
        schedule.moves += [(moment(held), "on_hold"), (moment(held + 14), "active")]
        schedule.rename = moment(held + 15)
    if fate == "active" and rng.random() < 0.4:
        schedule.reschedule = (moment(last - rng.uniform(5, 30)), day(target + rng.uniform(7, 21)))
    count = rng.randint(2, 4)
    for number in range(count):
        due = start + (target - start) * (number + 1) / count
        done_at = due + rng.uniform(-3, 8)
        done = moment(done_at) if rng.random() < 0.9 and fate != "dropped" else None
        if done is not None and finish is not None and done >= finish:
            done = finish - HOUR if fate == "completed" else None
        name = MILESTONES[number] if number < count - 1 else MILESTONES[3]
        schedule.milestones.append((name, day(due), done))
    return schedule


def _status_at(schedule: _Schedule, moment: int) -> str:
    status = "proposed"
    for when, to in schedule.moves:
        if when <= moment:
            status = to
    return status


def _health(world: World, schedule: _Schedule, moment: int) -> str:
    if schedule.record.slipping:
        weeks_left = (world.calendar.end - moment) / (7 * DAY)
        return "off_track" if weeks_left < 2 else "at_risk" if weeks_left < 5 else "on_track"
    draw = world.rng.random()
    return "off_track" if draw < 0.05 else "at_risk" if draw < 0.2 else "on_track"


def _timeline(world: World, schedule: _Schedule) -> list[tuple[int, int, str, Any]]:
    """Everything the project does after it is proposed, in time order."""
    rng, calendar = world.rng, world.calendar
    events: list[tuple[int, int, str, Any]] = []
    events += [(when, 0, "move", to) for when, to in schedule.moves]
    events += [
        (done, 1, "milestone", number)
        for number, (_, _, done) in enumerate(schedule.milestones)
        if done is not None
    ]
    if schedule.reschedule is not None:
        events.append((schedule.reschedule[0], 2, "reschedule", schedule.reschedule[1]))
    if schedule.rename is not None:
        events.append((schedule.rename, 3, "rename", None))
    thursday = schedule.start + timedelta(days=(3 - schedule.start.weekday()) % 7 + 7)
    while calendar.at(thursday) < calendar.end:
        when = calendar.working_at(thursday, rng.uniform(1.5, 4))
        if _status_at(schedule, when) == "active":
            events.append((when, 4, "health", None))
        thursday += timedelta(weeks=1)
    return sorted(events, key=lambda event: (event[0], event[1]))


def _life(world: World, schedule: _Schedule) -> Actor:
    rng = world.rng
    record, owner = schedule.record, schedule.owner
    team = record.team
    lead = team.manager
    linked: set[UUID] = set()
    goals = world.goals_of(team, world.now)
    body: dict[str, Any] = {
        "name": record.name,
        "key": record.key,
        "owner_id": str(owner.id),
        "team_id": str(team.id),
        "start_date": schedule.start.isoformat(),
        "target_date": schedule.target.isoformat(),
    }
    if goals:
        body["goal_ids"] = [str(goals[0].id)]
        linked.add(goals[0].id)
    world.emit("POST /v1/projects", lead, body, id=record.id)
    team.projects.append(record)
    yield world.now + HOUR
    milestone_ids = [world.new_id() for _ in schedule.milestones]
    for milestone_id, (name, due, _) in zip(milestone_ids, schedule.milestones, strict=True):
        body = {"name": name, "due_date": due.isoformat()}
        world.emit(f"POST /v1/projects/{record.id}/milestones", lead, body, id=milestone_id)
        yield world.now + MINUTE
    for when, _, kind, detail in _timeline(world, schedule):
        yield max(when, world.now + MINUTE)
        if kind == "move":
            assert (record.status, detail) in PROJECT_MOVES
            body = {"status": detail}
            world.emit(f"POST /v1/projects/{record.id}/status", lead, body)
            record.status = detail
            if not record.open:
                for close in record.closers:
                    close()
        elif kind == "milestone":
            path = f"/v1/projects/{record.id}/milestones/{milestone_ids[detail]}/complete"
            world.emit(f"POST {path}", lead)
        elif kind == "reschedule":
            world.emit(f"PATCH /v1/projects/{record.id}", lead, {"target_date": detail.isoformat()})
        elif kind == "rename":
            world.emit(f"PATCH /v1/projects/{record.id}", lead, {"name": f"{record.name} v2"})
        else:
            fresh = [goal for goal in world.goals_of(team, world.now) if goal.id not in linked]
            if fresh and rng.random() < 0.5:
                goal = fresh[0]
                linked.add(goal.id)
                world.emit(f"POST /v1/projects/{record.id}/goals", lead, {"goal_id": str(goal.id)})
                yield world.now + 2 * MINUTE
            health = _health(world, schedule, world.now)
            note = rng.choice(HEALTH_NOTES[health])
            world.emit(
                f"POST /v1/projects/{record.id}/health", owner, {"health": health, "note": note}
            )
