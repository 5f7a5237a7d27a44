"""The insights' tables: the facts every rule judges, kept per object with the log positions of
the events that made them so (an insight's evidence), and each finished issue's flow."""

from __future__ import annotations

from typing import Any, Final

import orjson

from services.projections.readmodel import Column, Index, Table

NAME: Final = "insights"
SCHEMA_VERSION: Final = 4

OCCURRENCE: Final = "occurrence"
# Statuses in which work has started and is not finished: an item's age runs in them.
STARTED: Final = ("in_progress", "in_review")


def dumps(value: Any) -> str:
    """A list or map as the JSON text a column holds (keys sorted: the same state, the same
    text, so a rebuilt row equals the live one)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def loads(text: str | None) -> Any:
    return orjson.loads(text) if text else None


TEAMS = Table(
    "in_team",
    ("team_id",),
    (
        Column("team_id"),
        Column("name"),
        Column("weekly_capacity", "real"),
        Column("capacity_position", "int"),
    ),
)
MEMBERS = Table(
    "in_member",
    ("member_id",),
    (
        Column("member_id"),
        Column("name"),
        Column("weekly_capacity", "real"),
        Column("active", "bool"),
        Column("capacity_position", "int"),
    ),
)
MEMBERSHIPS = Table(
    "in_membership",
    ("team_id", "member_id"),
    (Column("team_id"), Column("member_id")),
    indexes=(("member_id", "team_id"),),
)
GOALS = Table(
    "in_goal",
    ("goal_id",),
    (
        Column("goal_id"),
        Column("title"),
        Column("status"),
        Column("team_id"),
        Column("owner_id"),
        Column("period_start"),
        Column("period_end"),
        # [{id, title, start, target, current, progress, at, position}]: ``at`` and
        # ``position`` are those of the check-in (or the adding) that set ``current``.
        Column("key_results"),
        # The mean of the key results' progress; null without key results.
        Column("progress", "real"),
        Column("progress_at", "int"),
        Column("activated_at", "int"),
        Column("activated_position", "int"),
    ),
)
PROJECTS = Table(
    "in_project",
    ("project_id",),
    (
        Column("project_id"),
        Column("key"),
        Column("name"),
        Column("team_id"),
        Column("owner_id"),
        Column("status"),
        Column("target_date"),
        Column("target_position", "int"),
        Column("health"),
        Column("health_note"),
        Column("health_at", "int"),
        Column("health_position", "int"),
        # Its open issues, counted as they open and close: what its forecast has left to do.
        Column("open_issues", "int"),
    ),
    indexes=(("team_id", "project_id"),),
)
# Which goals a project serves, and which goals an item serves directly (a goal link, or an
# "affects" link to a goal), each with the position of the event that linked them.
PROJECT_GOALS = Table(
    "in_project_goal",
    ("project_id", "goal_id"),
    (
        Column("project_id"),
        Column("goal_id"),
        Column("linked_at", "int"),
        Column("linked_position", "int"),
    ),
    indexes=(("goal_id", "project_id"),),
)
ITEM_GOALS = Table(
    "in_item_goal",
    ("item_id", "goal_id"),
    (
        Column("item_id"),
        Column("goal_id"),
        Column("linked_at", "int"),
        Column("linked_position", "int"),
    ),
    indexes=(("goal_id", "item_id"),),
)
OPERATIONS = Table(
    "in_operation",
    ("operation_id",),
    (
        Column("operation_id"),
        Column("title"),
        Column("team_id"),
        Column("owner_id"),
        Column("status"),
    ),
    indexes=(("team_id", "operation_id"),),
)
# Every work item: issues, and operation occurrences (``kind`` "occurrence").
ITEMS = Table(
    "in_item",
    ("item_id",),
    (
        Column("item_id"),
        Column("kind"),
        Column("key"),
        Column("title"),
        Column("team_id"),
        Column("project_id"),
        Column("operation_id"),
        Column("assignee_id"),
        Column("status"),
        Column("is_open", "bool"),
        Column("priority"),
        Column("priority_position", "int"),
        Column("severity"),
        Column("severity_position", "int"),
        Column("estimate", "real"),
        Column("due_date"),
        Column("due_position", "int"),
        # How often a set due date was changed to another (or cleared): the events' positions
        # and times (JSON lists, in order).
        Column("due_moves", "int"),
        Column("due_move_positions"),
        Column("due_move_times"),
        Column("flagged", "bool"),
        Column("flagged_reason"),
        Column("flagged_at", "int"),
        Column("flagged_position", "int"),
        # The open issues this one waits on, each with the position and time of the event that
        # made it wait (the dependency, or the blocker's reopening): {id: position}, {id: at};
        # how many; and the issues that wait on this one.
        Column("waiting_positions"),
        Column("waiting_since"),
        Column("waiting", "int"),
        Column("blocks"),
        Column("created_at", "int"),
        Column("created_position", "int"),
        # The first move to in_progress: where cycle time and age start.
        Column("started_at", "int"),
        Column("started_position", "int"),
        Column("status_since", "int"),
        Column("status_position", "int"),
        # Microseconds spent in each earlier stretch of a status: {status: micros}.
        Column("status_time"),
        Column("reopens", "int"),
        Column("reopen_positions"),
        Column("finished_at", "int"),
        Column("last_event_at", "int"),
        Column("last_event_position", "int"),
        # The last change to what the item commits its owner to (status, assignee, estimate,
        # due date): when a member's or team's committed load last moved.
        Column("load_changed_at", "int"),
    ),
    indexes=(
        ("team_id", "item_id"),
        ("project_id", "item_id"),
        ("assignee_id", "item_id"),
        ("operation_id", "due_date"),
        Index(("status", "team_id"), "is_open"),
        Index(("due_date", "team_id"), "is_open AND due_date IS NOT NULL"),
        Index(("last_event_at", "team_id"), "is_open AND assignee_id IS NOT NULL"),
    ),
)
# Each issue finished and not reopened since: when, how long from its first move to in_progress
# (cycle) and from its creation (lead), and whose it was. Versioned, so as of any moment the
# rows are the issues finished by then.
FINISHED = Table(
    "in_finished",
    ("item_id",),
    (
        Column("item_id"),
        Column("team_id"),
        Column("project_id"),
        Column("assignee_id"),
        Column("finished_at", "int"),
        Column("cycle_micros", "int"),
        Column("lead_micros", "int"),
        Column("estimate", "real"),
    ),
    indexes=(
        ("team_id", "finished_at", "cycle_micros", "lead_micros"),
        ("project_id", "finished_at"),
        ("assignee_id", "finished_at"),
        ("finished_at", "team_id", "cycle_micros", "lead_micros"),
    ),
)

# Issues finished (``items`` 1) and reopened (-1) as facts in time: a team's, project's or
# member's weekly throughput, and the samples of its forecasts, as GET /v1/forecasts counts them.
COMPLETIONS = Table(
    "in_completion",
    ("position",),
    (
        Column("position", "int"),
        Column("item_id"),
        Column("team_id"),
        Column("project_id"),
        Column("assignee_id"),
        Column("occurred", "int"),
        Column("items", "int"),
        Column("estimate", "real"),
    ),
    versioned=False,
    indexes=(
        ("occurred", "team_id", "items", "estimate"),
        ("team_id", "occurred"),
        ("project_id", "occurred"),
        ("assignee_id", "occurred"),
    ),
)

# Issues and points finished (net of reopened ones) in each ISO week (``week_start`` its
# Monday), by team and by member (``owner_kind``): throughput, forecast samples and paces read
# a dozen rows per owner instead of every completion.
WEEKS = Table(
    "in_week",
    ("owner_id", "week_start"),
    (
        Column("owner_id"),
        Column("owner_kind"),
        Column("week_start"),
        Column("items", "int"),
        Column("points", "real"),
    ),
    indexes=(("owner_kind", "week_start", "owner_id", "items", "points"),),
)

TABLES: Final = (
    TEAMS,
    MEMBERS,
    MEMBERSHIPS,
    GOALS,
    PROJECTS,
    PROJECT_GOALS,
    ITEM_GOALS,
    OPERATIONS,
    ITEMS,
    FINISHED,
    COMPLETIONS,
    WEEKS,
)
