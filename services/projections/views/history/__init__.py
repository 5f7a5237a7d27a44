"""The history: every event as an entry with its field-level changes, in a tamper-evident chain.

For anyone who asks who changed what and when (an object's timeline, a member's activity, a
team's audit trail), and for auditors, who can check that no entry was changed, removed or added.

An entry says when the event occurred and was recorded, who caused it, which object (and team)
it concerns, what the event said, and each field of the object before and after it. To tell
before from after, the view keeps each object's fields as they stand (``hi_object``), one row per
object and per part of an object (see ``changes``).

Each entry carries the SHA-256 of its content and of the previous entry's hash (see ``chain``);
``GET /v1/history/verify`` recomputes them all. ``GET /v1/history`` pages the entries by
position, filtered by object, actor, team, kind and time (see ``queries``).
"""

from __future__ import annotations

from services.projections.dispatch import View
from services.projections.views.history.handlers import HANDLERS
from services.projections.views.history.routes import router
from services.projections.views.history.tables import ENTRIES, NAME, SCHEMA_VERSION, TABLES

# Each entry follows one object's events, whose times never go back, and the chain links
# entries in the order they were recorded: imported history is appended, never re-derived.
PROJECTION = View(NAME, SCHEMA_VERSION, TABLES, HANDLERS, occurred_order=False)

__all__ = ["ENTRIES", "NAME", "PROJECTION", "router"]
