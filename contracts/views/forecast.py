"""A project's forecast, as ``GET /v1/forecasts/{project_id}`` answers it.

When will the project's open issues be done, at the pace its team has kept: the exact
distribution a Monte Carlo of the team's weekly throughput approximates, its percentiles as
dates, the probability of meeting the target date, and the samples it was drawn from.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel


class ForecastNamed(BaseModel):
    id: UUID
    name: str | None


class ThroughputWeek(BaseModel):
    """One ISO week of the team's pace: the issues it finished (net of reopened ones)."""

    week: str
    starts: date
    completed: int


class FinishPercentile(BaseModel):
    """The week by which the work is done with at least ``share`` probability, and its date."""

    share: float
    weeks: int
    date: date


class WeekProbability(BaseModel):
    weeks: int
    date: date
    done_by: float


class ProjectForecast(BaseModel):
    """``status`` is ``forecast``, ``done`` (nothing open) or ``insufficient_data`` (fewer than six
    sample weeks that finished anything: no percentiles then)."""

    now: datetime
    project: ForecastNamed
    key: str
    team: ForecastNamed
    target_date: date
    open_issues: int
    status: Literal["forecast", "done", "insufficient_data"]
    detail: str
    samples: list[ThroughputWeek]
    weeks_with_completions: int
    percentiles: list[FinishPercentile]
    probability_by_target: float | None
    distribution: list[WeekProbability]
