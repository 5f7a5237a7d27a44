"""The history's tables: the entries, each object's fields as they stand, and the chain's head."""

from __future__ import annotations

from services.projections.readmodel import Column, Index, Table

NAME = "history"
SCHEMA_VERSION = 4

ENTRIES = Table(
    "hi_entry",
    key=("position",),
    columns=(
        Column("position", "int"),
        Column("event_id"),
        Column("occurred", "int"),
        Column("recorded", "int"),
        Column("actor"),
        Column("object_kind"),
        Column("object_id"),
        Column("event_type"),
        Column("team_id"),
        Column("correlation_id"),
        Column("causation_id"),
        Column("data"),
        Column("changes"),
        Column("previous_hash"),
        Column("hash"),
        # The time index (see ``queries.time_bounded``): the latest ``occurred`` up to this
        # entry, and whether this entry occurred before an earlier one (history imported late).
        Column("occurred_max", "int"),
        Column("out_of_order", "bool"),
    ),
    versioned=False,
    # One index per filter, each ending in the position the pages are ordered and cut by.
    indexes=(
        ("object_id", "position"),
        ("actor", "position"),
        ("team_id", "position"),
        ("object_kind", "position"),
        ("occurred_max", "position"),
        # Entries imported late, found by when they occurred or by position, whichever reads
        # fewer for the page asked (see ``queries.time_bounded``). Few entries are: partial
        # indexes.
        Index(("occurred", "position"), where="out_of_order"),
        Index(("position",), where="out_of_order"),
    ),
)
ENTRY_COLUMNS = ENTRIES.column_names
OBJECTS = Table(
    "hi_object",
    key=("object_id", "part"),
    columns=(Column("object_id"), Column("part"), Column("team_id"), Column("fields")),
    latest_only=True,
)
CHAIN = Table(
    "hi_chain",
    key=("chain",),
    columns=(
        Column("chain"),
        Column("last_position", "int"),
        Column("hash"),
        Column("occurred_max", "int"),
    ),
    latest_only=True,
)

TABLES = (ENTRIES, OBJECTS, CHAIN)
