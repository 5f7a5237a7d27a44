"""The team workload view: each team's and member's open work against weekly capacity.

Open work is issues in an open status and operation occurrences still scheduled. Estimates are
points; an item without an estimate counts as 0 points (and is counted in ``unestimated``).
"Overdue" and "upcoming" are judged against the day the view describes (``today``: the day of
``as_of``, or the current day), in UTC.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class WorkTotal(BaseModel):
    """A number of work items and the sum of their estimates."""

    count: int
    estimate: float


class WeekThroughput(BaseModel):
    """Work completed in one ISO week: issues moved to done and occurrences completed."""

    week: str = Field(description="The ISO week, like `2026-W10`.")
    week_start: date = Field(description="The Monday the week starts on.")
    completed: int
    estimate: float


class MemberWorkload(BaseModel):
    """One member of the team and all the open work assigned to them, in any team."""

    id: UUID
    name: str
    role: str
    active: bool = Field(description="False for a deactivated member, who can't take new work.")
    weekly_capacity: float
    open_assigned: WorkTotal = Field(description="Open items assigned to the member.")
    unestimated: int = Field(description="Open assigned items without an estimate.")
    load_ratio: float | None = Field(
        description="Open assigned estimate / weekly capacity; null when the capacity is 0."
    )
    work_in_progress: int = Field(description="Assigned issues in progress or in review.")
    overdue: WorkTotal = Field(description="Open assigned items due before today.")
    blocked: int = Field(description="Open assigned issues flagged as blocked.")
    upcoming_occurrences: WorkTotal = Field(
        description="Assigned occurrences due today or in the 13 days after: recurring load."
    )
    throughput: list[WeekThroughput] = Field(
        description="What the member completed in each of the last 8 ISO weeks, oldest first."
    )


class TeamWorkload(BaseModel):
    """One team's open work (issues of the team, occurrences of its operations) in figures."""

    id: UUID
    name: str
    member_count: int
    active_member_count: int
    weekly_capacity: float
    capacity_source: Literal["team", "members"] = Field(
        description="`team`: the team's own capacity; `members`: the sum of its active members'."
    )
    open_assigned: WorkTotal = Field(description="The team's open items that have an assignee.")
    unestimated: int = Field(description="Open assigned items without an estimate.")
    load_ratio: float | None = Field(
        description="Open assigned estimate / weekly capacity; null when the capacity is 0."
    )
    work_in_progress: int = Field(description="The team's issues in progress or in review.")
    overdue: WorkTotal = Field(description="The team's open items due before today.")
    blocked: int = Field(description="The team's open issues flagged as blocked.")
    upcoming_occurrences: WorkTotal = Field(
        description="Occurrences of the team's operations due today or in the 13 days after."
    )
    unassigned_backlog: WorkTotal = Field(description="The team's open items with no assignee.")
    untriaged: int = Field(description="The team's issues waiting in triage.")


class TeamWorkloadDetail(TeamWorkload):
    """One team in full: its figures, each member's, and its weekly throughput."""

    today: date = Field(description="The day overdue and upcoming work is judged against.")
    members: list[MemberWorkload] = Field(
        description="The team's members, deactivated ones included, by name."
    )
    throughput: list[WeekThroughput] = Field(
        description="What the team completed in each of the last 8 ISO weeks, oldest first."
    )


class WorkloadPage(BaseModel):
    """Every team, summarised, by name."""

    items: list[TeamWorkload]
    next_cursor: str | None
