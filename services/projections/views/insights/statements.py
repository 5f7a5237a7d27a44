"""The statements the insights read their facts with, each over one view snapshot and stating
the scope where it can (a team's, project's or member's work), so a team's question reads that
team's rows. Values are bound in the order they appear in the text (``Sql``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.infrastructure.store import Statement
from services.projections.readmodel import Snapshot, Table, micros
from services.projections.views.insights.insight import DAY_MICROS
from services.projections.views.insights.measures import week_start
from services.projections.views.insights.rules import Rules
from services.projections.views.insights.scope import Scope
from services.projections.views.insights.tables import (
    FINISHED,
    GOALS,
    ITEM_GOALS,
    ITEMS,
    MEMBERS,
    MEMBERSHIPS,
    OCCURRENCE,
    OPERATIONS,
    PROJECT_GOALS,
    PROJECTS,
    STARTED,
    TEAMS,
    WEEKS,
)

ITEM_COLUMNS = (
    "item_id",
    "kind",
    "key",
    "title",
    "team_id",
    "project_id",
    "operation_id",
    "assignee_id",
    "status",
    "priority",
    "priority_position",
    "severity",
    "severity_position",
    "estimate",
    "due_date",
    "due_position",
    "due_moves",
    "due_move_positions",
    "due_move_times",
    "flagged",
    "flagged_reason",
    "flagged_at",
    "flagged_position",
    "waiting_positions",
    "waiting_since",
    "waiting",
    "blocks",
    "created_at",
    "created_position",
    "started_at",
    "started_position",
    "status_since",
    "status_position",
    "last_event_at",
    "last_event_position",
)
_STARTED_SQL = "('in_progress', 'in_review')"
assert tuple(STARTED) == ("in_progress", "in_review")


def day_micros(day: date) -> int:
    return micros(datetime.combine(day, datetime.min.time(), UTC))


class Sql:
    """One statement's text and parameters, built in textual order over a snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.params: list[Any] = []

    def table(self, table: Table, alias: str) -> str:
        return f"{self.snapshot.name(table)} {alias}"

    def visible(self, alias: str) -> str:
        condition, params = self.snapshot.visible(alias)
        self.params.extend(params)
        return condition

    def value(self, value: Any) -> str:
        self.params.append(value)
        return "%s"

    def values(self, values: list[Any]) -> str:
        return ", ".join(self.value(value) for value in values)

    def statement(self, sql: str) -> Statement:
        return Statement(sql, self.params)


def item_scope(q: Sql, scope: Scope, alias: str = "i") -> str:
    """The SQL condition keeping a scope's items (none for the organisation or a goal)."""
    if scope.kind == "team":
        return f" AND {alias}.team_id = {q.value(scope.id)}"
    if scope.kind == "project":
        return f" AND {alias}.project_id = {q.value(scope.id)}"
    if scope.kind == "member":
        return f" AND {alias}.assignee_id = {q.value(scope.id)}"
    return ""


def _team_scope(q: Sql, scope: Scope, column: str) -> str:
    """Keeps a team's rows for a team's question, and a project's team's for a project's; the
    rest read the organisation's (a member's or goal's work spans teams)."""
    if scope.kind == "team":
        return f" AND {column} = {q.value(scope.id)}"
    if scope.kind == "project":
        return (
            f" AND {column} IN (SELECT sp.team_id FROM {q.table(PROJECTS, 'sp')} "
            f"WHERE sp.project_id = {q.value(scope.id)} AND {q.visible('sp')})"
        )
    return ""


@dataclass(frozen=True)
class Moment:
    """The moment asked about and the edges each rule measures from."""

    now: int
    today: date
    week_start: date
    first_sample_week: date

    @classmethod
    def of(cls, when: datetime, rules: Rules) -> Moment:
        today = when.astimezone(UTC).date()
        this_week = week_start(today)
        first = this_week - timedelta(weeks=rules.flow_throughput_weeks)
        return cls(micros(when), today, this_week, first)


def items_sql(q: Sql, scope: Scope, moment: Moment, rules: Rules) -> Statement:
    """Open items some rule may flag whatever goal they serve: stale, started (aging), moved
    often, or waiting in triage."""
    columns = ", ".join(f"i.{name}" for name in ITEM_COLUMNS)
    stale_cut = moment.now - int(rules.stale_days * DAY_MICROS)
    sql = (
        f"SELECT {columns} FROM {q.table(ITEMS, 'i')} WHERE {q.visible('i')} AND i.is_open"
        f"{item_scope(q, scope)} AND ("
        f"(i.kind <> '{OCCURRENCE}' AND i.assignee_id IS NOT NULL "
        f"AND i.last_event_at <= {q.value(stale_cut)}) "
        f"OR i.status IN {_STARTED_SQL} OR i.status = 'triage' "
        f"OR i.due_moves > {q.value(rules.due_moves)})"
    )
    return q.statement(sql)


def goal_work_sql(q: Sql, scope: Scope, moment: Moment) -> Statement:
    """Overdue or blocked open issues an active goal depends on, once per goal: linked to it
    (``via`` "issue") or in a project that is (``via`` "project")."""
    columns = ", ".join(f"i.{name}" for name in ITEM_COLUMNS)
    today = moment.today.isoformat()
    parts = []
    for via, links, on in (
        ("issue", ITEM_GOALS, "l.item_id = i.item_id"),
        ("project", PROJECT_GOALS, "l.project_id = i.project_id"),
    ):
        parts.append(
            f"SELECT {columns}, l.goal_id, l.linked_at, l.linked_position, '{via}' "
            f"FROM {q.table(ITEMS, 'i')} "
            f"JOIN {q.table(links, 'l')} ON {on} AND {q.visible('l')} "
            f"JOIN {q.table(GOALS, 'g')} ON g.goal_id = l.goal_id AND {q.visible('g')} "
            f"AND g.status = 'active' "
            f"WHERE {q.visible('i')} AND i.is_open AND i.kind <> '{OCCURRENCE}' "
            f"AND (i.due_date < {q.value(today)} OR i.flagged OR i.waiting > 0)"
            f"{item_scope(q, scope)}"
        )
    return q.statement(" UNION ALL ".join(parts))


def load_sql(q: Sql, scope: Scope, moment: Moment, rules: Rules) -> Statement:
    """Committed open work per assignee and team: accepted (out of triage) and due before the
    window ends (overdue too), or undated and started."""
    horizon = (moment.today + timedelta(days=rules.overload_days)).isoformat()

    def committed(condition: Callable[[], str] = str) -> str:
        """The committed items meeting ``condition``, made after the rest so that its values
        follow the others'."""
        base = (
            "SELECT i.assignee_id, i.team_id, i.estimate, i.load_changed_at, i.due_date "
            f"FROM {q.table(ITEMS, 'i')} WHERE {q.visible('i')} AND i.is_open "
            "AND i.status <> 'triage' AND "
            f"((i.due_date IS NOT NULL AND i.due_date < {q.value(horizon)}) "
            f"OR (i.due_date IS NULL AND i.status IN {_STARTED_SQL}))"
        )
        return base + condition()

    team, member = scope.id, scope.id
    if scope.kind == "team":
        # The team's work, and its members' work in other teams (their load counts it all):
        # two index scans rather than one condition that fits neither index.
        own = committed(lambda: f" AND i.team_id = {q.value(team)}")
        elsewhere = committed(
            lambda: (
                f" AND i.team_id <> {q.value(team)} AND i.assignee_id IN (SELECT ms.member_id "
                f"FROM {q.table(MEMBERSHIPS, 'ms')} WHERE ms.team_id = {q.value(team)} "
                f"AND {q.visible('ms')})"
            )
        )
        work = f"{own} UNION ALL {elsewhere}"
    elif scope.kind == "member":
        work = committed(lambda: f" AND i.assignee_id = {q.value(member)}")
    elif scope.kind in ("project", "goal"):
        # Load belongs to members and teams: a project or goal shows none.
        work = committed(lambda: " AND 1 = 0")
    else:
        work = committed()
    sql = (
        "SELECT assignee_id, team_id, COUNT(*), SUM(estimate), COUNT(estimate), "
        f"MAX(load_changed_at), MAX(due_date) FROM ({work}) AS committed "
        "GROUP BY assignee_id, team_id"
    )
    return q.statement(sql)


def triage_counts_sql(q: Sql) -> Statement:
    sql = (
        f"SELECT i.team_id, COUNT(*) FROM {q.table(ITEMS, 'i')} WHERE {q.visible('i')} "
        "AND i.is_open AND i.status = 'triage' GROUP BY i.team_id"
    )
    return q.statement(sql)


def occurrences_sql(q: Sql, scope: Scope, moment: Moment, rules: Rules) -> Statement:
    """The last occurrences of each active operation that can be judged: due before today, or
    already completed or skipped."""
    sql = (
        "SELECT operation_id, title, team_id, owner_id, item_id, assignee_id, due_date, status, "
        "finished_at, due_position, status_position FROM ("
        "SELECT o.operation_id, o.title, o.team_id, o.owner_id, i.item_id, i.assignee_id, "
        "i.due_date, i.status, i.finished_at, i.due_position, i.status_position, "
        "ROW_NUMBER() OVER (PARTITION BY o.operation_id ORDER BY i.due_date DESC) AS latest "
        f"FROM {q.table(OPERATIONS, 'o')} JOIN {q.table(ITEMS, 'i')} "
        f"ON i.operation_id = o.operation_id AND {q.visible('i')} "
        f"WHERE {q.visible('o')} AND o.status = 'active'"
    )
    if scope.kind == "team":
        sql += f" AND o.team_id = {q.value(scope.id)}"
    elif scope.kind == "member":
        sql += f" AND o.owner_id = {q.value(scope.id)}"
    elif scope.kind in ("project", "goal"):
        sql += " AND 1 = 0"
    sql += (
        f" AND (i.due_date < {q.value(moment.today.isoformat())} OR NOT i.is_open)"
        f") AS judged WHERE latest <= {q.value(rules.operation_window)} "
        "ORDER BY operation_id, due_date DESC"
    )
    return q.statement(sql)


def rows_sql(q: Sql, table: Table, alias: str, condition: str = "") -> Statement:
    columns = ", ".join(f"{alias}.{name}" for name in table.column_names)
    sql = f"SELECT {columns} FROM {q.table(table, alias)} WHERE {q.visible(alias)}{condition}"
    return q.statement(sql)


def direct_goal_work_sql(q: Sql, scope: Scope) -> Statement:
    """Open issues linked directly to each goal the scope judges, counted per team and
    project (what the goal's forecast has left to do)."""
    sql = (
        "SELECT l.goal_id, i.team_id, i.project_id, COUNT(*) "
        f"FROM {q.table(ITEM_GOALS, 'l')} JOIN {q.table(ITEMS, 'i')} "
        f"ON i.item_id = l.item_id AND {q.visible('i')} "
        f"WHERE {q.visible('l')} AND i.is_open"
    )
    if scope.kind in ("team", "member"):
        column = "team_id" if scope.kind == "team" else "owner_id"
        sql += (
            f" AND l.goal_id IN (SELECT sg.goal_id FROM {q.table(GOALS, 'sg')} "
            f"WHERE sg.{column} = {q.value(scope.id)} AND {q.visible('sg')})"
        )
    elif scope.kind == "goal":
        sql += f" AND l.goal_id = {q.value(scope.id)}"
    elif scope.kind == "project":
        sql += " AND 1 = 0"
    return q.statement(sql + " GROUP BY l.goal_id, i.team_id, i.project_id")


def item_goals_sql(q: Sql, scope: Scope) -> Statement:
    """The goals issues waiting in triage serve directly (part of their score), and for a
    goal's question every issue linked to it (the work it depends on)."""
    sql = (
        f"SELECT l.item_id, l.goal_id FROM {q.table(ITEM_GOALS, 'l')} "
        f"JOIN {q.table(ITEMS, 'i')} ON i.item_id = l.item_id AND {q.visible('i')} "
        f"WHERE {q.visible('l')} AND i.is_open AND (i.status = 'triage'{item_scope(q, scope)}"
    )
    if scope.kind == "goal":
        sql += f" OR l.goal_id = {q.value(scope.id)}"
    return q.statement(sql + ")")


def weeks_sql(q: Sql, kind: str, moment: Moment) -> str:
    """Issues and points finished (net) in each sample week (the whole weeks before this one)
    by each team or member (``kind``), and, as of a moment, by then."""
    return (
        f"SELECT w.owner_id, w.week_start, w.items, w.points FROM {q.table(WEEKS, 'w')} "
        f"WHERE w.owner_kind = {q.value(kind)} "
        f"AND w.week_start >= {q.value(moment.first_sample_week.isoformat())} "
        f"AND w.week_start < {q.value(moment.week_start.isoformat())} AND {q.visible('w')}"
    )


def team_weeks_sql(q: Sql, moment: Moment) -> Statement:
    """Every team's sample weeks: a goal's forecast draws on each team its work is at."""
    return q.statement(weeks_sql(q, "team", moment))


def member_weeks_sql(q: Sql, scope: Scope, moment: Moment) -> Statement:
    """The sample weeks of the members whose load a scope judges: a team's members, one
    member, or everyone; a project or goal judges no one's."""
    sql = weeks_sql(q, "member", moment)
    if scope.kind == "team":
        sql += (
            f" AND w.owner_id IN (SELECT ms.member_id FROM {q.table(MEMBERSHIPS, 'ms')} "
            f"WHERE ms.team_id = {q.value(scope.id)} AND {q.visible('ms')})"
        )
    elif scope.kind == "member":
        sql += f" AND w.owner_id = {q.value(scope.id)}"
    elif scope.kind in ("project", "goal"):
        sql += " AND 1 = 0"
    return q.statement(sql)


def cycle_times_sql(q: Sql, scope: Scope, moment: Moment, rules: Rules) -> Statement:
    """The cycle times of each team's issues finished in the flow window."""
    since = moment.now - rules.flow_window_days * DAY_MICROS
    sql = (
        f"SELECT f.team_id, f.cycle_micros FROM {q.table(FINISHED, 'f')} "
        f"WHERE {q.visible('f')} AND f.finished_at > {q.value(since)} "
        f"AND f.finished_at <= {q.value(moment.now)} AND f.cycle_micros IS NOT NULL"
        f"{_team_scope(q, scope, 'f.team_id')}"
    )
    return q.statement(sql)


_SCOPE_TABLES = {
    "team": (TEAMS, "team_id"),
    "project": (PROJECTS, "project_id"),
    "goal": (GOALS, "goal_id"),
    "member": (MEMBERS, "member_id"),
}


def scope_exists_sql(q: Sql, scope: Scope) -> Statement:
    if scope.id is None:
        return q.statement("SELECT 1")
    table, column = _SCOPE_TABLES[scope.kind]
    sql = (
        f"SELECT 1 FROM {q.table(table, 's')} WHERE s.{column} = {q.value(scope.id)} "
        f"AND {q.visible('s')}"
    )
    return q.statement(sql)


OCCURRENCE_COLUMNS = (
    "operation_id",
    "title",
    "team_id",
    "owner_id",
    "item_id",
    "assignee_id",
    "due_date",
    "status",
    "finished_at",
    "due_position",
    "status_position",
)
