"""``GET /v1/flow``: how work moves, measured exactly from the insights' history.

A scope is answered as groups of one or more kinds: the organisation's teams; a team, its
members (its memberships at the moment asked about) and its projects; a project; a member. Each
kind of group has the column its rows are told apart by (``team_id``, ``assignee_id``,
``project_id``) and the condition that keeps the scope's groups; for each kind, four set-based
statements read its names, the finished issues in the window (``in_finished``: finished and not
reopened since), the completions of each whole week (``in_completion``, summed per week in SQL)
and the started issues (``in_item``), all sent together. Percentiles, weeks and ages are then
drawn in Python from those rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from domain.issue import STATUSES
from services.infrastructure.http import ProblemError
from services.infrastructure.store import Statement
from services.projections.query import ViewRequest
from services.projections.readmodel import Snapshot, Table, from_micros
from services.projections.views.insights.insight import DAY_MICROS
from services.projections.views.insights.measures import iso_week, percentile, week_starts, weekly
from services.projections.views.insights.rules import Rules
from services.projections.views.insights.scope import Scope
from services.projections.views.insights.statements import Moment, Sql, day_micros
from services.projections.views.insights.tables import (
    COMPLETIONS,
    FINISHED,
    ITEMS,
    MEMBERS,
    MEMBERSHIPS,
    OCCURRENCE,
    PROJECTS,
    STARTED,
    TEAMS,
    loads,
)

SHARES: Final = ((50, 0.5), (85, 0.85), (95, 0.95))
WEEK_MICROS: Final = 7 * DAY_MICROS
_STARTED_SQL: Final = "('in_progress', 'in_review')"
assert tuple(STARTED) == ("in_progress", "in_review")
# Statuses in the order of the workflow, for ``days_in_status``.
_STATUS_ORDER: Final[dict[str, int]] = {status: number for number, status in enumerate(STATUSES)}

# The condition keeping a kind's groups' rows of the table aliased ``alias`` ("" for all),
# written into the statement ``q`` builds where it stands (parameters go in textual order).
Within = Callable[[Sql, str], str]


@dataclass(frozen=True)
class GroupKind:
    """One kind of group in a scope's answer: what it is, the column telling its rows apart,
    the statement naming its groups, and the condition keeping their rows."""

    kind: str
    column: str
    names: Callable[[Sql], str]
    within: Within


def _everything(_: Sql, __: str) -> str:
    return ""


def _all_teams(q: Sql) -> str:
    return f"SELECT t.team_id, t.name FROM {q.table(TEAMS, 't')} WHERE {q.visible('t')}"


def _one(kind: str, table: Table, column: str, object_id: str) -> GroupKind:
    """The group of one team, project or member."""
    own = {"team": "team_id", "project": "project_id", "member": "assignee_id"}[kind]

    def names(q: Sql) -> str:
        return (
            f"SELECT s.{column}, s.name FROM {q.table(table, 's')} "
            f"WHERE s.{column} = {q.value(object_id)} AND {q.visible('s')}"
        )

    def within(q: Sql, alias: str) -> str:
        return f" AND {alias}.{own} = {q.value(object_id)}"

    return GroupKind(kind, own, names, within)


def _team_members(team_id: str) -> GroupKind:
    """A team's members (their work in every team)."""

    def names(q: Sql) -> str:
        return (
            f"SELECT m.member_id, m.name FROM {q.table(MEMBERSHIPS, 'ms')} "
            f"JOIN {q.table(MEMBERS, 'm')} ON m.member_id = ms.member_id AND {q.visible('m')} "
            f"WHERE ms.team_id = {q.value(team_id)} AND {q.visible('ms')}"
        )

    def within(q: Sql, alias: str) -> str:
        return (
            f" AND {alias}.assignee_id IN (SELECT ms.member_id "
            f"FROM {q.table(MEMBERSHIPS, 'ms')} "
            f"WHERE ms.team_id = {q.value(team_id)} AND {q.visible('ms')})"
        )

    return GroupKind("member", "assignee_id", names, within)


def _team_projects(team_id: str) -> GroupKind:
    """A team's projects, open or not."""

    def names(q: Sql) -> str:
        return (
            f"SELECT p.project_id, p.name FROM {q.table(PROJECTS, 'p')} "
            f"WHERE p.team_id = {q.value(team_id)} AND {q.visible('p')}"
        )

    def within(q: Sql, alias: str) -> str:
        return (
            f" AND {alias}.project_id IN (SELECT p.project_id FROM {q.table(PROJECTS, 'p')} "
            f"WHERE p.team_id = {q.value(team_id)} AND {q.visible('p')})"
        )

    return GroupKind("project", "project_id", names, within)


def group_kinds(scope: Scope) -> list[GroupKind]:
    """The kinds of group a scope's answer has, in their order; the first names the scope's
    own object (none for the organisation)."""
    if scope.kind == "org" or scope.id is None:
        return [GroupKind("team", "team_id", _all_teams, _everything)]
    if scope.kind == "team":
        return [
            _one("team", TEAMS, "team_id", scope.id),
            _team_members(scope.id),
            _team_projects(scope.id),
        ]
    if scope.kind == "project":
        return [_one("project", PROJECTS, "project_id", scope.id)]
    if scope.kind == "member":
        return [_one("member", MEMBERS, "member_id", scope.id)]
    raise ProblemError(
        422,
        "validation_error",
        "flow is measured for org, team:ID, project:ID or member:ID",
        errors=[{"field": "scope", "message": "a goal has no flow of its own"}],
    )


def _names_sql(snapshot: Snapshot, kind: GroupKind) -> Statement:
    q = Sql(snapshot)
    return q.statement(kind.names(q))


def _finished_sql(snapshot: Snapshot, kind: GroupKind, moment: Moment, rules: Rules) -> Statement:
    """The cycle and lead times of the groups' issues finished in the window and not reopened
    since (the rows of ``in_finished`` visible at the snapshot)."""
    q = Sql(snapshot)
    since = moment.now - rules.flow_window_days * DAY_MICROS
    sql = (
        f"SELECT f.{kind.column}, f.cycle_micros, f.lead_micros FROM {q.table(FINISHED, 'f')} "
        f"WHERE {q.visible('f')} AND f.finished_at > {q.value(since)} "
        f"AND f.finished_at <= {q.value(moment.now)} AND f.{kind.column} IS NOT NULL"
        f"{kind.within(q, 'f')}"
    )
    return q.statement(sql)


def _throughput_sql(snapshot: Snapshot, kind: GroupKind, moment: Moment) -> Statement:
    """Per group and whole week before the current one (numbered from the first sample week):
    the issues finished less those reopened, and their points."""
    q = Sql(snapshot)
    first = day_micros(moment.first_sample_week)
    occurred, params = snapshot.occurred_by("c.occurred")
    week = f"(c.occurred - {q.value(first)}) / {q.value(WEEK_MICROS)}"
    q.params.extend(params)
    sql = (
        "SELECT w.owner, w.week, SUM(w.items), SUM(w.points) FROM ("
        f"SELECT c.{kind.column} AS owner, {week} AS week, c.items, "
        f"c.items * c.estimate AS points FROM {q.table(COMPLETIONS, 'c')} "
        f"WHERE {occurred} AND c.occurred >= {q.value(first)} "
        f"AND c.occurred < {q.value(day_micros(moment.week_start))} "
        f"AND c.{kind.column} IS NOT NULL{kind.within(q, 'c')}"
        ") w GROUP BY w.owner, w.week"
    )
    return q.statement(sql)


WIP_COLUMNS: Final = (
    "owner",
    "item_id",
    "key",
    "title",
    "status",
    "started_at",
    "status_since",
    "status_time",
    "due_date",
    "due_moves",
    "reopens",
)


def _wip_sql(snapshot: Snapshot, kind: GroupKind) -> Statement:
    """The groups' started issues (occurrences are never started)."""
    q = Sql(snapshot)
    columns = ", ".join(f"i.{name}" for name in WIP_COLUMNS[1:])
    sql = (
        f"SELECT i.{kind.column}, {columns} FROM {q.table(ITEMS, 'i')} "
        f"WHERE {q.visible('i')} AND i.is_open AND i.status IN {_STARTED_SQL} "
        f"AND i.kind <> '{OCCURRENCE}' AND i.{kind.column} IS NOT NULL{kind.within(q, 'i')}"
    )
    return q.statement(sql)


def _days(span: float) -> float:
    return round(span / DAY_MICROS, 2)


def flow_times(samples: Sequence[int]) -> dict[str, Any]:
    """The count and the p50, p85 and p95 of spans in microseconds, in days."""
    ordered = sorted(samples)
    times: dict[str, Any] = {"count": len(ordered)}
    for label, share in SHARES:
        times[f"p{label}_days"] = _days(percentile(ordered, share)) if ordered else None
    return times


def _throughput(weeks: list[tuple[int, int, float]], moment: Moment, count: int) -> list[Any]:
    """Each week's completions and points, zero weeks included; a week that reopened more than
    it finished counts zero, as forecasts count it."""
    first = day_micros(moment.first_sample_week)
    placed = [first + week * WEEK_MICROS for week, _, _ in weeks]
    completed = weekly(
        ((at, items) for at, (_, items, _) in zip(placed, weeks, strict=True)),
        moment.first_sample_week,
        count,
    )
    points = weekly(
        ((at, amount) for at, (_, _, amount) in zip(placed, weeks, strict=True)),
        moment.first_sample_week,
        count,
    )
    return [
        {
            "week": iso_week(start),
            "starts": start,
            "completed": max(int(items), 0),
            "points": round(amount, 6) if amount > 0 else 0.0,
        }
        for start, items, amount in zip(
            week_starts(moment.first_sample_week, count), completed, points, strict=True
        )
    ]


def _work(row: dict[str, Any], now: int) -> dict[str, Any]:
    started = row["started_at"] if row["started_at"] is not None else row["status_since"]
    spent: dict[str, int] = dict(loads(row["status_time"]) or {})
    spent[row["status"]] = spent.get(row["status"], 0) + max(now - row["status_since"], 0)
    ordered = sorted(spent, key=lambda status: (_STATUS_ORDER.get(status, len(STATUSES)), status))
    return {
        "id": row["item_id"],
        "key": row["key"],
        "title": row["title"],
        "status": row["status"],
        "started_at": from_micros(started),
        "age_days": _days(max(now - started, 0)),
        "due_date": row["due_date"],
        "due_moves": int(row["due_moves"] or 0),
        "reopens": int(row["reopens"] or 0),
        "days_in_status": {status: _days(spent[status]) for status in ordered},
    }


@dataclass
class _Group:
    kind: str
    id: str
    name: str | None
    cycles: list[int]
    leads: list[int]
    weeks: list[tuple[int, int, float]]
    work: list[dict[str, Any]]


def read_flow(
    view: ViewRequest, snapshot: Snapshot, scope: Scope, kinds: list[GroupKind], rules: Rules
) -> bytes:
    """The flow of ``scope`` (its ``group_kinds``) as JSON (a ``Flow``); a 404 when the scope's
    object did not exist then."""
    moment = Moment.of(view.now, rules)
    statements: list[Statement] = []
    for kind in kinds:
        statements += [
            _names_sql(snapshot, kind),
            _finished_sql(snapshot, kind, moment, rules),
            _throughput_sql(snapshot, kind, moment),
            _wip_sql(snapshot, kind),
        ]
    answers = view.fetch_each(*statements)
    if scope.id is not None and not answers[0]:
        when = f" as of {view.as_of.isoformat()}" if view.as_of is not None else ""
        raise ProblemError(404, "not_found", f"there is no {scope.kind} {scope.id}{when}")
    groups: list[_Group] = []
    for number, kind in enumerate(kinds):
        names, finished, weeks, started = answers[4 * number : 4 * number + 4]
        of_kind = {
            object_id: _Group(kind.kind, object_id, name, [], [], [], [])
            for object_id, name in sorted(names, key=lambda named: (named[1] or "", named[0]))
        }
        for owner, cycle, lead in finished:
            if (group := of_kind.get(owner)) is not None:
                if cycle is not None:
                    group.cycles.append(int(cycle))
                group.leads.append(int(lead))
        for owner, week, items, points in weeks:
            if (group := of_kind.get(owner)) is not None:
                group.weeks.append((int(week), int(items or 0), float(points or 0.0)))
        for values in started:
            row = dict(zip(WIP_COLUMNS, values, strict=True))
            if (group := of_kind.get(row["owner"])) is not None:
                group.work.append(_work(row, moment.now))
        groups.extend(of_kind.values())
    document = {
        "now": view.now,
        "scope": str(scope),
        "window_days": rules.flow_window_days,
        "throughput_weeks": rules.flow_throughput_weeks,
        "groups": [
            {
                "scope": {"kind": group.kind, "id": group.id, "name": group.name},
                "cycle_time": flow_times(group.cycles),
                "lead_time": flow_times(group.leads),
                "throughput": _throughput(group.weeks, moment, rules.flow_throughput_weeks),
                "work_in_progress": sorted(
                    group.work, key=lambda work: (work["started_at"], work["id"])
                ),
            }
            for group in groups
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_UTC_Z)
