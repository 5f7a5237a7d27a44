"""The facts the insights judge, read in one batch of set-based statements over one view
snapshot: the open items that may be stale, aging, churning or waiting in triage; the overdue or
blocked work active goals depend on; committed load per member and team; the last occurrences of
each operation; goals, open projects and their links; teams, members and capacities; and the
completions and finished issues that throughput, forecasts and cycle times are drawn from.

Every statement states the scope where it can (a team's, project's or member's work), so a
team's question reads that team's rows; the rules then keep what belongs to the scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from services.projections.query import ViewRequest
from services.projections.readmodel import Row, Snapshot
from services.projections.views.insights.measures import percentile
from services.projections.views.insights.rules import Rules
from services.projections.views.insights.scope import Scope
from services.projections.views.insights.statements import (
    ITEM_COLUMNS,
    OCCURRENCE_COLUMNS,
    Moment,
    Sql,
    cycle_times_sql,
    direct_goal_work_sql,
    goal_work_sql,
    item_goals_sql,
    items_sql,
    load_sql,
    member_weeks_sql,
    occurrences_sql,
    rows_sql,
    scope_exists_sql,
    team_weeks_sql,
    triage_counts_sql,
)
from services.projections.views.insights.tables import (
    GOALS,
    MEMBERS,
    MEMBERSHIPS,
    PROJECT_GOALS,
    PROJECTS,
    TEAMS,
)


@dataclass(frozen=True)
class CycleTimes:
    """A team's cycle times over the flow window, in order."""

    ordered: list[int]

    @property
    def count(self) -> int:
        return len(self.ordered)

    def percentile(self, share: float) -> float:
        return percentile(self.ordered, share)


def _named(rows: Sequence[tuple[Any, ...]], columns: tuple[str, ...]) -> list[Row]:
    return [dict(zip(columns, values, strict=True)) for values in rows]


@dataclass
class Facts:
    """Everything the rules judge, for one scope at one moment."""

    moment: Moment
    scope: Scope
    # Whether the scope's team, project, goal or member exists (at the moment asked about).
    scope_exists: bool
    items: list[Row]
    goal_work: list[tuple[Row, str, int, int, str]]
    load: list[tuple[str | None, str, int, float | None, int, int, str | None]]
    triage_counts: dict[str, int]
    occurrences: list[Row]
    goals: dict[str, Row]
    projects: dict[str, Row]
    project_goals: list[Row]
    direct_goal_work: list[tuple[str, str, str | None, int]]
    item_goals: dict[str, list[str]]
    teams: dict[str, Row]
    members: dict[str, Row]
    memberships: list[tuple[str, str]]
    # Each team's issues finished (net) per sample week, oldest first.
    team_weeks: dict[str, list[int]]
    # Issues and points finished (net) over the sample weeks, by ("team" | "member", id).
    paces: dict[tuple[str, str], tuple[int, float]]
    cycle_times: dict[str, CycleTimes]

    @cached_property
    def goals_of_project(self) -> dict[str, list[str]]:
        """Each project's linked goals."""
        linked: dict[str, list[str]] = {}
        for link in self.project_goals:
            linked.setdefault(link["project_id"], []).append(link["goal_id"])
        return linked

    @cached_property
    def members_capacity(self) -> dict[str, float]:
        """Each team's active members' weekly capacity, summed."""
        summed: dict[str, float] = {}
        for team_id, member_id in self.memberships:
            member = self.members.get(member_id)
            if member is not None and member["active"]:
                capacity = float(member["weekly_capacity"] or 0.0)
                summed[team_id] = summed.get(team_id, 0.0) + capacity
        return summed

    def member_name(self, member_id: str | None) -> str | None:
        member = self.members.get(member_id or "")
        return member["name"] if member else None

    def team_name(self, team_id: str | None) -> str | None:
        team = self.teams.get(team_id or "")
        return team["name"] if team else None


def read_facts(view: ViewRequest, snapshot: Snapshot, scope: Scope, rules: Rules) -> Facts:
    moment = Moment.of(view.now, rules)
    (
        scope_exists,
        items,
        goal_work,
        load,
        triage_counts,
        occurrences,
        goals,
        projects,
        project_goals,
        direct_goal_work,
        item_goals,
        teams,
        members,
        memberships,
        team_weeks,
        member_weeks,
        cycle_times,
    ) = view.fetch_each(
        scope_exists_sql(Sql(snapshot), scope),
        items_sql(Sql(snapshot), scope, moment, rules),
        goal_work_sql(Sql(snapshot), scope, moment),
        load_sql(Sql(snapshot), scope, moment, rules),
        triage_counts_sql(Sql(snapshot)),
        occurrences_sql(Sql(snapshot), scope, moment, rules),
        rows_sql(Sql(snapshot), GOALS, "g", " AND g.status = 'active'"),
        rows_sql(Sql(snapshot), PROJECTS, "p", " AND p.status NOT IN ('completed', 'cancelled')"),
        rows_sql(Sql(snapshot), PROJECT_GOALS, "l"),
        direct_goal_work_sql(Sql(snapshot), scope),
        item_goals_sql(Sql(snapshot), scope),
        rows_sql(Sql(snapshot), TEAMS, "t"),
        rows_sql(Sql(snapshot), MEMBERS, "m"),
        rows_sql(Sql(snapshot), MEMBERSHIPS, "ms"),
        team_weeks_sql(Sql(snapshot), moment),
        member_weeks_sql(Sql(snapshot), scope, moment),
        cycle_times_sql(Sql(snapshot), scope, moment, rules),
    )
    return _facts(
        moment,
        scope,
        rules,
        scope_exists=bool(scope_exists),
        items=items,
        goal_work=goal_work,
        load=load,
        triage_counts=triage_counts,
        occurrences=occurrences,
        goals=goals,
        projects=projects,
        project_goals=project_goals,
        direct_goal_work=direct_goal_work,
        item_goals=item_goals,
        teams=teams,
        members=members,
        memberships=memberships,
        team_weeks=team_weeks,
        member_weeks=member_weeks,
        cycle_times=cycle_times,
    )


Rows = Sequence[tuple[Any, ...]]


def _facts(
    moment: Moment,
    scope: Scope,
    rules: Rules,
    *,
    scope_exists: bool = True,
    items: Rows = (),
    goal_work: Rows = (),
    load: Rows = (),
    triage_counts: Rows = (),
    occurrences: Rows = (),
    goals: Rows = (),
    projects: Rows = (),
    project_goals: Rows = (),
    direct_goal_work: Rows = (),
    item_goals: Rows = (),
    teams: Rows = (),
    members: Rows = (),
    memberships: Rows = (),
    team_weeks: Rows = (),
    member_weeks: Rows = (),
    cycle_times: Rows = (),
) -> Facts:
    """``Facts`` from the rows of the statements that read them (those not read: none)."""
    goals_of: dict[str, list[str]] = {}
    for item_id, goal_id in item_goals:
        goals_of.setdefault(item_id, []).append(goal_id)
    first = moment.first_sample_week
    weeks: dict[str, list[int]] = {}
    paces: dict[tuple[str, str], tuple[int, float]] = {}
    for kind, rows in (("team", team_weeks), ("member", member_weeks)):
        for owner_id, week, finished, points in rows:
            if kind == "team":
                number = (date.fromisoformat(week) - first).days // 7
                weeks.setdefault(owner_id, [0] * rules.flow_throughput_weeks)[number] += finished
            count, total = paces.get((kind, owner_id), (0, 0.0))
            paces[(kind, owner_id)] = (count + int(finished), total + float(points or 0.0))
    spans: dict[str, list[int]] = {}
    for team_id, cycle in cycle_times:
        spans.setdefault(team_id, []).append(int(cycle))
    ranked = {team_id: CycleTimes(sorted(found)) for team_id, found in spans.items()}
    return Facts(
        moment=moment,
        scope=scope,
        scope_exists=scope_exists,
        items=_named(items, ITEM_COLUMNS),
        goal_work=[
            (dict(zip(ITEM_COLUMNS, row[:-4], strict=True)), *row[-4:]) for row in goal_work
        ],
        load=[tuple(row) for row in load],
        triage_counts={team_id: int(count) for team_id, count in triage_counts},
        occurrences=_named(occurrences, OCCURRENCE_COLUMNS),
        goals={row["goal_id"]: row for row in _named(goals, GOALS.column_names)},
        projects={row["project_id"]: row for row in _named(projects, PROJECTS.column_names)},
        project_goals=_named(project_goals, PROJECT_GOALS.column_names),
        direct_goal_work=[tuple(row) for row in direct_goal_work],
        item_goals=goals_of,
        teams={row["team_id"]: row for row in _named(teams, TEAMS.column_names)},
        members={row["member_id"]: row for row in _named(members, MEMBERS.column_names)},
        memberships=[(team_id, member_id) for team_id, member_id in memberships],
        team_weeks=weeks,
        paces=paces,
        cycle_times=ranked,
    )


def read_plans(view: ViewRequest, snapshot: Snapshot, scope: Scope, rules: Rules) -> Facts:
    """Only what goals' and projects' progress and forecasts rest on (goals, open projects and
    their links, teams, and the teams' sample weeks): a summary's view of the period's start,
    without the work items the insights judge."""
    moment = Moment.of(view.now, rules)
    goals, projects, project_goals, teams, team_weeks = view.fetch_each(
        rows_sql(Sql(snapshot), GOALS, "g", " AND g.status = 'active'"),
        rows_sql(Sql(snapshot), PROJECTS, "p", " AND p.status NOT IN ('completed', 'cancelled')"),
        rows_sql(Sql(snapshot), PROJECT_GOALS, "l"),
        rows_sql(Sql(snapshot), TEAMS, "t"),
        team_weeks_sql(Sql(snapshot), moment),
    )
    return _facts(
        moment,
        scope,
        rules,
        goals=goals,
        projects=projects,
        project_goals=project_goals,
        teams=teams,
        team_weeks=team_weeks,
    )
