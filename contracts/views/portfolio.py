"""The portfolio view, as ``GET /v1/views/portfolio`` answers it.

Executives read it to see what is in flight, what is at risk and how work connects to goals: one
entry per project (a page of them), the goal tree, and organisation totals per kind of work.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

ProjectStatus = Literal["proposed", "active", "on_hold", "completed", "cancelled"]
HealthStatus = Literal["on_track", "at_risk", "off_track"]
GoalStatus = Literal["draft", "active", "achieved", "missed", "abandoned"]
IssueKind = Literal["task", "bug", "incident", "request"]
KeyResultUnit = Literal["number", "percent", "currency", "boolean"]
ProgressBasis = Literal["key_results", "work"]
RiskFlag = Literal[
    "past_target",
    "forecast_after_target",
    "no_throughput",
    "off_track",
    "at_risk",
    "overdue_work",
    "blocked_work",
    "milestone_late",
]


class PortfolioNamed(BaseModel):
    """A member or a team, with its name as the view knew it (``None`` if never seen)."""

    id: UUID
    name: str | None


class PortfolioHealth(BaseModel):
    """The latest health update posted on a project."""

    status: HealthStatus
    note: str
    posted_at: datetime


class PortfolioProgress(BaseModel):
    """Done work against all work that is not cancelled.

    ``ratio`` is ``estimate_done / estimate_total``; when no work is estimated it is
    ``issues_done / issues_total``, and ``None`` when there is no work at all.
    """

    estimate_done: float
    estimate_total: float
    issues_done: int
    issues_total: int
    ratio: float | None = Field(ge=0, le=1)


class PortfolioOpenByPriority(BaseModel):
    """Open issues (triage to in review) counted by priority."""

    urgent: int
    high: int
    medium: int
    low: int
    none: int


class PortfolioMilestone(BaseModel):
    """``late``: not done and due before today, or done after its due date."""

    id: UUID
    name: str
    due_date: date
    done: bool
    completed_on: date | None
    late: bool


class PortfolioLinkedGoal(BaseModel):
    """A goal the project serves, with that goal's progress."""

    id: UUID
    title: str
    status: GoalStatus
    progress: float | None


class PortfolioFinish(BaseModel):
    """The exact finish distribution of the project's open issues at its team's pace (as
    ``GET /v1/forecasts/{project_id}`` draws it from the team's last 12 whole weeks): its
    percentile dates and the chance of meeting the target; ``insufficient_data`` when fewer
    than six of those weeks finished anything, ``done`` when nothing is open."""

    status: Literal["forecast", "done", "insufficient_data"]
    p50_date: date | None
    p85_date: date | None
    p95_date: date | None
    probability_by_target: float | None


class PortfolioForecast(BaseModel):
    """When the project's remaining estimated work would be done at its team's measured pace.

    ``throughput_per_week`` is the estimate the team completed over the last
    ``throughput_weeks`` weeks (net of reopened work), divided by that many weeks. The finish
    date is today when nothing estimated remains, and ``None`` for a closed project or when the
    team completed nothing in that time.
    """

    remaining_estimate: float
    throughput_per_week: float
    finish_date: date | None
    target_date: date
    days_after_target: int | None
    distribution: PortfolioFinish | None


class PortfolioProject(BaseModel):
    """One project as executives see it.

    ``blocked`` counts open issues flagged blocked or waiting on an open ``blocked_by`` issue;
    ``overdue`` counts open issues due before today. ``risks`` names what threatens an open
    project (a closed one has none): ``past_target`` (today is after the target date),
    ``forecast_after_target``, ``no_throughput`` (estimated work remains but its team completed
    none in the measuring window), ``off_track`` and ``at_risk`` (its latest health),
    ``overdue_work``, ``blocked_work`` and ``milestone_late`` (a milestone not done is past due).
    """

    id: UUID
    key: str
    name: str
    status: ProjectStatus
    health: PortfolioHealth | None
    owner: PortfolioNamed
    team: PortfolioNamed
    start_date: date
    target_date: date
    progress: PortfolioProgress
    open_issues: int
    open_by_priority: PortfolioOpenByPriority
    overdue: int
    blocked: int
    milestones: list[PortfolioMilestone]
    goals: list[PortfolioLinkedGoal]
    forecast: PortfolioForecast
    risks: list[RiskFlag]


class PortfolioKeyResult(BaseModel):
    id: UUID
    title: str
    unit: KeyResultUnit
    start: float
    target: float
    current: float
    progress: float


class PortfolioLinkedWork(BaseModel):
    """Issues linked to a goal that are not cancelled, and how much of them is done."""

    issues_total: int
    issues_done: int
    estimate_total: float
    estimate_done: float


class PortfolioGoal(BaseModel):
    """A goal with the goals aligned under it.

    ``progress`` is the mean of its key results' progress (``progress_basis`` ``key_results``);
    with no key results, the share of its linked work's estimate that is done (``work``; by
    count when none of it is estimated); ``None`` with neither.
    """

    id: UUID
    title: str
    status: GoalStatus
    owner: PortfolioNamed
    team_id: UUID | None
    period_start: date
    period_end: date
    progress: float | None
    progress_basis: ProgressBasis | None
    key_results: list[PortfolioKeyResult]
    linked_work: PortfolioLinkedWork
    children: list[PortfolioGoal]


class PortfolioProjectTotals(BaseModel):
    proposed: int
    active: int
    on_hold: int
    completed: int
    cancelled: int


class PortfolioWorkTotals(BaseModel):
    """Issues that are open, done and cancelled, with the estimate open and done."""

    open: int
    done: int
    cancelled: int
    open_estimate: float
    done_estimate: float


class PortfolioKindTotals(PortfolioWorkTotals):
    """The totals of one kind of issue; ``planned`` is true of tasks only."""

    kind: IssueKind
    planned: bool


class PortfolioOperationTotals(BaseModel):
    """Operations by lifecycle, and their occurrences: open (scheduled), late, settled."""

    active: int
    paused: int
    retired: int
    occurrences_open: int
    occurrences_late: int
    occurrences_completed: int
    occurrences_skipped: int


class PortfolioGoalTotals(BaseModel):
    draft: int
    active: int
    achieved: int
    missed: int
    abandoned: int


class PortfolioTotals(BaseModel):
    """The whole organisation's work, planned beside unplanned and recurring."""

    projects: PortfolioProjectTotals
    issues: list[PortfolioKindTotals]
    planned: PortfolioWorkTotals
    unplanned: PortfolioWorkTotals
    operations: PortfolioOperationTotals
    goals: PortfolioGoalTotals


class Portfolio(BaseModel):
    """A page of projects (``items``, by key; ``limit`` 50 unless asked), the goal tree and
    organisation totals.

    Filters narrow ``items`` only; ``goal_tree`` and ``totals`` always describe the whole
    organisation. ``now`` is the moment the view describes (``as_of``, or the present).
    """

    now: datetime
    throughput_weeks: int
    items: list[PortfolioProject]
    next_cursor: str | None
    goal_tree: list[PortfolioGoal]
    totals: PortfolioTotals
