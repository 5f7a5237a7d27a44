"""The queue's tables: every work item with what the queue shows of it, the dependencies between
issues, and the members, goals, projects and operations items point at."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from services.projections.readmodel import Column, Table

NAME = "queue"
SCHEMA_VERSION = 2

OCCURRENCE = "occurrence"
ACTIVE_GOAL = "active"

MEMBERS = Table(
    "qu_member",
    key=("member_id",),
    columns=(Column("member_id"), Column("name"), Column("active", "bool")),
)
GOALS = Table(
    "qu_goal", key=("goal_id",), columns=(Column("goal_id"), Column("title"), Column("status"))
)
PROJECTS = Table(
    "qu_project",
    key=("project_id",),
    columns=(Column("project_id"), Column("key"), Column("name"), Column("goal_ids")),
)
OPERATIONS = Table(
    "qu_operation", key=("operation_id",), columns=(Column("operation_id"), Column("title"))
)
ITEMS = Table(
    "qu_item",
    key=("item_id",),
    columns=(
        Column("item_id"),
        Column("kind"),
        Column("assignee_id"),
        Column("is_open", "bool"),
        Column("status"),
        Column("title"),
        Column("priority"),
        Column("due_date"),
        Column("estimate", "real"),
        Column("project_id"),
        Column("key"),
        Column("operation_id"),
        Column("goal_ids"),
        Column("affected_goal_ids"),
        Column("blocked_reason"),
        Column("watchers"),
        Column("created", "int"),
    ),
    indexes=(("assignee_id", "is_open"),),
)
# ``blocked_id`` lists ``blocker_id`` in its blocked_by: the key leads with the blocker, so the
# unique index over current rows answers "what does this item block".
DEPENDENCIES = Table(
    "qu_dependency",
    key=("blocker_id", "blocked_id"),
    columns=(Column("blocker_id"), Column("blocked_id")),
)

TABLES = (MEMBERS, GOALS, PROJECTS, OPERATIONS, ITEMS, DEPENDENCIES)

# Lists of ids (``goal_ids``, ``affected_goal_ids``, ``watchers``) are held as JSON arrays.
EMPTY = "[]"


def id_list(values: Sequence[str]) -> str:
    return orjson.dumps(list(values)).decode()


def ids_in(text: str | None) -> list[str]:
    if not text or text == EMPTY:
        return []
    found: list[str] = orjson.loads(text)
    return found
