"""The portfolio's reads: six set-based queries over one snapshot, sent together, and the
document assembled from their rows."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from uuid import UUID

import orjson

from services.infrastructure.store import Statement
from services.projections.query import ViewRequest, encode_cursor
from services.projections.readmodel import Snapshot, Table, micros
from services.projections.views.portfolio.forecasts import (
    DEFAULT_SAMPLE_WEEKS,
    team_samples,
    weekly_items_sql,
)
from services.projections.views.portfolio.goal_tree import goal_nodes, goal_tree
from services.projections.views.portfolio.projects import project_entry, project_finishes
from services.projections.views.portfolio.tables import (
    COMPLETIONS,
    DAY_MICROS,
    GOAL_WORK,
    GOALS,
    KIND_METRICS,
    MEMBERS,
    OPERATIONS,
    PROJECT_METRICS,
    PROJECTS,
    TALLIES,
    TEAM_DAYS,
    TEAMS,
)
from services.projections.views.portfolio.totals import organisation_totals


class _Query:
    """The SQL of one portfolio request, over one snapshot of the tables."""

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


def _projects_sql(
    snapshot: Snapshot,
    team_id: UUID | None,
    status: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> Statement:
    q = _Query(snapshot)
    work_columns = ", ".join(f"w.{column.name}" for column in PROJECT_METRICS)
    sql = (
        "SELECT p.project_id, p.key, p.name, p.status, p.owner_id, m.name AS owner_name, "
        "p.team_id, t.name AS team_name, p.start_date, p.target_date, p.health, p.health_note, "
        f"p.health_at, p.goal_ids, p.milestones, {work_columns} "
        f"FROM {q.table(PROJECTS, 'p')} "
        f"LEFT JOIN {q.table(TALLIES, 'w')} ON w.scope_id = p.project_id AND {q.visible('w')} "
        f"LEFT JOIN {q.table(MEMBERS, 'm')} ON m.member_id = p.owner_id AND {q.visible('m')} "
        f"LEFT JOIN {q.table(TEAMS, 't')} ON t.team_id = p.team_id AND {q.visible('t')} "
        f"WHERE {q.visible('p')}"
    )
    if team_id is not None:
        sql += f" AND p.team_id = {q.value(str(team_id))}"
    if status is not None:
        sql += f" AND p.status = {q.value(status)}"
    if after is not None:
        key, project_id = after
        sql += (
            f" AND (p.key > {q.value(key)} "
            f"OR (p.key = {q.value(key)} AND p.project_id > {q.value(project_id)}))"
        )
    sql += f" ORDER BY p.key, p.project_id LIMIT {q.value(limit + 1)}"
    return Statement(sql, q.params)


def _goals_sql(snapshot: Snapshot) -> Statement:
    q = _Query(snapshot)
    sql = (
        "SELECT g.goal_id, g.title, g.status, g.owner_id, m.name AS owner_name, g.team_id, "
        "g.period_start, g.period_end, g.parent_id, g.key_results, "
        "gw.issues_total, gw.issues_done, gw.estimate_total, gw.estimate_done "
        f"FROM {q.table(GOALS, 'g')} "
        f"LEFT JOIN {q.table(GOAL_WORK, 'gw')} ON gw.goal_id = g.goal_id AND {q.visible('gw')} "
        f"LEFT JOIN {q.table(MEMBERS, 'm')} ON m.member_id = g.owner_id AND {q.visible('m')} "
        f"WHERE {q.visible('g')}"
    )
    return Statement(sql, q.params)


def _throughput_sql(snapshot: Snapshot, since: int, until: int) -> Statement:
    """Each team's estimate completed in ``(since, until]``: the whole days in it from the daily
    sums, the partial days at its ends from the completions themselves."""
    first_day, last_day = since // DAY_MICROS + 1, (until + 1) // DAY_MICROS - 1
    if first_day <= last_day:
        edges = [since, first_day * DAY_MICROS, (last_day + 1) * DAY_MICROS, until]
    else:
        edges = [since, until + 1, until + 1, until]
    sql = (
        "SELECT team_id, SUM(completed) FROM ("
        f"SELECT team_id, completed FROM {snapshot.name(TEAM_DAYS)} "
        "WHERE day >= %s AND day <= %s AND valid_to IS NULL "
        f"UNION ALL SELECT team_id, estimate FROM {snapshot.name(COMPLETIONS)} "
        "WHERE (occurred > %s AND occurred < %s) OR (occurred >= %s AND occurred <= %s)"
        ") AS completed GROUP BY team_id"
    )
    return Statement(sql, [first_day, last_day, *edges])


def _project_totals_sql(snapshot: Snapshot) -> Statement:
    q = _Query(snapshot)
    sql = (
        f"SELECT p.status, COUNT(*) AS projects FROM {q.table(PROJECTS, 'p')} "
        f"WHERE {q.visible('p')} GROUP BY p.status"
    )
    return Statement(sql, q.params)


def _kind_totals_sql(snapshot: Snapshot) -> Statement:
    q = _Query(snapshot)
    sums = ", ".join(f"SUM(w.{column.name}) AS {column.name}" for column in KIND_METRICS)
    sql = f"SELECT {sums} FROM {q.table(TALLIES, 'w')} WHERE {q.visible('w')}"
    return Statement(sql, q.params)


def _operations_sql(snapshot: Snapshot) -> Statement:
    q = _Query(snapshot)
    sql = (
        "SELECT o.status, o.open_occurrences, o.completed, o.skipped "
        f"FROM {q.table(OPERATIONS, 'o')} WHERE {q.visible('o')}"
    )
    return Statement(sql, q.params)


def read_portfolio(
    view: ViewRequest,
    snapshot: Snapshot,
    *,
    team_id: UUID | None,
    status: str | None,
    weeks: int,
    limit: int,
    after: tuple[str, str] | None,
) -> bytes:
    """The portfolio as JSON (a ``Portfolio``): six set-based queries sent together, then
    assembly in memory.

    The document is serialised straight from plain values: validating hundreds of projects
    through the response model would cost more than the queries do.
    """
    now = view.now
    today = now.astimezone(UTC).date()
    until = micros(now)
    since = until - weeks * 7 * 86_400 * 1_000_000
    (
        project_rows,
        goal_rows,
        throughput_rows,
        status_rows,
        [kind_row],
        operation_rows,
        weekly_rows,
    ) = view.fetch_each(
        _projects_sql(snapshot, team_id, status, after, limit),
        _goals_sql(snapshot),
        _throughput_sql(snapshot, since, until),
        _project_totals_sql(snapshot),
        _kind_totals_sql(snapshot),
        _operations_sql(snapshot),
        weekly_items_sql(snapshot, today, DEFAULT_SAMPLE_WEEKS),
    )
    throughput = {team: float(total or 0.0) for team, total in throughput_rows}
    nodes = goal_nodes(goal_rows)
    page = project_rows[:limit]
    finishes = project_finishes(page, team_samples(weekly_rows, DEFAULT_SAMPLE_WEEKS), today)
    next_cursor = encode_cursor([page[-1][1], page[-1][0]]) if len(project_rows) > limit else None
    document = {
        "now": now,
        "throughput_weeks": weeks,
        "items": [project_entry(row, nodes, throughput, weeks, today, finishes) for row in page],
        "next_cursor": next_cursor,
        "goal_tree": goal_tree(nodes),
        "totals": organisation_totals(status_rows, kind_row, operation_rows, nodes, today),
    }
    return orjson.dumps(document, option=orjson.OPT_UTC_Z)
