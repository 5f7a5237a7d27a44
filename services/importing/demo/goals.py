"""Goals: a company-to-team tree per quarter, key results of every unit, weekly check-ins.

Each quarter's company goals are drafted ten days before it starts and its team goals a week
before, each under a company goal; both get their key results at once and are activated on the
quarter's first Monday. Owners check in every key result each Friday (about half of them skip it
over the holidays; nobody skips the quarter's last). The earlier quarter's goals are closed the
Wednesday after it ends, achieved or missed by how far they got (about half each: their
ambitions alternate), except one abandoned half-way; one draft is dropped before it ever starts.
The current quarter's goals are active, and one of them lags far behind the time that has passed.

Progress follows each goal's *ambition* (how far it gets by the end of its quarter): the share
of the target reached at a moment is the ambition times the share of the quarter that has passed,
with a little noise; checked-in values are read from (or towards) the target in each unit's way,
and a yes-or-no key result turns to done once the work is far enough along.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from services.importing.demo.calendar import DAY, HOUR, MINUTE, Quarter
from services.importing.demo.names import COMPANY_GOALS, TEAM_GOALS
from services.importing.demo.people import Organisation
from services.importing.demo.plan import DemoPlan
from services.importing.demo.world import Actor, GoalRecord, Person, Team, World

LAGGING_GOAL_TITLE = "Launch the new checkout to every market"
"""The current quarter's goal whose progress is far behind the time passed (team Checkout)."""
LAGGING_AMBITION = 0.2
ACHIEVED_FROM = 0.85
ABANDONED_WEEK = 6

# Key results by unit: title, start and target (a falling target is an improvement too).
KEY_RESULTS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "number": (
        ("Weekly active accounts", 1200, 1800),
        ("p95 API latency in ms", 850, 400),
        ("Paging incidents per month", 14, 4),
        ("Open customer bugs", 120, 40),
    ),
    "percent": (
        ("Checkout conversion (%)", 2.1, 3.0),
        ("Test coverage (%)", 61, 80),
        ("Releases without a rollback (%)", 82, 97),
    ),
    "currency": (
        ("Monthly recurring revenue", 1_200_000, 1_450_000),
        ("Monthly cloud spend", 84_000, 70_000),
    ),
    "boolean": (("SOC 2 report published", 0, 1), ("New pricing page live", 0, 1)),
}
UNITS = ("number", "percent", "currency", "boolean")


@dataclass(frozen=True)
class _KeyResult:
    title: str
    unit: str
    start: float
    target: float
    ambition: float
    done_from: float = 1.0


@dataclass
class _Goal:
    title: str
    owner: Person
    team: Team | None
    quarter: Quarter
    quarter_index: int
    parent: _Goal | None
    ambition: float
    key_results: list[_KeyResult]
    abandoned: bool = False
    retitled: bool = False
    record: GoalRecord | None = None


def start_goals(world: World, plan: DemoPlan, organisation: Organisation) -> None:
    """Plans both quarters' goals and starts an actor for each."""
    rng = world.rng
    calendar = world.calendar
    unit_turn = 0
    for quarter_index, quarter in enumerate((calendar.previous, calendar.current)):
        goals: list[_Goal] = []
        company: list[_Goal] = []
        for index in range(plan.company_goals_per_quarter):
            owner = organisation.admins[index % len(organisation.admins)]
            title = COMPANY_GOALS[index % len(COMPANY_GOALS)]
            goal = _Goal(title, owner, None, quarter, quarter_index, None, 0.0, [])
            company.append(goal)
            goals.append(goal)
        for team_index, team in enumerate(organisation.teams):
            assert team.manager is not None
            for index in range(plan.goals_per_team_per_quarter):
                title = TEAM_GOALS[(team_index + index) % len(TEAM_GOALS)]
                parent = company[(team_index + index) % len(company)]
                goal = _Goal(title, team.manager, team, quarter, quarter_index, parent, 0.0, [])
                goals.append(goal)
        for index, goal in enumerate(goals):
            if quarter_index == 1:
                goal.ambition = rng.uniform(0.85, 1.1)
            elif index % 2 == 0:
                goal.ambition = rng.uniform(1.05, 1.2)
            else:
                goal.ambition = rng.uniform(0.45, 0.65)
            for _ in range(2 + index % 2):
                unit = UNITS[unit_turn % len(UNITS)]
                unit_turn += 1
                title, start, target = rng.choice(KEY_RESULTS[unit])
                spread = rng.uniform(0.9, 1.1)
                done_from = rng.uniform(0.75, 0.88)
                goal.key_results.append(_KeyResult(title, unit, start, target, spread, done_from))
        if quarter_index == 1:
            lagging = next(goal for goal in goals if goal.team is organisation.teams[1])
            lagging.title, lagging.ambition = LAGGING_GOAL_TITLE, LAGGING_AMBITION
            goals[0].retitled = True
        else:
            goals[-1].abandoned = True
        for goal in goals:
            days_before = 10 if goal.team is None else 7
            day = quarter.start - timedelta(days=days_before)
            moment = calendar.working_at(day, rng.uniform(1, 7))
            world.spawn(_life(world, goal), moment)
    dropped = organisation.teams[-1]
    assert dropped.manager is not None
    day = calendar.previous.start + timedelta(weeks=2)
    world.spawn(_dropped_draft(world, dropped, dropped.manager), calendar.working_at(day, 2))


def _body(goal: _Goal) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": goal.title,
        "owner_id": str(goal.owner.id),
        "period_start": goal.quarter.start.isoformat(),
        "period_end": goal.quarter.end.isoformat(),
    }
    if goal.team is not None:
        body["team_id"] = str(goal.team.id)
    if goal.parent is not None and goal.parent.record is not None:
        body["parent_id"] = str(goal.parent.record.id)
    return body


def _value(kr: _KeyResult, progress: float) -> float:
    """The value a key result reads at ``progress`` (0: its start, 1: its target); a boolean
    one is done once the goal's work is ``done_from`` of the way."""
    if kr.unit == "boolean":
        return 1.0 if progress >= kr.done_from else 0.0
    value = kr.start + (kr.target - kr.start) * progress
    if kr.unit == "currency":
        return float(round(value, -2))
    if kr.unit == "percent":
        return round(min(max(value, 0.0), 100.0), 1)
    return float(round(value)) if abs(kr.target - kr.start) >= 20 else round(value, 1)


def _progress(kr: _KeyResult, value: float) -> float:
    """How far ``value`` is from the start towards the target, clamped to [0, 1] (the domain's
    ``goal.progress_between``)."""
    return min(max((value - kr.start) / (kr.target - kr.start), 0.0), 1.0)


def _life(world: World, goal: _Goal) -> Actor:
    rng, calendar = world.rng, world.calendar
    goal_id = world.new_id()
    owner = goal.owner
    world.emit("POST /v1/goals", owner, _body(goal), id=goal_id)
    record = GoalRecord(goal_id, goal.title, goal.team, goal.quarter_index, world.now)
    goal.record = record
    world.goals.append(record)
    yield world.now + 2 * MINUTE
    kr_ids = []
    for kr in goal.key_results:
        kr_id = world.new_id()
        kr_ids.append(kr_id)
        body = {"title": kr.title, "unit": kr.unit, "start": kr.start, "target": kr.target}
        world.emit(f"POST /v1/goals/{goal_id}/key-results", owner, body, id=kr_id)
    quarter = goal.quarter
    yield calendar.working_at(quarter.start, rng.uniform(0.5, 2))
    world.emit(f"POST /v1/goals/{goal_id}/activate", owner)
    length = (quarter.end - quarter.start).days + 1
    friday = quarter.start + timedelta(days=4)
    values = [kr.start for kr in goal.key_results]
    for week in range(1, 14):
        if goal.abandoned and week == ABANDONED_WEEK:
            yield calendar.working_at(friday, rng.uniform(1, 6))
            world.emit(f"POST /v1/goals/{goal_id}/close", owner, {"outcome": "abandoned"})
            return
        if goal.retitled and week == 2:
            yield calendar.working_at(friday, rng.uniform(1, 5))
            world.emit(f"PATCH /v1/goals/{goal_id}", owner, {"title": f"{goal.title}, measurably"})
        holiday_skip = calendar.is_holiday(friday) and rng.random() < 0.5
        if week == 13 or not holiday_skip:
            yield calendar.working_at(friday, rng.uniform(6, 9))
            elapsed = ((friday - quarter.start).days + 1) / length
            for index, kr in enumerate(goal.key_results):
                progress = goal.ambition * kr.ambition * elapsed + rng.uniform(-0.04, 0.04)
                value = _value(kr, min(max(progress, 0.0), 1.05))
                note = "No change this week." if value == values[index] else ""
                values[index] = value
                world.emit(
                    f"POST /v1/goals/{goal_id}/key-results/{kr_ids[index]}/check-ins",
                    owner,
                    {"value": value, "note": note},
                )
                yield world.now + rng.randint(1, 4) * MINUTE
        friday += timedelta(weeks=1)
    yield calendar.working_at(quarter.end + timedelta(days=3), rng.uniform(1, 4))
    reached = sum(_progress(kr, value) for kr, value in zip(goal.key_results, values, strict=True))
    achieved = reached / len(values) >= ACHIEVED_FROM
    world.emit(
        f"POST /v1/goals/{goal_id}/close", owner, {"outcome": "achieved" if achieved else "missed"}
    )


def _dropped_draft(world: World, team: Team, owner: Person) -> Actor:
    """A goal drafted in the earlier quarter and dropped a week later, before it started."""
    goal_id = world.new_id()
    quarter = world.calendar.previous
    body = {
        "title": "Rebuild the reporting stack",
        "owner_id": str(owner.id),
        "team_id": str(team.id),
        "period_start": quarter.start.isoformat(),
        "period_end": quarter.end.isoformat(),
    }
    world.emit("POST /v1/goals", owner, body, id=goal_id)
    world.goals.append(GoalRecord(goal_id, body["title"], team, 0, world.now))
    yield world.now + 7 * DAY + HOUR
    world.emit(f"POST /v1/goals/{goal_id}/close", owner, {"outcome": "abandoned"})
