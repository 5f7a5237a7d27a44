"""Insights about capacity and recurring work: members and teams committed beyond their
capacity or their measured pace, teams with room beside an untriaged queue, and operations
whose occurrences are repeatedly late or skipped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from services.projections.views.insights.facts import Facts
from services.projections.views.insights.insight import (
    DAY_MICROS,
    Insight,
    Severity,
    counted,
    fact,
    ref,
)
from services.projections.views.insights.rules import Rules
from services.projections.views.insights.statements import day_micros


@dataclass
class Load:
    """An owner's committed work in the window: items, points, unestimated items, and since
    when it has stood as it is (the latest change to it, or an item coming into the window)."""

    items: int = 0
    points: float = 0.0
    unestimated: int = 0
    since: int = 0

    def add(self, items: int, points: float, estimated: int, since: int) -> None:
        self.items += items
        self.points += points
        self.unestimated += items - estimated
        self.since = max(self.since, since)


# The waiting issues an idle team's evidence names, at most.
EVIDENCE_ISSUES = 20


def committed_load(facts: Facts, rules: Rules) -> tuple[dict[str, Load], dict[str, Load]]:
    """Committed work per member and per team (see ``facts._load_sql``)."""
    members: dict[str, Load] = {}
    teams: dict[str, Load] = {}
    for assignee_id, team_id, items, points, estimated, changed, latest_due in facts.load:
        entered = 0
        if latest_due is not None:
            # Due before the window's end: in it from the day ``overload_days - 1`` before.
            due = day_micros(date.fromisoformat(latest_due))
            entered = due - (rules.overload_days - 1) * DAY_MICROS
        since = max(int(changed), entered)
        values = (int(items), float(points or 0.0), int(estimated), since)
        if assignee_id is not None:
            members.setdefault(assignee_id, Load()).add(*values)
        teams.setdefault(team_id, Load()).add(*values)
    return members, teams


def team_capacity(facts: Facts, team_id: str) -> tuple[float, str]:
    """A team's weekly capacity: its own, or its active members' summed."""
    own = facts.teams[team_id]["weekly_capacity"]
    if own is not None:
        return float(own), "team"
    return facts.members_capacity.get(team_id, 0.0), "members"


def _pace(facts: Facts, rules: Rules, kind: str, owner_id: str) -> float | None:
    """Points the owner finished per week over the sample weeks; ``None`` if it finished
    nothing in them (no pace to compare with)."""
    items, points = facts.paces.get((kind, owner_id), (0, 0.0))
    if items <= 0:
        return None
    return max(points, 0.0) / rules.flow_throughput_weeks


def _overloaded(
    facts: Facts,
    rules: Rules,
    about: dict[str, Any],
    load: Load,
    weekly_capacity: float,
    pace: float | None,
    positions: tuple[int | None, ...],
    scopes: frozenset[tuple[str, str]],
) -> Insight | None:
    window = rules.overload_days / 7
    capacity = weekly_capacity * window
    ratio = load.points / capacity if capacity > 0 else None
    severity: Severity | None = None
    reasons = []
    if ratio is not None and ratio > rules.overload_critical:
        severity = "critical"
    elif ratio is not None and ratio > rules.overload_warning:
        severity = "warning"
    if severity is not None:
        reasons.append(f"{ratio:.0%} of a capacity of {capacity:g} points")
    if pace is not None and load.points > pace * window:
        severity = severity or "warning"
        reasons.append(
            f"more than the {pace * window:.3g} points finished in that time at the pace of "
            f"the last {rules.flow_throughput_weeks} weeks"
        )
    if severity is None:
        return None
    return Insight(
        kind="overloaded",
        severity=severity,
        objects=[about],
        explanation=(
            f"{about['name']} has {load.points:g} points of work due within "
            f"{rules.overload_days} days ({counted(load.items, 'item')}): "
            + " and ".join(reasons)
            + "."
        ),
        since=load.since,
        evidence=[
            fact(
                about,
                {
                    "committed_points": round(load.points, 6),
                    "committed_items": load.items,
                    "unestimated_items": load.unestimated,
                    "window_days": rules.overload_days,
                    "weekly_capacity": weekly_capacity,
                    "load_ratio": round(ratio, 4) if ratio is not None else None,
                    "points_per_week": round(pace, 4) if pace is not None else None,
                },
                *positions,
            )
        ],
        scopes=scopes,
    )


def overloaded(facts: Facts, rules: Rules) -> list[Insight]:
    member_loads, team_loads = committed_load(facts, rules)
    teams_of: dict[str, set[str]] = {}
    for team_id, member_id in facts.memberships:
        teams_of.setdefault(member_id, set()).add(team_id)
    found = []
    for member_id, load in member_loads.items():
        member = facts.members.get(member_id)
        if member is None or not member["active"]:
            continue
        scopes = {("member", member_id), *(("team", team) for team in teams_of.get(member_id, ()))}
        insight = _overloaded(
            facts,
            rules,
            ref("member", member_id, member["name"]),
            load,
            float(member["weekly_capacity"] or 0.0),
            _pace(facts, rules, "member", member_id),
            (member["capacity_position"],),
            frozenset(scopes),
        )
        if insight is not None:
            found.append(insight)
    for team_id, load in team_loads.items():
        if team_id not in facts.teams:
            continue
        capacity, _ = team_capacity(facts, team_id)
        insight = _overloaded(
            facts,
            rules,
            ref("team", team_id, facts.team_name(team_id)),
            load,
            capacity,
            _pace(facts, rules, "team", team_id),
            (),
            frozenset({("team", team_id)}),
        )
        if insight is not None:
            found.append(insight)
    return found


def idle_capacity(facts: Facts, rules: Rules) -> list[Insight]:
    _, team_loads = committed_load(facts, rules)
    untriaged_total = sum(facts.triage_counts.values())
    # The team's own waiting issues (as far as the scope read them), oldest first: evidence.
    waiting: dict[str, list[int]] = {}
    for item in sorted(facts.items, key=lambda item: item["created_position"]):
        if item["status"] == "triage":
            waiting.setdefault(item["team_id"], []).append(item["created_position"])
    found = []
    for team_id, team in facts.teams.items():
        if facts.scope.kind == "team" and team_id != facts.scope.id:
            continue
        capacity, source = team_capacity(facts, team_id)
        window_capacity = capacity * rules.overload_days / 7
        if window_capacity <= 0:
            continue
        load = team_loads.get(team_id, Load())
        ratio = load.points / window_capacity
        own = facts.triage_counts.get(team_id, 0)
        if ratio >= rules.idle_load or untriaged_total == 0:
            continue
        queue = (
            f"{own} of its own issues wait in triage"
            if own
            else f"{untriaged_total} issues wait in triage elsewhere"
        )
        about = ref("team", team_id, team["name"])
        found.append(
            Insight(
                kind="idle_capacity",
                severity="info",
                objects=[about],
                explanation=(
                    f"{team['name']} has {ratio:.0%} of its capacity committed for the next "
                    f"{rules.overload_days} days while {queue}."
                ),
                # Room and a queue are judged a day at a time.
                since=day_micros(facts.moment.today),
                evidence=[
                    fact(
                        about,
                        {
                            "committed_points": round(load.points, 6),
                            "window_capacity": round(window_capacity, 6),
                            "capacity_source": source,
                            "load_ratio": round(ratio, 4),
                            "untriaged_own": own,
                            "untriaged_total": untriaged_total,
                        },
                        team["capacity_position"],
                        *waiting.get(team_id, ())[:EVIDENCE_ISSUES],
                    )
                ],
                scopes=frozenset({("team", team_id)}),
            )
        )
    return found


def operation_unhealthy(facts: Facts, rules: Rules) -> list[Insight]:
    by_operation: dict[str, list[dict[str, Any]]] = {}
    for occurrence in facts.occurrences:
        by_operation.setdefault(occurrence["operation_id"], []).append(occurrence)
    found = []
    for operation_id, judged in by_operation.items():
        misses: list[tuple[int, dict[str, Any], str]] = []
        for occurrence in judged:
            due = date.fromisoformat(occurrence["due_date"])
            late_from = day_micros(due + timedelta(days=1))
            if occurrence["status"] == "skipped":
                misses.append((occurrence["finished_at"], occurrence, "skipped"))
            elif occurrence["status"] == "completed":
                if occurrence["finished_at"] >= late_from:
                    misses.append((late_from, occurrence, "late"))
            elif due < facts.moment.today:
                misses.append((late_from, occurrence, "overdue"))
        if len(misses) < rules.operation_misses:
            continue
        first = judged[0]
        about = ref("operation", operation_id, first["title"])
        severity: Severity = (
            "critical" if len(misses) == len(judged) >= rules.operation_window else "warning"
        )
        misses.sort(key=lambda miss: miss[0])
        found.append(
            Insight(
                kind="operation_unhealthy",
                severity=severity,
                objects=[about],
                explanation=(
                    f"{first['title']} missed {len(misses)} of its last {len(judged)} "
                    f"occurrences ({', '.join(sorted({how for _, _, how in misses}))})."
                ),
                since=misses[rules.operation_misses - 1][0],
                evidence=[
                    fact(
                        ref(
                            "occurrence",
                            occurrence["item_id"],
                            f"{first['title']} ({occurrence['due_date']})",
                        ),
                        {
                            "due_date": occurrence["due_date"],
                            "status": occurrence["status"],
                            "missed": how,
                        },
                        occurrence["due_position"],
                        occurrence["status_position"],
                    )
                    for _, occurrence, how in misses
                ],
                scopes=frozenset({("team", first["team_id"]), ("member", first["owner_id"])}),
            )
        )
    return found
