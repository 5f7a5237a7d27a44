"""Recurring operations, the scheduler's ticks, and occurrences done, done late or skipped.

Operations run on every kind of cadence: daily, every few days, on chosen weekdays, weekly on the
start's weekday, fortnightly, every four weeks, monthly on a day (the 31st falls on a short
month's last day) and quarterly. A tick line each night at 00:10 schedules every operation's
occurrences two weeks ahead, as the live scheduler does with its horizon; each occurrence is then
completed on its day, completed a few days late, skipped, or left open (overdue). Some operations
change along the way: one pauses over the holidays and resumes, one changes cadence, one gets a
new assignee, one a new runbook, one ends on a set date and one is retired.

The late operation (``LATE_OPERATION_TITLE``, in the idle team Support Tools) is done late or
skipped most weeks, and several of its occurrences are still open long after they were due.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from services.importing.demo.calendar import DAY, HOUR, MINUTE
from services.importing.demo.people import Organisation
from services.importing.demo.plan import DemoPlan
from services.importing.demo.schedule import Cadence, Schedule
from services.importing.demo.world import Actor, OperationRecord, Person, Team, World

LATE_OPERATION_TITLE = "Weekly access review"
TICK_AHEAD_DAYS = 14
TICK_AT = 10 * MINUTE


@dataclass(frozen=True)
class Template:
    title: str
    cadence: Cadence
    estimate: float
    """Per occurrence."""
    runbook: tuple[str, ...]


TEMPLATES: tuple[Template, ...] = (
    Template("Daily on-call handover", Cadence("day"), 0.5, ("Read the pager log", "Hand over")),
    Template(
        "Triage the support inbox",
        Cadence("week", weekdays=(0, 2, 4)),
        1.0,
        ("Label new tickets", "Escalate anything urgent"),
    ),
    Template("Dependency updates", Cadence("week"), 2.0, ("Merge the updates", "Run smoke tests")),
    Template("Sprint review", Cadence("week", 2, (3,)), 1.0, ("Demo what shipped",)),
    Template(
        "Invoice reconciliation",
        Cadence("month", day_of_month=1),
        3.0,
        ("Export the ledger", "Match payouts", "File differences"),
    ),
    Template("Month-end close", Cadence("month", day_of_month=31), 4.0, ("Close the books",)),
    Template("Restore a backup", Cadence("day", 14), 2.0, ("Restore to staging", "Count rows")),
    Template(
        "Quarterly access audit",
        Cadence("month", 3, day_of_month=15),
        3.0,
        ("List admin accounts", "Revoke what is unused"),
    ),
    Template("Rotate credentials", Cadence("week", 4), 1.0, ("Rotate API keys", "Update vault")),
    Template("Standup notes", Cadence("week", weekdays=(0, 1, 2, 3, 4)), 0.25, ("Post notes",)),
    Template("Capacity check", Cadence("day", 3), 0.5, ("Check disk and queue growth",)),
)
LATE_TEMPLATE = Template(
    LATE_OPERATION_TITLE,
    Cadence("week", weekdays=(0,)),
    2.0,
    ("Review admin grants", "Remove leavers", "Record the review"),
)
# Runs daily for the five weeks of a migration, then ends by itself (its end date).
TEMPORARY_TEMPLATE = Template(
    "Migration cutover checks",
    Cadence("day"),
    0.5,
    ("Compare row counts", "Check the replication lag"),
)
TEMPORARY_INDEX = 6
UNRELIABLE_PATTERN = ("late", "skip", "late", "either", "skip", "never")
SKIP_NOTES = ("Nothing to do this time.", "Covered by the incident review.", "Team away.")
LATE_NOTES = ("Done late, sorry.", "Caught up after the release.", "")


@dataclass(eq=False)
class _Operation:
    record: OperationRecord
    owner: Person
    assignee: Person | None
    schedule: Schedule
    reliable: bool
    settled: int = 0
    """Occurrences of an unreliable operation planned so far."""


def _steady(team: Team) -> list[Person]:
    return [person for person in team.people if person.role == "member" and not person.away]


def start_operations(world: World, plan: DemoPlan, organisation: Organisation) -> None:
    """Plans every operation and starts its actor, and the actor that ticks every night."""
    rng, calendar = world.rng, world.calendar
    # Days are counted from the day the organisation was set up.
    first = calendar.day(organisation.setup)
    last = (calendar.end_day - first).days
    running: list[_Operation] = []
    for index in range(plan.operations):
        team = organisation.teams[index % len(organisation.teams)]
        if index == 0:
            team, template = organisation.teams[3], LATE_TEMPLATE
        elif index == TEMPORARY_INDEX:
            template = TEMPORARY_TEMPLATE
        else:
            template = TEMPLATES[(index - (1 if index < TEMPORARY_INDEX else 2)) % len(TEMPLATES)]
        later = index > len(TEMPLATES) + 1 and rng.random() < 0.3
        late_start = index == TEMPORARY_INDEX or later
        created = rng.uniform(50, last - 60) if late_start else rng.uniform(1, 5)
        world.spawn(
            _life(world, running, index, team, template),
            calendar.working_at(first + timedelta(days=int(created)), 3),
        )
    first_tick = first + timedelta(days=1)
    world.spawn(_ticks(world, running), calendar.at(first_tick, TICK_AT))


def _ticks(world: World, running: list[_Operation]) -> Actor:
    calendar = world.calendar
    while True:
        until = world.today() + timedelta(days=TICK_AHEAD_DAYS)
        world.emit("POST /v1/operations/tick", world.admin, {"until": until.isoformat()})
        for operation in running:
            for due in operation.schedule.tick(until):
                moment, settle, note = _settlement(world, operation, due)
                world.call_at(moment, _settlement_of(world, operation, due, settle, note))
        yield calendar.at(world.today() + timedelta(days=1), TICK_AT)


def _settlement(world: World, operation: _Operation, due: date) -> tuple[int, str, str]:
    """When and how an occurrence will be settled: ``complete``, ``skip`` or ``open`` (left)."""
    rng, calendar = world.rng, world.calendar
    draw = rng.random()
    weekend = due.weekday() >= 5
    on_day = calendar.at(due, rng.randint(9, 16) * HOUR + rng.randint(0, 59) * MINUTE)
    if operation.reliable:
        if calendar.is_holiday(due) and draw < 0.4:
            return on_day, "skip", "Team away."
        if draw < 0.82:
            return on_day, "complete", ""
        if draw < 0.92 or weekend:
            return on_day + rng.randint(1, 3) * DAY, "complete", rng.choice(LATE_NOTES)
        if draw < 0.97:
            return on_day, "skip", rng.choice(SKIP_NOTES)
        return on_day, "open", ""
    # The late operation goes round a pattern: done late, skipped, done late, done on time or
    # late, skipped, never done.
    turn = operation.settled % len(UNRELIABLE_PATTERN)
    operation.settled += 1
    match UNRELIABLE_PATTERN[turn]:
        case "late":
            return on_day + rng.randint(2, 9) * DAY, "complete", rng.choice(LATE_NOTES)
        case "skip":
            return on_day + rng.randint(1, 6) * DAY, "skip", rng.choice(SKIP_NOTES)
        case "either" if draw < 0.5:
            return on_day, "complete", ""
        case "either":
            return on_day + rng.randint(1, 4) * DAY, "complete", rng.choice(LATE_NOTES)
    return on_day, "open", ""


def _settlement_of(
    world: World, operation: _Operation, due: date, settle: str, note: str
) -> Callable[[], None]:
    """Settles the occurrence, unless it is to be left open or is settled already (retiring
    an operation skips what it had scheduled)."""

    def settle_it() -> None:
        if settle == "open" or not operation.schedule.is_open(due):
            return
        doer = operation.assignee
        if doer is None or not doer.available(world.now):
            doer = operation.owner
        path = f"/v1/operations/{operation.record.id}/occurrences/{due.isoformat()}/{settle}"
        world.emit(f"POST {path}", doer, {"note": note})
        operation.schedule.occurrences[due] = "completed" if settle == "complete" else "skipped"

    return settle_it


def _life(
    world: World,
    running: list[_Operation],
    index: int,
    team: Team,
    template: Template,
) -> Actor:
    rng, calendar = world.rng, world.calendar
    title, cadence, runbook = template.title, template.cadence, template.runbook
    owner = team.manager
    assert owner is not None
    steady = _steady(team)
    assignee = rng.choice(steady) if steady and (index == 0 or rng.random() < 0.9) else None
    start = world.today() + timedelta(days=rng.randint(1, 3))
    last = calendar.end_day
    end = start + timedelta(weeks=5) if index == TEMPORARY_INDEX else None
    operation_id = world.new_id()
    body: dict[str, Any] = {
        "title": title,
        "team_id": str(team.id),
        "owner_id": str(owner.id),
        "cadence": cadence.body(),
        "start_date": start.isoformat(),
        "runbook": list(runbook),
        "estimate": template.estimate,
    }
    if assignee is not None:
        body["assignee_id"] = str(assignee.id)
    if end is not None:
        body["end_date"] = end.isoformat()
    world.emit("POST /v1/operations", owner, body, id=operation_id)
    record = OperationRecord(operation_id, title, team)
    team.operations.append(record)
    operation = _Operation(record, owner, assignee, Schedule(cadence, start, end), index != 0)
    running.append(operation)
    path = f"/v1/operations/{operation_id}"
    if index == 1:
        # Paused over the holidays; the dates missed meanwhile are never scheduled.
        holiday_start, holiday_end = calendar.holiday
        yield calendar.working_at(holiday_start - timedelta(days=1), 6)
        world.emit(f"POST {path}/pause", owner)
        operation.schedule.pause()
        yield calendar.working_at(holiday_end + timedelta(days=1), 1)
        world.emit(f"POST {path}/resume", owner)
        operation.schedule.resume(world.today())
    elif index == 2:
        yield calendar.working_at(last - timedelta(days=rng.randint(50, 80)), 2)
        changed = Cadence("week", 1, (1, 3)) if cadence.every != "week" else Cadence("day", 2)
        if operation.schedule.change_cadence(changed, world.today()):
            world.emit(f"PUT {path}/cadence", owner, {"cadence": changed.body()})
    elif index == 3:
        yield calendar.working_at(last - timedelta(days=30), 4)
        world.emit(f"POST {path}/retire", owner)
        operation.schedule.retire()
    elif index == 4 and len(steady) > 1:
        yield calendar.working_at(last - timedelta(days=rng.randint(40, 70)), 3)
        successor = next(person for person in steady if person is not assignee)
        world.emit(f"PATCH {path}", owner, {"assignee_id": str(successor.id)})
        operation.assignee = successor
    elif index == 5:
        yield calendar.working_at(last - timedelta(days=rng.randint(40, 70)), 5)
        world.emit(f"PATCH {path}", owner, {"runbook": [*runbook, "Write down what changed"]})
