"""A living demo organisation, as import lines: ``generate(seed, scale, end=...)``.

The lines are six months (two quarters) of an organisation's history up to ``end``, each one
command of the public API with its original time and actor, in time order, every one accepted by
the command API's rules when run in order (``workledger import``). The same seed, scale and end
give the same lines, ids included. ``DemoPlan.for_scale(scale)`` tells up front what a scale
holds (``describe()``, ``estimated_lines`` for a progress bar).

At scale 1: 8 teams of different pace and size (Payments fast, Checkout slow, ...), 120 members
with weekly capacities (some part-time; a few join, leave, take leave, move team), 39 goals
(company goals over team goals, both quarters, key results of every unit, weekly check-ins), 40
projects in every lifecycle state with milestones and weekly health, 20 recurring operations on
every kind of cadence with nightly ticks, and 20,000 issues with their whole histories. Activity
follows a weekly rhythm (working hours, quiet weekends) and dips over a holiday fortnight (the
last two weeks of December when the history holds them, else the fortnight twelve weeks in).

The situations the insights look for, placed on purpose:

- **An overloaded member**: the first member of Payments (capacity 8 a week) is handed large
  issues over the last five weeks, far more open estimate than their capacity
  (``situations``).
- **A slipping project**: Checkout's ``CHKOUT`` project, due within two weeks of the end after
  one reschedule, with a late milestone, a large open backlog and a slow team, reporting at
  risk and then off track (``projects``, ``situations``).
- **A lagging goal**: Checkout's current-quarter goal ``goals.LAGGING_GOAL_TITLE``, about a
  seventh of the way to its targets with two thirds of the quarter gone (``goals``).
- **Aging work**: Data Platform issues in progress for six to ten weeks, some blocked
  (``situations``).
- **An idle team beside a large untriaged queue**: Support Tools barely starts or triages
  anything over the last eight weeks while reports pile up in triage (``people``,
  ``issues.IssueLife.stalls``, ``situations``).
- **An operation repeatedly late or skipped**: Support Tools' ``Weekly access review``, done
  late or skipped most weeks with several occurrences left overdue (``operations``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from services.importing.demo.calendar import DAY, Calendar
from services.importing.demo.flow import start_issues
from services.importing.demo.goals import LAGGING_GOAL_TITLE, start_goals
from services.importing.demo.operations import LATE_OPERATION_TITLE, start_operations
from services.importing.demo.people import start_people
from services.importing.demo.plan import DemoPlan
from services.importing.demo.projects import SLIPPING_PROJECT_KEY, start_projects
from services.importing.demo.situations import start_situations
from services.importing.demo.world import World
from services.importing.lines import ImportLine

__all__ = [
    "LAGGING_GOAL_TITLE",
    "LATE_OPERATION_TITLE",
    "SLIPPING_PROJECT_KEY",
    "DemoPlan",
    "generate",
]


def generate(seed: int = 7, scale: float = 1.0, *, end: datetime) -> Iterator[ImportLine]:
    """The demo organisation's history up to ``end`` (a time with its zone), line by line."""
    plan = DemoPlan.for_scale(scale)
    world = World(seed, Calendar(end))
    organisation = start_people(world, plan)
    start_goals(world, plan, organisation)
    slipping = start_projects(world, plan, organisation)
    start_operations(world, plan, organisation)
    scripted = start_situations(world, plan, organisation, slipping)
    start_issues(world, plan.issues - scripted, organisation.setup + DAY)
    yield from world.run()
