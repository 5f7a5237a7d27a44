"""The personal queue view: a member's open work in a stable, explained order, with its context.

The order: urgent or overdue items first; then by priority (urgent, high, medium, low, none); then
by due date (earliest first, none last); then items that advance an active goal or block other
open work; then the oldest first, then by key. Each item's ``reasons`` say which of these put it
where it is. Operation occurrences have no priority: they rank as ``none`` unless overdue.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class MemberRef(BaseModel):
    """A member, named."""

    id: UUID
    name: str | None = Field(description="Null only for an id the view has never seen registered.")


class QueueOwner(BaseModel):
    """The member whose queue this is."""

    id: UUID
    name: str
    active: bool


class ProjectRef(BaseModel):
    """The project an issue belongs to."""

    id: UUID
    key: str
    name: str


class OperationRef(BaseModel):
    """The operation an occurrence was scheduled by."""

    id: UUID
    title: str


class GoalRef(BaseModel):
    """A goal the item is connected to."""

    id: UUID
    title: str
    status: str
    via: Literal["issue", "affects", "project"] = Field(
        description="`issue`: the item is linked to the goal; `affects`: the item affects it; "
        "`project`: the item's project is linked to it."
    )


class BlockedIssue(BaseModel):
    """An open issue that lists the item among what blocks it."""

    id: UUID
    key: str | None
    title: str
    assignee: MemberRef | None


class QueueItem(BaseModel):
    """One piece of the member's open work, where it ranks and why, and what it touches."""

    id: UUID
    kind: Literal["task", "bug", "incident", "request", "occurrence"]
    key: str | None = Field(description="The issue's human key, like `PAY-12`, if in a project.")
    title: str
    status: str
    priority: Literal["urgent", "high", "medium", "low", "none"]
    due_date: date | None
    estimate: float | None
    overdue: bool
    created_at: datetime = Field(description="When the issue was opened or occurrence scheduled.")
    reasons: list[str] = Field(
        description="Why the item ranks where it does, in the order the ranking weighs them."
    )
    project: ProjectRef | None
    operation: OperationRef | None = Field(description="The operation an occurrence belongs to.")
    goals: list[GoalRef]
    blocks: list[BlockedIssue]
    waiting: list[MemberRef] = Field(
        description="Who waits on the item: the assignees and watchers of the issues it blocks, "
        "and its own watchers (the queue's owner left out)."
    )
    blocked: bool
    blocked_reason: str | None


class QueuePage(BaseModel):
    """One page of a member's queue."""

    member: QueueOwner
    today: date = Field(description="The day overdue work is judged against.")
    total: int = Field(description="How many open items the whole queue holds.")
    items: list[QueueItem]
    next_cursor: str | None
