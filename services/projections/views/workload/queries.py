"""The workload's reads: a page of teams with their crews and summed load in one statement, and
one team in full (its figures, its members' and their throughput) in three that travel together."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from services.infrastructure.http import ProblemError
from services.infrastructure.store import Statement
from services.projections.query import ViewRequest, encode_cursor
from services.projections.readmodel import Snapshot, Table
from services.projections.views.workload.tables import (
    LOADS,
    MEMBER_LOADS,
    MEMBER_OPEN,
    MEMBER_OPEN_FIGURES,
    MEMBERS,
    MEMBERSHIPS,
    TEAM_OPEN,
    TEAM_OPEN_FIGURES,
    TEAMS,
    THROUGHPUT,
    from_micropoints,
)

UPCOMING_DAYS = 14
THROUGHPUT_WEEKS = 8


@dataclass(frozen=True)
class _Period:
    """The days a view judges work against: overdue before ``today``, upcoming until ``horizon``,
    throughput in the weeks from ``first_week`` up to ``now``."""

    today: str
    horizon: str
    first_week: date

    @classmethod
    def of(cls, now: datetime) -> _Period:
        today = now.astimezone(UTC).date()
        first_week = today - timedelta(days=today.weekday(), weeks=THROUGHPUT_WEEKS - 1)
        return cls(
            today=today.isoformat(),
            horizon=(today + timedelta(days=UPCOMING_DAYS)).isoformat(),
            first_week=first_week,
        )

    @functools.cached_property
    def week_starts(self) -> list[tuple[str, str, date]]:
        """Each week's key in the totals, its ISO name and its Monday."""
        starts = []
        for number in range(THROUGHPUT_WEEKS):
            start = self.first_week + timedelta(weeks=number)
            year, week, _ = start.isocalendar()
            starts.append((start.isoformat(), f"{year}-W{week:02d}", start))
        return starts

    def weeks(self, totals: dict[str, tuple[int, float]]) -> list[dict[str, Any]]:
        """Each week's throughput, as the values of a ``WeekThroughput``."""
        weeks = []
        for key, name, start in self.week_starts:
            completed, estimate = totals.get(key, (0, 0.0))
            weeks.append(
                {"week": name, "week_start": start, "completed": completed, "estimate": estimate}
            )
        return weeks


def _summed(points: Any) -> float:
    # A database's sum of fractional points drifts in binary floating point; six places suffice.
    return round(float(points or 0), 6)


def _total(count: Any, points: float) -> dict[str, Any]:
    """A ``WorkTotal``'s values."""
    return {"count": int(count or 0), "estimate": _summed(points)}


def _ratio(estimate: float, capacity: float) -> float | None:
    return round(estimate / capacity, 4) if capacity > 0 else None


def _owner_totals(snapshot: Snapshot, totals: Table, owners: str) -> tuple[str, tuple[Any, ...]]:
    """A CTE ``open_totals``: the totals row of each of ``owners`` (a subquery naming them)."""
    visible, params = snapshot.visible("o")
    return (
        f"open_totals AS (SELECT o.* FROM {snapshot.name(totals)} o "
        f"WHERE {visible} AND o.{totals.key[0]} IN ({owners}))",
        params,
    )


def _due_sums(
    snapshot: Snapshot, period: _Period, days: Table, owner: str
) -> tuple[str, tuple[Any, ...]]:
    """The owner's overdue work (count, points) and upcoming occurrences (count, points),
    summed over its days: four subqueries, each a range of one owner's days in the index
    (a plan that can't wander off to every owner's past days, whatever the statistics say)."""
    visible, params = snapshot.visible("d")
    overdue = ("d.due_date < %s", (period.today,))
    upcoming = ("d.due_date >= %s AND d.due_date < %s", (period.today, period.horizon))
    sums = []
    sum_params: list[Any] = []
    for figure, (condition, condition_params) in (
        ("open_count", overdue),
        ("open_micropoints", overdue),
        ("occurrence_count", upcoming),
        ("occurrence_micropoints", upcoming),
    ):
        # Sums of integers come back as integers: PostgreSQL's own sum of bigints is numeric,
        # which the driver turns into Decimal, several times slower to make and to read.
        sums.append(
            f"(SELECT CAST(SUM(d.{figure}) AS BIGINT) FROM {snapshot.name(days)} d "
            f"WHERE {visible} AND d.{days.key[0]} = {owner} AND {condition})"
        )
        sum_params += [*params, *condition_params]
    return ", ".join(sums), tuple(sum_params)


_TEAM_FIGURES = ", ".join(f"open_totals.{figure}" for figure in TEAM_OPEN_FIGURES)
_MEMBER_FIGURES = ", ".join(f"open_totals.{figure}" for figure in MEMBER_OPEN_FIGURES)


def _team_workload(team: Sequence[Any], crew: Sequence[Any], load: Sequence[Any]) -> dict[str, Any]:
    """A ``TeamWorkload``'s values from the team's row ``(id, name, own capacity)``, its crew
    ``(members, active members, their capacity)`` and its summed load buckets
    (``_TEAM_FIGURES``)."""
    team_id, name, own_capacity = team
    members, active, members_capacity = crew
    capacity = _summed(own_capacity if own_capacity is not None else members_capacity)
    assigned = _total(load[0], from_micropoints(load[1]))
    return {
        "id": team_id,
        "name": name,
        "member_count": int(members or 0),
        "active_member_count": int(active or 0),
        "weekly_capacity": capacity,
        "capacity_source": "team" if own_capacity is not None else "members",
        "open_assigned": assigned,
        "unestimated": int(load[2] or 0),
        "load_ratio": _ratio(assigned["estimate"], capacity),
        "work_in_progress": int(load[5] or 0),
        "overdue": _total(load[8], from_micropoints(load[9])),
        "blocked": int(load[6] or 0),
        "upcoming_occurrences": _total(load[10], from_micropoints(load[11])),
        "unassigned_backlog": _total(load[3], from_micropoints(load[4])),
        "untriaged": int(load[7] or 0),
    }


def read_page(
    view: ViewRequest, snapshot: Snapshot, limit: int, after: tuple[str, str] | None
) -> dict[str, Any]:
    """A ``WorkloadPage``'s values: a page of teams with their crews and summed load, in one
    statement (one round trip)."""
    where, params = snapshot.visible()
    if after is not None:
        where += " AND (name > %s OR (name = %s AND team_id > %s))"
        params = (*params, after[0], after[0], after[1])
    rows = view.fetchall(*_teams_statement(view, snapshot, where, params, limit + 1), prepare=True)
    page = rows[:limit]
    teams = [_team_workload(row[:3], row[3:6], row[6:]) for row in page]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor([last[1], last[0]])
    return {"items": teams, "next_cursor": next_cursor}


def _teams_statement(
    view: ViewRequest, snapshot: Snapshot, where: str, params: tuple[Any, ...], limit: int
) -> tuple[str, tuple[Any, ...]]:
    """The teams ``where`` selects (up to ``limit``, by name), each with its crew and its
    figures: ``(id, name, own capacity, members, active members, their capacity,
    *TEAM_OPEN_FIGURES, overdue count and points, upcoming count and points)``."""
    period = _Period.of(view.now)
    membership, membership_params = snapshot.visible("ms")
    member, member_params = snapshot.visible("m")
    totals, totals_params = _owner_totals(snapshot, TEAM_OPEN, "SELECT team_id FROM page")
    due, due_params = _due_sums(snapshot, period, LOADS, "page.team_id")
    return (
        "WITH page AS ("
        f"SELECT team_id, name, weekly_capacity FROM {snapshot.name(TEAMS)} WHERE {where} "
        "ORDER BY name, team_id LIMIT %s), "
        "crew AS (SELECT ms.team_id, COUNT(*) AS members, "
        "SUM(CASE WHEN m.active THEN 1 ELSE 0 END) AS active, "
        "SUM(CASE WHEN m.active THEN m.weekly_capacity ELSE 0 END) AS capacity "
        f"FROM {snapshot.name(MEMBERSHIPS)} ms JOIN {snapshot.name(MEMBERS)} m "
        f"ON m.member_id = ms.member_id AND {member} "
        f"WHERE {membership} AND ms.team_id IN (SELECT team_id FROM page) GROUP BY ms.team_id), "
        f"{totals} "
        "SELECT page.team_id, page.name, page.weekly_capacity, "
        f"crew.members, crew.active, crew.capacity, {_TEAM_FIGURES}, {due} "
        "FROM page LEFT JOIN crew ON crew.team_id = page.team_id "
        "LEFT JOIN open_totals ON open_totals.team_id = page.team_id "
        "ORDER BY page.name, page.team_id",
        (*params, limit, *member_params, *membership_params, *totals_params, *due_params),
    )


def read_team(view: ViewRequest, snapshot: Snapshot, team_id: UUID) -> dict[str, Any]:
    """A ``TeamWorkloadDetail``'s values: the team's figures, its members' and their
    throughput, from three statements that travel together (one round trip on PostgreSQL)."""
    period = _Period.of(view.now)
    visible, visible_params = snapshot.visible()
    membership, membership_params = snapshot.visible("ms")
    member, member_params = snapshot.visible("m")
    week, week_params = snapshot.visible("w")
    crew = (
        f"FROM {snapshot.name(MEMBERSHIPS)} ms JOIN {snapshot.name(MEMBERS)} m "
        f"ON m.member_id = ms.member_id AND {member} "
        f"WHERE {membership} AND ms.team_id = %s"
    )
    crew_params = (*member_params, *membership_params, str(team_id))
    totals, totals_params = _owner_totals(snapshot, MEMBER_OPEN, "SELECT member_id FROM crew")
    due, due_params = _due_sums(snapshot, period, MEMBER_LOADS, "crew.member_id")
    found, members, weeks = view.fetch_each(
        Statement(
            *_teams_statement(
                view, snapshot, f"{visible} AND team_id = %s", (*visible_params, str(team_id)), 1
            ),
            prepare=True,
        ),
        Statement(
            "WITH crew AS (SELECT m.member_id, m.name, m.role, m.weekly_capacity, m.active "
            f"{crew}), {totals} "
            f"SELECT crew.*, {_MEMBER_FIGURES}, {due} FROM crew "
            "LEFT JOIN open_totals ON open_totals.member_id = crew.member_id "
            "ORDER BY crew.name, crew.member_id",
            (*crew_params, *totals_params, *due_params),
            prepare=True,
        ),
        # Both at once: the team's weeks, and each member's (wherever they worked).
        Statement(
            f"SELECT w.owner_id, w.week_start, w.completed, w.micropoints "
            f"FROM {snapshot.name(THROUGHPUT)} w WHERE {week} AND w.week_start >= %s "
            # One list of owners (not "team OR member"), so that each is an index lookup.
            "AND w.owner_id IN (SELECT CAST(%s AS TEXT) "
            f"UNION ALL SELECT ms.member_id {crew})",
            (*week_params, period.first_week.isoformat(), str(team_id), *crew_params),
            prepare=True,
        ),
    )
    if not found:
        raise ProblemError(404, "not_found", "no such team")
    throughput: dict[str | None, dict[str, tuple[int, float]]] = {}
    team_key = str(team_id)
    for owner, week_start, completed, micropoints in weeks:
        who = None if owner == team_key else owner
        throughput.setdefault(who, {})[week_start] = (int(completed), from_micropoints(micropoints))
    workloads = []
    for member_id, name, role, capacity, active, *counts in members:
        assigned = _total(counts[0], from_micropoints(counts[1]))
        weekly_capacity = _summed(capacity)
        workloads.append(
            {
                "id": member_id,
                "name": name,
                "role": role,
                "active": bool(active),
                "weekly_capacity": weekly_capacity,
                "open_assigned": assigned,
                "unestimated": int(counts[2] or 0),
                "load_ratio": _ratio(assigned["estimate"], weekly_capacity),
                "work_in_progress": int(counts[3] or 0),
                "overdue": _total(counts[5], from_micropoints(counts[6])),
                "blocked": int(counts[4] or 0),
                "upcoming_occurrences": _total(counts[7], from_micropoints(counts[8])),
                "throughput": period.weeks(throughput.get(member_id, {})),
            }
        )
    row = found[0]
    summary = _team_workload(row[:3], row[3:6], row[6:])
    return {
        **summary,
        "today": period.today,
        "members": workloads,
        "throughput": period.weeks(throughput.get(None, {})),
    }
