"""The portfolio read model: projects, the goal tree and organisation totals, for executives.

Aggregating 100,000 issues per request is far too slow for the portfolio's latency budget, so the
projection keeps the aggregates itself, as versioned rows (which also makes ``as_of`` exact).
Each issue's slim row (``pf_issue``) is the state it was last counted with; every change to it
moves its *share* out of the tallies it was counted in and into those it belongs to now: its
scope's tally (``pf_tally``: its project's, or its team's for issues outside any project) and
each linked goal's (``pf_goal_work``). One tally per issue keeps a rebuild to about one extra row
per event; organisation totals are the sum of the few hundred tallies. Completing an issue
appends a fact to ``pf_completion`` (reopening appends its reversal), from which a team's
throughput over any window is summed.

Only "overdue" and "late" depend on the moment asked about, so a tally keeps its open issues' due
dates as counts per date, and the query counts those before today.

Decisions the spec leaves open:
- progress counts every issue of the project except cancelled ones, by estimate (unestimated
  issues weigh nothing); when nothing is estimated, by count;
- an issue is blocked when it is open and either flagged blocked or waiting on a ``blocked_by``
  issue that is still open (a done or cancelled blocker no longer blocks);
- the forecast divides the project's open estimate by its team's throughput: the estimate the
  team completed in the ``throughput_weeks`` weeks before the moment asked about (all its work,
  planned or not, net of reopened work) per week;
- risk flags describe open projects only; a completed or cancelled project carries none;
- filters narrow the page of projects; the goal tree and the totals describe the organisation.
"""

from __future__ import annotations

from services.projections.dispatch import View
from services.projections.views.portfolio.handlers import HANDLERS
from services.projections.views.portfolio.routes import router
from services.projections.views.portfolio.tables import NAME, SCHEMA_VERSION, TABLES

PROJECTION = View(NAME, SCHEMA_VERSION, TABLES, HANDLERS)

__all__ = ["NAME", "PROJECTION", "router"]
