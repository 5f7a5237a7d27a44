"""Insights: what needs attention and why, computed from the log with its evidence.

The projection keeps the facts each rule judges, per object, with the log positions of the
events that made them so: every work item (issues and operation occurrences) with its status
history (first start, time in each status, reopenings), due-date moves, blocks and
dependencies, and its latest activity; goals with their key results' progress; projects with
their open issues, target and posted health; which goals projects and issues serve; teams,
members and capacities; and each finished issue's cycle and lead time, and completions as facts
in time for throughput and forecasts. All versioned, so every insight can be judged as of any
past moment: "overdue", "stale", "aging" and the forecasts depend on the moment asked about,
so they are judged at query time over these facts, never stored.

The rules (``work``, ``plans``, ``capacity``) are pure functions of the facts: the same log
gives the same insights, and a rebuilt view the same as the live one. Thresholds are settings
(``rules.Rules``); docs/insights.md explains each kind, its severity and its evidence.
"""

from __future__ import annotations

from services.projections.dispatch import View
from services.projections.views.insights.handlers import HANDLERS
from services.projections.views.insights.routes import router
from services.projections.views.insights.tables import NAME, SCHEMA_VERSION, TABLES

PROJECTION = View(NAME, SCHEMA_VERSION, TABLES, HANDLERS)

__all__ = ["NAME", "PROJECTION", "router"]
