"""Insights, as ``GET /v1/insights`` answers them.

An insight is a condition the log shows to hold, judged at the moment asked about: what kind it
is, how severe, the objects it is about, a sentence a person can read, since when it holds, and
its evidence (each object with the values that matter and the log positions of the events that
made them so). Its id is the same for the same kind on the same objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel

InsightKind = Literal[
    "goal_at_risk",
    "work_on_goal_at_risk",
    "project_slipping",
    "overloaded",
    "operation_unhealthy",
    "aging_work",
    "stale_work",
    "due_date_churn",
    "idle_capacity",
    "triage",
]
InsightSeverity = Literal["info", "warning", "critical"]
ObjectKind = Literal[
    "team", "member", "goal", "key_result", "project", "issue", "operation", "occurrence"
]


class InsightObject(BaseModel):
    """An object an insight is about or draws on, with its name as the view knew it."""

    kind: ObjectKind
    id: UUID
    name: str | None


class Evidence(BaseModel):
    """One fact behind an insight: the object, its values that matter, and the positions of the
    events in the log that made them so (``GET /v1/history`` shows each)."""

    object: InsightObject
    values: dict[str, Any]
    positions: list[int]


class TriageScore(BaseModel):
    """A triage insight's impact score and its parts (severity, priority, goals, projects,
    blocks, age)."""

    total: int
    parts: dict[str, int]


class Insight(BaseModel):
    id: UUID
    kind: InsightKind
    severity: InsightSeverity
    objects: list[InsightObject]
    explanation: str
    since: datetime
    evidence: list[Evidence]
    score: TriageScore | None


class InsightCounts(BaseModel):
    """How many insights of each severity match the query (every page, not this one)."""

    critical: int
    warning: int
    info: int


class Insights(BaseModel):
    """A page of insights, most severe first; within a severity by kind, then the highest
    triage score or the longest held. ``now`` is the moment judged (``as_of``, or the present)."""

    now: datetime
    scope: str
    counts: InsightCounts
    items: list[Insight]
    next_cursor: str | None
