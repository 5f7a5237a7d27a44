"""A summary, as ``GET /v1/summaries`` answers it (JSON; ``text/plain`` is the same written out).

What happened in a scope over a period (``since`` to ``until``): what was finished and opened
(planned, tasks, apart from unplanned, bugs, incidents and requests), what slipped, what is
blocked at the end, how goals and key results moved, forecasts that changed, and the insights
that need attention at the end. Sections list at most 20 items; their counts say how many.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel

from contracts.views.insights import Insight


class SummaryItem(BaseModel):
    id: UUID
    name: str
    kind: str


class FinishedWork(BaseModel):
    count: int
    planned: int
    unplanned: int
    points: float
    occurrences_completed: int
    occurrences_skipped: int
    items: list[SummaryItem]


class OpenedItem(SummaryItem):
    priority: str | None


class OpenedWork(BaseModel):
    count: int
    planned: int
    unplanned: int
    items: list[OpenedItem]


class DueItem(SummaryItem):
    due_date: date | None


class MovedItem(DueItem):
    """``moves``: how often its due date moved within the period."""

    moves: int


class SlippedWork(BaseModel):
    """Open issues whose due date fell in the period (``passed``), and issues whose due date
    moved in it (``moved``)."""

    passed_count: int
    passed: list[DueItem]
    moved_count: int
    moved: list[MovedItem]


class BlockedItem(SummaryItem):
    reason: str | None
    waiting_on: int


class BlockedWork(BaseModel):
    count: int
    items: list[BlockedItem]


class KeyResultMove(BaseModel):
    id: UUID
    title: str
    before: float | None
    after: float
    target: float


class GoalMove(BaseModel):
    id: UUID
    title: str
    progress_before: float | None
    progress_after: float | None
    key_results: list[KeyResultMove]


class ForecastPoint(BaseModel):
    open_issues: int
    p85_date: date | None
    probability_by_target: float


class SummaryProject(BaseModel):
    id: UUID
    name: str


class ForecastChange(BaseModel):
    """A project whose 85% finish date moved, or whose chance of its target moved by 0.1 or
    more; ``None`` where there was too little history to forecast."""

    project: SummaryProject
    target_date: date
    before: ForecastPoint | None
    after: ForecastPoint | None


class Summary(BaseModel):
    now: datetime
    scope: str
    scope_name: str
    since: datetime
    until: datetime
    finished: FinishedWork
    opened: OpenedWork
    slipped: SlippedWork
    blocked: BlockedWork
    goals: list[GoalMove]
    forecasts: list[ForecastChange]
    insights: list[Insight]
    text: str
