"""The workload's tables: work items with the few fields the view needs, teams, members and
memberships, running totals of open work by team and member (and by due day), and throughput."""

from __future__ import annotations

from typing import Any

from services.projections.readmodel import Column, Table

NAME = "workload"
SCHEMA_VERSION = 5

OCCURRENCE = "occurrence"

TEAMS = Table(
    "wl_team",
    key=("team_id",),
    columns=(Column("team_id"), Column("name"), Column("weekly_capacity", "real")),
    indexes=(("name", "team_id"),),
)
MEMBERS = Table(
    "wl_member",
    key=("member_id",),
    columns=(
        Column("member_id"),
        Column("name"),
        Column("role"),
        Column("weekly_capacity", "real"),
        Column("active", "bool"),
    ),
)
MEMBERSHIPS = Table(
    "wl_membership", key=("team_id", "member_id"), columns=(Column("team_id"), Column("member_id"))
)
OPERATIONS = Table(
    "wl_operation", key=("operation_id",), columns=(Column("operation_id"), Column("team_id"))
)
ITEMS = Table(
    "wl_item",
    key=("item_id",),
    columns=(
        Column("item_id"),
        Column("kind"),
        Column("team_id"),
        Column("assignee_id"),
        Column("status"),
        Column("is_open", "bool"),
        Column("estimate", "real"),
        Column("due_date"),
        Column("blocked", "bool"),
    ),
)
# A team's open work, summed whatever it is due (``wl_team_open``), and the part of it due on each
# day (``wl_load``, of work that has a due date), which "overdue" and "upcoming" sum over the days
# before, or just after, the day the view describes. Figures that don't depend on the day are
# kept apart from the days, so a change of status, assignee or block moves one team row and no
# day's, and a page of teams sums a few figures over its days rather than every figure. Points
# are kept in millionths, as integers, so sums stay exact however often they are added to.
TEAM_OPEN_FIGURES: tuple[str, ...] = (
    "assigned_count",
    "assigned_micropoints",
    "unestimated",
    "unassigned_count",
    "unassigned_micropoints",
    "wip",
    "blocked",
    "untriaged",
)
DAY_FIGURES: tuple[str, ...] = (
    "open_count",
    "open_micropoints",
    "occurrence_count",
    "occurrence_micropoints",
)
MICRO = 1_000_000


def _figures(names: tuple[str, ...]) -> tuple[Column, ...]:
    return tuple(Column(name, "int") for name in names)


TEAM_OPEN = Table(
    "wl_team_open", key=("team_id",), columns=(Column("team_id"), *_figures(TEAM_OPEN_FIGURES))
)
LOADS = Table(
    "wl_load",
    key=("team_id", "due_date"),
    columns=(Column("team_id"), Column("due_date"), *_figures(DAY_FIGURES)),
    # Covers the days' sums, so PostgreSQL reads them from the index alone: the current rows
    # are scattered among their past versions across the table.
    indexes=(("team_id", "due_date", *DAY_FIGURES),),
)
# A member's open work (assigned to them, in every team), summed the same two ways.
MEMBER_OPEN_FIGURES: tuple[str, ...] = (
    "open_count",
    "open_micropoints",
    "unestimated",
    "wip",
    "blocked",
)
MEMBER_OPEN = Table(
    "wl_member_open",
    key=("member_id",),
    columns=(Column("member_id"), *_figures(MEMBER_OPEN_FIGURES)),
)
MEMBER_LOADS = Table(
    "wl_member_load",
    key=("member_id", "due_date"),
    columns=(Column("member_id"), Column("due_date"), *_figures(DAY_FIGURES)),
    indexes=(("member_id", "due_date", *DAY_FIGURES),),
)
# Work completed in each ISO week (``week_start`` its Monday), by team and by member: a
# completion counts once for its team and once for its assignee, wherever they were. Team and
# member ids don't collide, so one table keyed by ``owner_id`` holds both.
THROUGHPUT = Table(
    "wl_throughput",
    key=("owner_id", "week_start"),
    columns=(
        Column("owner_id"),
        Column("week_start"),
        Column("completed", "int"),
        Column("micropoints", "int"),
    ),
)

TABLES = (
    TEAMS,
    MEMBERS,
    MEMBERSHIPS,
    OPERATIONS,
    ITEMS,
    TEAM_OPEN,
    LOADS,
    MEMBER_OPEN,
    MEMBER_LOADS,
    THROUGHPUT,
)


def to_micropoints(estimate: float | None) -> int:
    """An estimate as the totals keep it: whole millionths of a point (none counts as 0)."""
    return round((estimate or 0.0) * MICRO)


def from_micropoints(value: Any) -> float:
    """Points again, from a figure or a sum of figures in millionths."""
    # A sum over no rows is null.
    return int(value or 0) / MICRO
