"""Entities: each object's full current (or past) state, and filtered lists of each kind.

It answers ``GET /v1/{teams,members,goals,projects,issues,operations}[/{id}]`` and an issue's
comments, for every client that shows or edits an object: a detail's ``ETag`` is the version a
command's ``If-Match`` takes.

Every object is one versioned row per kind (``en_team``, ``en_issue`` ...): the columns lists
filter on, typed and indexed over current rows, and an orjson document with the rest. A filter
column always holds the document's field of the same name, so the two never disagree.

What relates objects to each other lives in ``en_edge`` rather than in the objects' documents:
a team's members and a member's teams, a goal's children and linked issues, an issue's sub-issues
and what it blocks, the issues carrying a label. An edge is keyed by the node it is read from,
so the table's own version index answers "what hangs off this node" for any ``as_of`` too, and
an event never has to rewrite a second object's document (nor depend on the order in which one
command's events reach the log). Occurrences get rows of their own so that a daily operation's
years of occurrences are not rewritten with every tick, and comments are append-only facts.
"""

from __future__ import annotations

from services.projections.dispatch import View

# The issues' and the operations' handlers join HANDLERS as their modules load.
from . import issue_handlers, operation_handlers  # noqa: F401
from .handlers import HANDLERS
from .routes import router
from .tables import NAME, SCHEMA_VERSION, TABLES

# Every event changes some object: with a handler for each, the view reads the log unfiltered.
PROJECTION = View(NAME, SCHEMA_VERSION, TABLES, HANDLERS)

__all__ = ["PROJECTION", "router"]
