"""The issues that make the insight situations, placed on purpose on top of ordinary work.

- The overloaded member (the first member of Payments) is handed a pile of large issues by their
  lead over the last five weeks; a third are started, none finished.
- The slipping project's backlog: large tasks filed in it over its last eight weeks, which its
  slow team works on at a third of its usual pace, most never even started.
- Aging work in Data Platform: issues started over six weeks before the end and still in
  progress, with a "still on it" comment every couple of weeks; some of it blocked for good.
- The idle team's untriaged queue: reports to Support Tools over its idle weeks that nobody
  triages, beside the ordinary reports it leaves in triage too.
"""

from __future__ import annotations

from services.importing.demo.calendar import DAY, HOUR
from services.importing.demo.flow import life
from services.importing.demo.issues import IssuePlan
from services.importing.demo.people import IDLE_WEEKS, Organisation
from services.importing.demo.plan import DemoPlan
from services.importing.demo.world import ProjectRecord, World

UNTRIAGED_KINDS = ("bug", "bug", "request", "incident")


def start_situations(
    world: World, plan: DemoPlan, organisation: Organisation, slipping: ProjectRecord
) -> int:
    """Starts the situations' issues; answers how many there are."""
    rng, calendar = world.rng, world.calendar
    teams = organisation.teams

    def moment(low_days: float, high_days: float) -> int:
        """A working moment between ``high_days`` and ``low_days`` days before the end."""
        day = calendar.day(calendar.end - int(rng.uniform(low_days, high_days) * DAY))
        return calendar.working_at(day, rng.uniform(0.5, 9))

    for number in range(plan.overload_issues):
        created = moment(3, 35)
        overload = IssuePlan(
            teams[0],
            "task",
            pick_project=False,
            assignee=organisation.overloaded,
            estimate=rng.choice((5.0, 8.0, 8.0, 13.0)),
            stop_at="in_progress" if number % 3 == 0 else "todo",
            pull_at=created + 2 * HOUR,
        )
        world.spawn(life(world, overload), created)
    for number in range(plan.slipping_issues):
        backlog = IssuePlan(
            slipping.team,
            "task",
            project=slipping,
            pick_project=False,
            estimate=rng.choice((3.0, 5.0, 5.0, 8.0)),
            stop_at=("backlog", "todo", None)[number % 3],
            slowness=3.0,
        )
        world.spawn(life(world, backlog), moment(2, 56))
    for number in range(plan.aging_issues):
        aging = IssuePlan(
            teams[2],
            "task",
            pick_project=False,
            estimate=rng.choice((5.0, 8.0)),
            stop_at="in_progress",
            pull_at=moment(45, 70),
            stuck=number == 0,
        )
        world.spawn(life(world, aging), moment(84, 112))
    idle_days = IDLE_WEEKS * 7 - 1
    for number in range(plan.untriaged_issues):
        kind = UNTRIAGED_KINDS[number % len(UNTRIAGED_KINDS)]
        report = IssuePlan(teams[3], kind, pick_project=False, triaged=False)
        world.spawn(life(world, report), moment(0.5, idle_days))
    return plan.overload_issues + plan.slipping_issues + plan.aging_issues + plan.untriaged_issues
