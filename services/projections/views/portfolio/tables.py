"""The portfolio's tables: teams and members by name, projects and goals, each issue's slim row
with the tallies it is counted in, operations, and completed work for the teams' pace."""

from __future__ import annotations

from typing import Any, Final

import orjson

from domain.issue import KINDS, PRIORITIES
from services.projections.readmodel import Column, Table

NAME: Final = "portfolio"
SCHEMA_VERSION: Final = 5

# A tally's open due dates travel through the shares as ``due:<date>`` entries.
DUE: Final = "due:"
# Estimates are summed and subtracted again; rounding keeps that from leaving float dust.
DIGITS: Final = 9
DAY_MICROS: Final = 86_400_000_000


def dumps(value: Any) -> str:
    """A list or map as the JSON text a column holds."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def loads(text: str | None) -> Any:
    return orjson.loads(text) if text else None


def _counts(*names: str) -> tuple[Column, ...]:
    return tuple(Column(name, "int") for name in names)


def _amounts(*names: str) -> tuple[Column, ...]:
    return tuple(Column(name, "real") for name in names)


TEAMS = Table("pf_team", ("team_id",), (Column("team_id"), Column("name")))
MEMBERS = Table("pf_member", ("member_id",), (Column("member_id"), Column("name")))
PROJECTS = Table(
    "pf_project",
    ("project_id",),
    (
        Column("project_id"),
        Column("key"),
        Column("name"),
        Column("owner_id"),
        Column("team_id"),
        Column("status"),
        Column("start_date"),
        Column("target_date"),
        Column("health"),
        Column("health_note"),
        Column("health_at", "int"),
        Column("goal_ids"),
        Column("milestones"),
    ),
    indexes=(("key", "project_id"), ("team_id", "key", "project_id")),
)
PROJECT_METRICS: Final = (
    *_counts("issues_total", "issues_done"),
    *_amounts("estimate_total", "estimate_done", "open_estimate"),
    *_counts(*(f"open_{priority}" for priority in PRIORITIES), "blocked"),
    Column("open_due"),
)
KIND_METRICS: Final = tuple(
    column
    for kind in KINDS
    for column in (
        *_counts(f"{kind}_open", f"{kind}_done", f"{kind}_cancelled"),
        *_amounts(f"{kind}_open_estimate", f"{kind}_done_estimate"),
    )
)
TALLIES = Table("pf_tally", ("scope_id",), (Column("scope_id"), *PROJECT_METRICS, *KIND_METRICS))
ISSUES = Table(
    "pf_issue",
    ("issue_id",),
    (
        Column("issue_id"),
        Column("team_id"),
        Column("project_id"),
        Column("kind"),
        Column("status"),
        Column("priority"),
        Column("estimate", "real"),
        Column("due_date"),
        Column("flagged", "bool"),
        Column("waiting", "bool"),
        Column("blocked_by"),
        Column("blocks"),
        Column("goal_ids"),
        Column("credited", "real"),
    ),
)
GOALS = Table(
    "pf_goal",
    ("goal_id",),
    (
        Column("goal_id"),
        Column("title"),
        Column("owner_id"),
        Column("team_id"),
        Column("period_start"),
        Column("period_end"),
        Column("parent_id"),
        Column("status"),
        Column("key_results"),
    ),
)
GOAL_WORK = Table(
    "pf_goal_work",
    ("goal_id",),
    (
        Column("goal_id"),
        *_counts("issues_total", "issues_done"),
        *_amounts("estimate_total", "estimate_done"),
    ),
)
OPERATIONS = Table(
    "pf_operation",
    ("operation_id",),
    (
        Column("operation_id"),
        Column("team_id"),
        Column("status"),
        Column("open_occurrences"),
        *_counts("completed", "skipped"),
    ),
)
COMPLETIONS = Table(
    "pf_completion",
    ("position",),
    (
        Column("position", "int"),
        Column("issue_id"),
        Column("team_id"),
        Column("project_id"),
        Column("kind"),
        Column("estimate", "real"),
        Column("occurred", "int"),
        # 1 for an issue done, -1 for one reopened: a team's weekly throughput in items.
        Column("items", "int"),
    ),
    versioned=False,
    indexes=(("occurred", "team_id", "estimate"), ("team_id", "occurred", "items")),
)
# Completed estimate and issues (net of reopened ones) per team and UTC day (days since the
# epoch). A team's pace over the last weeks sums whole days from here and only the two partial
# days at its ends from completions, and its forecast's weekly samples sum whole weeks of days,
# so a portfolio reads a few thousand rows instead of every completion in the window.
TEAM_DAYS = Table(
    "pf_team_day",
    ("team_id", "day"),
    (
        Column("team_id"),
        Column("day", "int"),
        Column("completed", "real"),
        Column("items", "int"),
    ),
    latest_only=True,
    indexes=(("day", "team_id", "completed", "items"),),
)

TABLES: Final = (
    TEAMS,
    MEMBERS,
    PROJECTS,
    ISSUES,
    TALLIES,
    GOALS,
    GOAL_WORK,
    OPERATIONS,
    COMPLETIONS,
    TEAM_DAYS,
)
