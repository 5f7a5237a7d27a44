"""Team workload: each team's and member's open work against weekly capacity, and throughput.

The projection keeps every work item (issue or operation occurrence) with the few fields the view
needs, and running totals of the open work of each team (``wl_team_open``) and of each member
(``wl_member_open``), so the summary of every team reads one row per team instead of every open
item. The part of that work that has a due date is also summed per day (``wl_load``,
``wl_member_load``): "overdue" and "upcoming" are sums over the days before, or just after, the
day the view describes. Completions (issues moved to done, occurrences completed) are counted per
ISO week for the team and for the assignee (``wl_throughput``), so eight weeks of throughput are
eight rows per owner.
"""

from __future__ import annotations

from services.projections.dispatch import View
from services.projections.views.workload.handlers import HANDLERS
from services.projections.views.workload.routes import router
from services.projections.views.workload.tables import NAME, SCHEMA_VERSION, TABLES

PROJECTION = View(NAME, SCHEMA_VERSION, TABLES, HANDLERS)

__all__ = ["NAME", "PROJECTION", "router"]
