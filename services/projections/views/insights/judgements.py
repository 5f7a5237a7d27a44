"""Live insights judged once and answered again while they still hold.

An insight page is a function of two things only: the facts at the view's position and the
moment judged. A live question asked again at the same position within
``insight_reuse_seconds`` of an earlier judgement gets that judgement, stated as of its moment
(``now`` in the answer is the moment judged), so paging through an organisation's insights,
filtering them by kind or severity, and a dashboard asking again all cost a lookup instead of
reading and judging every fact again. Any event the view applies moves its position, and the
next question is judged afresh; ``as_of`` questions are always judged at their moment.

Judgements are kept per process, for the most recently asked scopes; one question per scope is
judged at a time, and those asking meanwhile wait for its answer rather than judging it again.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from services.projections.readmodel import Snapshot
from services.projections.views.insights.facts import Facts
from services.projections.views.insights.insight import KINDS, Insight
from services.projections.views.insights.rules import Rules
from services.projections.views.insights.scope import Scope

Order = tuple[int, int, float, int, str]
# Scopes whose judgements are kept: the organisation's and those of the teams, projects, goals
# and members asked about lately.
KEPT_SCOPES: Final = 32
# Questions about different scopes are judged side by side; about one scope, one at a time.
LOCK_STRIPES: Final = 64
ALL_KINDS: Final = frozenset(KINDS)


@dataclass
class Judgement:
    """Every insight of one scope, judged over the facts at ``position`` at ``moment``."""

    facts: Facts
    insights: list[Insight]
    generation: int
    position: int | None
    moment: datetime
    orders: list[Order] = field(init=False)
    # How many insights there are of each (kind, severity).
    tally: dict[tuple[str, str], int] = field(init=False)
    # Writing out sentences and evidence mutates the insights: one page at a time.
    writing: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.orders = [insight.order for insight in self.insights]
        self.tally = {}
        for insight in self.insights:
            key = (insight.kind, insight.severity)
            self.tally[key] = self.tally.get(key, 0) + 1

    def holds_for(self, snapshot: Snapshot, now: datetime, reuse_seconds: float) -> bool:
        """Whether this judgement is the answer to a live question about ``snapshot`` at
        ``now``: the same facts, judged no more than ``reuse_seconds`` before."""
        age = (now - self.moment).total_seconds()
        return (
            snapshot.as_of is None
            and snapshot.position is not None
            and snapshot.generation == self.generation
            and snapshot.position == self.position
            and 0 <= age <= reuse_seconds
        )

    def counts(self, kinds: frozenset[str], severities: frozenset[str]) -> dict[str, int]:
        counted = {"critical": 0, "warning": 0, "info": 0}
        for (kind, severity), number in self.tally.items():
            if kind in kinds and severity in severities:
                counted[severity] += number
        return counted

    def page(
        self,
        kinds: frozenset[str],
        severities: frozenset[str],
        limit: int,
        after: Order | None,
    ) -> tuple[list[Insight], bool]:
        """Up to ``limit`` insights of ``kinds`` and ``severities`` after the cursor, and
        whether more follow."""
        start = 0 if after is None else bisect_right(self.orders, after)
        chosen: list[Insight] = []
        for insight in self.insights[start:]:
            if insight.kind in kinds and insight.severity in severities:
                if len(chosen) == limit:
                    return chosen, True
                chosen.append(insight)
        return chosen, False


Judge = Callable[[], Judgement]


class Judgements:
    """The judgements of this process, reused while they hold (see the module's note)."""

    def __init__(self, reuse_seconds: float, kept: int = KEPT_SCOPES) -> None:
        self.reuse_seconds = reuse_seconds
        self._kept = kept
        self._judged: OrderedDict[tuple[str, Rules], Judgement] = OrderedDict()
        self._guard = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]

    def judgement(
        self, snapshot: Snapshot, now: datetime, scope: Scope, rules: Rules, judge: Judge
    ) -> Judgement:
        """The judgement of ``scope`` answering a question about ``snapshot`` asked at ``now``:
        a kept one that still holds, else ``judge()``'s (kept, when the question is live)."""
        live = snapshot.as_of is None and snapshot.position is not None
        if not live or self.reuse_seconds <= 0:
            return judge()
        key = (str(scope), rules)
        with self._stripes[hash(key) % LOCK_STRIPES]:
            kept = self._kept_judgement(key)
            if kept is not None and kept.holds_for(snapshot, now, self.reuse_seconds):
                return kept
            judged = judge()
            with self._guard:
                self._judged[key] = judged
                self._judged.move_to_end(key)
                while len(self._judged) > self._kept:
                    self._judged.popitem(last=False)
            return judged

    def _kept_judgement(self, key: tuple[str, Rules]) -> Judgement | None:
        with self._guard:
            found = self._judged.get(key)
            if found is not None:
                self._judged.move_to_end(key)
            return found

    def __len__(self) -> int:
        return len(self._judged)
