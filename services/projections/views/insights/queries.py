"""``GET /v1/insights``: the facts of a scope read in one batch, every rule judged over them,
and the insights that belong to the scope, most severe first, in pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final

import orjson

from services.infrastructure.http import ProblemError
from services.projections.query import ViewRequest, encode_cursor
from services.projections.readmodel import Snapshot
from services.projections.views.insights.capacity import (
    idle_capacity,
    operation_unhealthy,
    overloaded,
)
from services.projections.views.insights.facts import Facts, read_facts
from services.projections.views.insights.insight import KINDS, Insight, fact
from services.projections.views.insights.judgements import ALL_KINDS, Judgement, Judgements
from services.projections.views.insights.plans import Forecasts, goal_at_risk, project_slipping
from services.projections.views.insights.rules import Rules
from services.projections.views.insights.scope import Scope
from services.projections.views.insights.statements import ITEM_COLUMNS, Sql
from services.projections.views.insights.tables import ITEMS, STARTED
from services.projections.views.insights.work import (
    aging_work,
    due_date_churn,
    item_ref,
    stale_work,
    triage,
    work_on_goal_at_risk,
)

Judge = Callable[[Facts, Rules], list[Insight]]
# The items named as evidence of an overloaded member or team, the largest first.
OVERLOAD_EVIDENCE_ITEMS: Final = 20

Cursor = tuple[int, int, float, int, str]


def judge(facts: Facts, rules: Rules, kinds: frozenset[str]) -> list[Insight]:
    """Every insight of ``kinds`` the facts hold, in the scope asked about."""
    forecasts = Forecasts(facts, rules)
    judges: dict[str, Judge] = {
        "goal_at_risk": lambda f, r: goal_at_risk(f, r, forecasts),
        "work_on_goal_at_risk": work_on_goal_at_risk,
        "project_slipping": lambda f, r: project_slipping(f, r, forecasts),
        "overloaded": overloaded,
        "operation_unhealthy": operation_unhealthy,
        "aging_work": aging_work,
        "stale_work": stale_work,
        "due_date_churn": due_date_churn,
        "idle_capacity": idle_capacity,
        "triage": triage,
    }
    found: list[Insight] = []
    for kind in KINDS:
        if kind in kinds:
            found.extend(
                insight
                for insight in judges[kind](facts, rules)
                if facts.scope.covers(insight.scopes)
            )
    found.sort(key=lambda insight: insight.order)
    return found


def insights_at(
    view: ViewRequest, snapshot: Snapshot, scope: Scope, rules: Rules, kinds: frozenset[str]
) -> tuple[Facts, list[Insight]]:
    """The facts and the insights of ``scope`` at the moment ``view`` describes; a 404 when the
    scope's object did not exist then."""
    facts = read_facts(view, snapshot, scope, rules)
    if not facts.scope_exists:
        when = f" as of {view.as_of.isoformat()}" if view.as_of is not None else ""
        raise ProblemError(404, "not_found", f"there is no {scope.kind} {scope.id}{when}")
    return facts, judge(facts, rules, kinds)


def _committed_items(
    view: ViewRequest, snapshot: Snapshot, facts: Facts, rules: Rules, found: list[Insight]
) -> None:
    """Names, as evidence of each overloaded member or team, its largest committed items."""
    owners = [
        (insight, insight.objects[0])
        for insight in found
        if insight.kind == "overloaded" and not insight.committed_named
    ]
    if not owners:
        return
    horizon = (facts.moment.today + timedelta(days=rules.overload_days)).isoformat()
    statements = []
    for _, about in owners:
        q = Sql(snapshot)
        column = "assignee_id" if about["kind"] == "member" else "team_id"
        columns = ", ".join(f"i.{name}" for name in ITEM_COLUMNS)
        statements.append(
            q.statement(
                f"SELECT {columns} FROM {q.table(ITEMS, 'i')} WHERE {q.visible('i')} "
                f"AND i.is_open AND i.status <> 'triage' "
                f"AND i.{column} = {q.value(about['id'])} AND "
                f"((i.due_date IS NOT NULL AND i.due_date < {q.value(horizon)}) OR "
                f"(i.due_date IS NULL AND i.status IN ('{STARTED[0]}', '{STARTED[1]}'))) "
                "ORDER BY COALESCE(i.estimate, 0) DESC, i.item_id "
                f"LIMIT {q.value(OVERLOAD_EVIDENCE_ITEMS)}"
            )
        )
    for (insight, _), rows in zip(owners, view.fetch_each(*statements), strict=True):
        insight.committed_named = True
        for values in rows:
            item = dict(zip(ITEM_COLUMNS, values, strict=True))
            insight.evidence.append(
                fact(
                    item_ref(item),
                    {
                        "estimate": item["estimate"],
                        "due_date": item["due_date"],
                        "status": item["status"],
                        "assignee_id": item["assignee_id"],
                    },
                    item["due_position"],
                    item["created_position"],
                )
            )


def read_insights(
    view: ViewRequest,
    snapshot: Snapshot,
    scope: Scope,
    rules: Rules,
    judgements: Judgements,
    *,
    kinds: frozenset[str],
    severities: frozenset[str],
    limit: int,
    after: Cursor | None,
) -> bytes:
    """The insights as JSON (an ``Insights`` page)."""

    def judged() -> Judgement:
        facts, found = insights_at(view, snapshot, scope, rules, ALL_KINDS)
        return Judgement(facts, found, snapshot.generation, snapshot.position, view.now)

    judgement = judgements.judgement(snapshot, view.now, scope, rules, judged)
    page, more = judgement.page(kinds, severities, limit, after)
    with judgement.writing:
        _committed_items(view, snapshot, judgement.facts, rules, page)
        items = [insight.document() for insight in page]
    document: dict[str, Any] = {
        "now": judgement.moment,
        "scope": str(scope),
        "counts": judgement.counts(kinds, severities),
        "items": items,
        "next_cursor": encode_cursor(list(page[-1].order)) if more else None,
    }
    return orjson.dumps(document, option=orjson.OPT_UTC_Z)
