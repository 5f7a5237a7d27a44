"""Personal queue: a member's open work in a stable, explained order, each item with its context.

The projection keeps every work item (issue or operation occurrence) with what the queue shows of
it, the dependencies between issues (so "what does this block" is an index lookup by blocker),
and the names and states of the members, goals and projects items point at. A queue is read with
a few set-based queries: the member's open items through an index on the assignee, then the
issues they block, their projects, their goals and the names of everyone waiting. The order
depends on the day (overdue) and on other objects (goal status, open blocked issues), so it is
computed per request; a cursor is the rank of the last item of a page.
"""

from __future__ import annotations

from services.projections.dispatch import View
from services.projections.views.queue.handlers import HANDLERS
from services.projections.views.queue.routes import router
from services.projections.views.queue.tables import NAME, SCHEMA_VERSION, TABLES

PROJECTION = View(NAME, SCHEMA_VERSION, TABLES, HANDLERS)

__all__ = ["NAME", "PROJECTION", "router"]
