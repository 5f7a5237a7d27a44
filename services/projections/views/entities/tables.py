"""The entities' tables: a versioned row per object of each kind, occurrences, edges, comments."""

from __future__ import annotations

from services.projections.readmodel import Column, Table

NAME = "entities"
SCHEMA_VERSION = 6


def _objects(
    name: str,
    filters: tuple[Column, ...] = (),
    values: tuple[Column, ...] = (),
    combined: tuple[tuple[str, ...], ...] = (),
) -> Table:
    """A kind of object: id, creation order, stream version, the columns lists filter on (and
    ``values`` summed across objects), and the document."""
    return Table(
        name,
        key=("id",),
        columns=(
            Column("id"),
            # When the object was created (microseconds), then the log position that created
            # it: the order lists are in, the order a store recording live would have made them.
            Column("created_occurred", "int"),
            Column("created_position", "int"),
            Column("version", "int"),
            *filters,
            *values,
            Column("doc"),
        ),
        # Lists page in creation order, so each filter's index ends in it.
        indexes=(
            ("created_occurred", "created_position"),
            *((column.name, "created_occurred", "created_position") for column in filters),
            *((*columns, "created_occurred", "created_position") for columns in combined),
        ),
    )


TEAMS = _objects("en_team")
MEMBERS = _objects(
    "en_member",
    (Column("role"), Column("active", "bool")),
    values=(Column("weekly_capacity", "real"),),
)
GOALS = _objects(
    "en_goal", (Column("team_id"), Column("status"), Column("owner_id"), Column("parent_id"))
)
PROJECTS = _objects("en_project", (Column("team_id"), Column("status")))
ISSUES = _objects(
    "en_issue",
    (
        Column("team_id"),
        Column("project_id"),
        Column("assignee_id"),
        Column("status"),
        Column("kind"),
        Column("priority"),
        Column("blocked", "bool"),
        Column("parent_id"),
        Column("key"),
    ),
    # ``title`` is a column so a list can search it (``q``); no index serves "contains".
    values=(Column("estimate", "real"), Column("title")),
    # Work is mostly asked for by whose it is and how far along: without these, a team's few
    # issues in progress are found by reading all of its done ones.
    combined=(("team_id", "status"), ("project_id", "status"), ("assignee_id", "status")),
)
OPERATIONS = _objects("en_operation", (Column("team_id"), Column("status")))
OCCURRENCES = Table(
    "en_occurrence",
    key=("operation_id", "due_date"),
    columns=(
        Column("operation_id"),
        Column("due_date"),
        Column("occurrence_id"),
        Column("status"),
        Column("assignee_id"),
        Column("estimate", "real"),
        Column("note"),
    ),
    indexes=(("operation_id", "status", "due_date"),),
)
EDGES = Table(
    "en_edge",
    key=("node_id", "relation", "other_id"),
    columns=(Column("node_id"), Column("relation"), Column("other_id")),
)
COMMENTS = Table(
    "en_comment",
    key=("issue_id", "position"),
    columns=(
        Column("issue_id"),
        Column("position", "int"),
        Column("comment_id"),
        Column("author"),
        Column("body"),
        Column("occurred", "int"),
    ),
    versioned=False,
)

OBJECTS = (TEAMS, MEMBERS, GOALS, PROJECTS, ISSUES, OPERATIONS)
"""The tables of objects, one per kind, each row an object's version with its document."""

TABLES: tuple[Table, ...] = (*OBJECTS, OCCURRENCES, EDGES, COMMENTS)

# Edge relations, each read from its node: node --relation--> other.
TEAM_MEMBER = "member"  # team -> member
MEMBER_TEAM = "team"  # member -> team
CHILD_GOAL = "child_goal"  # goal -> goal aligned under it
GOAL_ISSUE = "goal_issue"  # goal -> issue linked to it
SUB_ISSUE = "sub_issue"  # issue -> its sub-issue
BLOCKS = "blocks"  # issue -> issue waiting on it
LABELLED = "label"  # label -> issue carrying it
