"""``GET /v1/summaries``: a short written status of a scope over a period, built from the view
with templates. The facts are read as of the period's end and, for what moved (goals, key
results, forecasts), as of its start too; the insights are those holding at its end."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any, Final

from services.infrastructure.store import Statement
from services.projections.query import ViewRequest
from services.projections.readmodel import Row, Snapshot, micros
from services.projections.views.insights.facts import Facts, read_plans
from services.projections.views.insights.insight import KINDS, Insight
from services.projections.views.insights.plans import Forecasts, goal_scopes, project_scopes
from services.projections.views.insights.queries import insights_at
from services.projections.views.insights.rules import Rules
from services.projections.views.insights.scope import Scope
from services.projections.views.insights.statements import ITEM_COLUMNS, Sql, item_scope
from services.projections.views.insights.tables import (
    ITEM_GOALS,
    ITEMS,
    OCCURRENCE,
    PROJECT_GOALS,
    loads,
)
from services.projections.views.insights.work import item_name

PLANNED: Final = ("task",)
# Each section lists at most this many items (its count says how many there are).
LISTED: Final = 20
TOP_INSIGHTS: Final = 5
# A forecast "changed" when its 85% date moved or its chance of the target moved this much.
CHANCE_MOVED: Final = 0.1
_PRIORITY_ORDER = (
    "CASE i.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 "
    "WHEN 'low' THEN 3 ELSE 4 END"
)


def _scoped(q: Sql, scope: Scope) -> str:
    """Items of the scope: for a goal, those linked to it directly or through their project."""
    if scope.kind != "goal":
        return item_scope(q, scope)
    direct, through = q.visible("sg"), q.visible("sp")
    return (
        f" AND (i.item_id IN (SELECT sg.item_id FROM {q.table(ITEM_GOALS, 'sg')} "
        f"WHERE sg.goal_id = {q.value(scope.id)} AND {direct}) "
        f"OR i.project_id IN (SELECT sp.project_id FROM {q.table(PROJECT_GOALS, 'sp')} "
        f"WHERE sp.goal_id = {q.value(scope.id)} AND {through}))"
    )


def _items(
    snapshot: Snapshot, scope: Scope, condition: str, values: tuple[Any, ...], order: str
) -> Statement:
    """The scope's items meeting ``condition`` (its ``%s`` filled from ``values``)."""
    q = Sql(snapshot)
    columns = ", ".join(f"i.{name}" for name in ITEM_COLUMNS)
    sql = f"SELECT {columns}, i.finished_at FROM {q.table(ITEMS, 'i')} WHERE {q.visible('i')}"
    sql += _scoped(q, scope)
    q.params.extend(values)
    return q.statement(f"{sql} AND {condition} ORDER BY {order}")


def _row(values: tuple[Any, ...]) -> Row:
    row = dict(zip(ITEM_COLUMNS, values[:-1], strict=True))
    row["finished_at"] = values[-1]
    return row


def _entry(item: Row, **values: Any) -> dict[str, Any]:
    return {"id": item["item_id"], "name": item_name(item), "kind": item["kind"], **values}


def _split(items: list[Row]) -> dict[str, int]:
    planned = sum(1 for item in items if item["kind"] in PLANNED)
    return {"count": len(items), "planned": planned, "unplanned": len(items) - planned}


def _goal_moves(before: Facts, after: Facts) -> list[dict[str, Any]]:
    moves = []
    for goal_id, goal in after.goals.items():
        if not after.scope.covers(goal_scopes(goal)):
            continue
        earlier = before.goals.get(goal_id)
        was = {kr["id"]: kr for kr in loads(earlier["key_results"])} if earlier else {}
        key_results = [
            {
                "id": kr["id"],
                "title": kr["title"],
                "before": was[kr["id"]]["current"] if kr["id"] in was else None,
                "after": kr["current"],
                "target": kr["target"],
            }
            for kr in loads(goal["key_results"])
        ]
        moves.append(
            {
                "id": goal_id,
                "title": goal["title"],
                "progress_before": earlier["progress"] if earlier else None,
                "progress_after": goal["progress"],
                "key_results": key_results,
            }
        )
    moves.sort(key=lambda move: str(move["title"]))
    return moves


def _forecast_of(forecasts: Forecasts, project: Row) -> dict[str, Any] | None:
    open_issues = int(project["open_issues"] or 0)
    made = forecasts.of(project["team_id"], open_issues)
    if made is None:
        return None
    p85 = next((finish.date for finish in made.finishes if finish.share == 0.85), None)
    target = date.fromisoformat(project["target_date"])
    return {
        "open_issues": open_issues,
        "p85_date": p85,
        "probability_by_target": round(made.probability_by(target), 4),
    }


def _forecast_changes(before: Facts, after: Facts, rules: Rules) -> list[dict[str, Any]]:
    earlier, later = Forecasts(before, rules), Forecasts(after, rules)
    changes = []
    for project_id, project in after.projects.items():
        if not after.scope.covers(project_scopes(after, project)):
            continue
        now = _forecast_of(later, project)
        was = before.projects.get(project_id)
        then = _forecast_of(earlier, was) if was is not None else None
        if now is None and then is None:
            continue
        moved = (
            now is None
            or then is None
            or now["p85_date"] != then["p85_date"]
            or abs(now["probability_by_target"] - then["probability_by_target"]) >= CHANCE_MOVED
        )
        if moved:
            changes.append(
                {
                    "project": {"id": project_id, "name": f"{project['key']} {project['name']}"},
                    "target_date": project["target_date"],
                    "before": then,
                    "after": now,
                }
            )
    changes.sort(key=lambda change: str(change["project"]["name"]))
    return changes


def _scope_name(facts: Facts) -> str:
    scope = facts.scope
    if scope.id is None:
        return "the organisation"
    if scope.kind == "team":
        return facts.team_name(scope.id) or "the team"
    if scope.kind == "member":
        return facts.member_name(scope.id) or "the member"
    if scope.kind == "goal":
        goal = facts.goals.get(scope.id)
        return f"the goal '{goal['title']}'" if goal else "the goal"
    project = facts.projects.get(scope.id)
    return f"{project['key']} {project['name']}" if project else "the project"


def read_summary(
    view: ViewRequest,
    current: Snapshot,
    scope: Scope,
    rules: Rules,
    since: datetime,
    until: datetime,
) -> dict[str, Any]:
    """The summary's sections (a ``Summary`` without its text)."""
    at_end = replace(view, as_of=until, now=until)
    at_start = replace(view, as_of=since, now=since)
    # Up to now, the current rows are the rows as of now, and their indexes serve them.
    live = view.as_of is None and until == view.now
    end = current if live else Snapshot(current.generation, micros(until))
    start = Snapshot(current.generation, micros(since))
    after, found = insights_at(at_end, end, scope, rules, frozenset(KINDS))
    before = read_plans(at_start, start, scope, rules)
    window = (micros(since), micros(until))
    first_day, last_day = since.date().isoformat(), until.date().isoformat()
    finished, opened, passed, moved, blocked = view.fetch_each(
        _items(
            end,
            scope,
            "i.status IN ('done', 'completed', 'skipped') AND i.finished_at > %s "
            "AND i.finished_at <= %s",
            window,
            "i.finished_at, i.item_id",
        ),
        _items(
            end,
            scope,
            f"i.kind <> '{OCCURRENCE}' AND i.created_at > %s AND i.created_at <= %s",
            window,
            f"{_PRIORITY_ORDER}, i.created_at, i.item_id",
        ),
        _items(
            end,
            scope,
            "i.is_open AND i.due_date >= %s AND i.due_date < %s",
            (first_day, last_day),
            "i.due_date, i.item_id",
        ),
        _items(end, scope, "i.due_moves > 0", (), "i.item_id"),
        _items(
            end,
            scope,
            f"i.is_open AND i.kind <> '{OCCURRENCE}' AND (i.flagged OR i.waiting > 0)",
            (),
            f"{_PRIORITY_ORDER}, i.item_id",
        ),
    )
    finished_rows = [_row(values) for values in finished]
    done = [item for item in finished_rows if item["status"] == "done"]
    recurring = [item for item in finished_rows if item["kind"] == OCCURRENCE]
    opened_rows = [_row(values) for values in opened]
    moved_rows = []
    for values in moved:
        item = _row(values)
        moves = [at for at in loads(item["due_move_times"]) if window[0] < at <= window[1]]
        if moves:
            moved_rows.append(_entry(item, moves=len(moves), due_date=item["due_date"]))
    blocked_rows = [_row(values) for values in blocked]
    points = sum(float(item["estimate"] or 0.0) for item in done)
    return {
        "now": view.now,
        "scope": str(scope),
        "scope_name": _scope_name(after),
        "since": since,
        "until": until,
        "finished": {
            **_split(done),
            "points": round(points, 6),
            "occurrences_completed": sum(1 for i in recurring if i["status"] == "completed"),
            "occurrences_skipped": sum(1 for i in recurring if i["status"] == "skipped"),
            "items": [_entry(item) for item in done[:LISTED]],
        },
        "opened": {
            **_split(opened_rows),
            "items": [_entry(item, priority=item["priority"]) for item in opened_rows[:LISTED]],
        },
        "slipped": {
            "passed_count": len(passed),
            "passed": [
                _entry(item, due_date=item["due_date"])
                for item in (_row(values) for values in passed[:LISTED])
            ],
            "moved_count": len(moved_rows),
            "moved": moved_rows[:LISTED],
        },
        "blocked": {
            "count": len(blocked_rows),
            "items": [
                _entry(
                    item,
                    reason=item["flagged_reason"],
                    waiting_on=int(item["waiting"] or 0),
                )
                for item in blocked_rows[:LISTED]
            ],
        },
        "goals": _goal_moves(before, after),
        "forecasts": _forecast_changes(before, after, rules),
        "insights": [insight.document() for insight in _top(found)],
    }


def _top(found: list[Insight]) -> list[Insight]:
    """The most severe insights, one per kind first so a long triage queue can't crowd out
    the rest."""
    first_of_kind: list[Insight] = []
    seen: set[str] = set()
    for insight in found:
        if insight.kind not in seen and insight.severity != "info":
            seen.add(insight.kind)
            first_of_kind.append(insight)
    return first_of_kind[:TOP_INSIGHTS]
