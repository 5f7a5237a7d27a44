"""Flow metrics, as ``GET /v1/flow`` answers them.

How work moves, measured exactly from history at the moment asked about (``now``: ``as_of``, or
the present): per group — a team, a member or a project — the cycle and lead times of the issues
finished in the last ``window_days`` days and not reopened since, the issues finished in each of
the last ``throughput_weeks`` whole ISO weeks, and the work in progress with its age and the
time it has spent in each status. Spans are in days (to two decimals).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class FlowScope(BaseModel):
    """What a group measures: a team's issues, a project's, or the issues assigned to a member
    (in every team), with its name as the view knew it."""

    kind: Literal["team", "member", "project"]
    id: UUID
    name: str | None


class FlowTimes(BaseModel):
    """Percentiles (linear interpolation between ranks) of a span over the issues finished in
    the window and not reopened since; null when ``count`` is 0. Cycle time counts only the
    issues that were ever moved to ``in_progress``."""

    count: int = Field(description="How many finished issues the percentiles are drawn from.")
    p50_days: float | None
    p85_days: float | None
    p95_days: float | None


class FlowWeek(BaseModel):
    """One whole ISO week before the current one: the issues finished in it, less those
    reopened in it, and their estimate points; a week that reopened more than it finished
    counts zero (as forecasts count it)."""

    week: str = Field(description="The ISO week, like `2026-W09`.")
    starts: date = Field(description="The Monday the week starts on.")
    completed: int
    points: float = Field(description="The estimates of those issues (unestimated count 0).")


class FlowWork(BaseModel):
    """A started issue (``in_progress`` or ``in_review``): how long since it was first moved to
    ``in_progress``, and how long it has spent in each status it has been in (its current
    stretch included)."""

    id: UUID
    key: str | None
    title: str
    status: Literal["in_progress", "in_review"]
    started_at: datetime
    age_days: float
    due_date: date | None
    due_moves: int = Field(description="How often a set due date was changed or cleared.")
    reopens: int = Field(description="How often it was reopened after being done or cancelled.")
    days_in_status: dict[str, float]


class FlowGroup(BaseModel):
    """One group's flow; ``work_in_progress`` is the oldest start first."""

    scope: FlowScope
    cycle_time: FlowTimes
    lead_time: FlowTimes
    throughput: list[FlowWeek]
    work_in_progress: list[FlowWork]


class Flow(BaseModel):
    """The flow of a scope: for ``org`` one group per team; for a team, the team, then each of
    its members, then each of its projects; for a project or a member, theirs."""

    now: datetime
    scope: str
    window_days: int = Field(description="Cycle and lead time count issues finished this recently.")
    throughput_weeks: int = Field(description="How many whole weeks the throughput lists.")
    groups: list[FlowGroup]
