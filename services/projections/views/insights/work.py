"""Insights about single work items: stale, aging and churning work, overdue or blocked work an
active goal depends on, and the triage queue ranked by impact."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any, Final

from services.projections.readmodel import Row
from services.projections.views.insights.facts import Facts
from services.projections.views.insights.insight import (
    DAY_MICROS,
    Insight,
    Severity,
    counted,
    days,
    fact,
    moment,
    ref,
)
from services.projections.views.insights.rules import Rules
from services.projections.views.insights.statements import day_micros
from services.projections.views.insights.tables import OCCURRENCE, STARTED, loads

# The parts of a triage score: what an issue's severity and priority add, each active goal and
# active project it affects, each issue waiting on it, and each day it has waited (up to 30).
SEVERITY_POINTS: Final = {"sev1": 40, "sev2": 25, "sev3": 10, "sev4": 5}
PRIORITY_POINTS: Final = {"urgent": 30, "high": 20, "medium": 10, "low": 5, "none": 0}
GOAL_POINTS: Final = 15
PROJECT_POINTS: Final = 10
BLOCKS_POINTS: Final = 8
MAX_AGE_POINTS: Final = 30
TRIAGE_CRITICAL: Final = 60
TRIAGE_WARNING: Final = 30


def item_name(item: Row) -> str:
    return f"{item['key']} {item['title']}" if item["key"] else str(item["title"])


def item_ref(item: Row) -> dict[str, Any]:
    kind = "occurrence" if item["kind"] == OCCURRENCE else "issue"
    return ref(kind, item["item_id"], item_name(item))


def item_scopes(facts: Facts, item: Row) -> frozenset[tuple[str, str]]:
    """An item belongs to its team, project and assignee, and to the goals it serves (directly,
    or through its project) when a goal's question reads them."""
    scopes = {("team", item["team_id"])}
    scopes.update(("goal", goal_id) for goal_id in facts.item_goals.get(item["item_id"], ()))
    if item["project_id"]:
        scopes.add(("project", item["project_id"]))
        for goal_id in facts.goals_of_project.get(item["project_id"], ()):
            scopes.add(("goal", goal_id))
    if item["assignee_id"]:
        scopes.add(("member", item["assignee_id"]))
    return frozenset(scopes)


def _stale_details(facts: Facts, item: Row, idle: int) -> tuple[str, list[dict[str, Any]]]:
    assignee = facts.member_name(item["assignee_id"]) or "its assignee"
    sentence = (
        f"{item_name(item)} has had no activity for {counted(days(idle), 'day')} while assigned to "
        f"{assignee} ({item['status']})."
    )
    values = {
        "status": item["status"],
        "assignee_id": item["assignee_id"],
        "last_event_at": moment(item["last_event_at"]),
        "days_without_activity": days(idle),
    }
    return sentence, [fact(item_ref(item), values, item["last_event_position"])]


def stale_work(facts: Facts, rules: Rules) -> list[Insight]:
    threshold = int(rules.stale_days * DAY_MICROS)
    found = []
    for item in facts.items:
        if item["kind"] == OCCURRENCE or item["assignee_id"] is None:
            continue
        idle = facts.moment.now - item["last_event_at"]
        if idle < threshold:
            continue
        assignee = facts.member_name(item["assignee_id"])
        found.append(
            Insight(
                kind="stale_work",
                severity="critical" if idle >= 2 * threshold else "warning",
                objects=[item_ref(item), ref("member", item["assignee_id"], assignee)],
                since=item["last_event_at"] + threshold,
                scopes=item_scopes(facts, item),
                details=partial(_stale_details, facts, item, idle),
            )
        )
    return found


def aging_thresholds(facts: Facts, rules: Rules, team_id: str) -> tuple[int, int, dict[str, Any]]:
    """A team's warning and critical age (microseconds) and how they were set: its p85 and p95
    cycle time over the window, or the fixed days when it has too few finished issues."""
    cycle_times = facts.cycle_times.get(team_id)
    samples = cycle_times.count if cycle_times is not None else 0
    if cycle_times is not None and samples >= rules.aging_min_samples:
        p85, p95 = cycle_times.percentile(0.85), cycle_times.percentile(0.95)
        basis = {
            "basis": "cycle_time",
            "samples": samples,
            "p85_days": days(p85),
            "p95_days": days(p95),
            "window_days": rules.flow_window_days,
        }
        return int(p85), int(p95), basis
    basis = {
        "basis": "fixed",
        "samples": samples,
        "warning_days": rules.aging_days,
        "critical_days": rules.aging_critical_days,
    }
    return int(rules.aging_days * DAY_MICROS), int(rules.aging_critical_days * DAY_MICROS), basis


def _aging_details(
    facts: Facts, item: Row, started: int, age: int, severity: Severity, basis: dict[str, Any]
) -> tuple[str, list[dict[str, Any]]]:
    if basis["basis"] == "fixed":
        limit = f"{basis['critical_days' if severity == 'critical' else 'warning_days']:g} days"
    else:
        limit = f"the team's {'p95' if severity == 'critical' else 'p85'} cycle time"
    team_id = item["team_id"]
    team = facts.team_name(team_id) or "its team"
    sentence = (
        f"{item_name(item)} has been in progress for {counted(days(age), 'day')}, longer "
        f"than {limit} at {team}."
    )
    values = {"status": item["status"], "started_at": moment(started), "age_days": days(age)}
    return sentence, [
        fact(item_ref(item), values, item["started_position"] or item["status_position"]),
        fact(ref("team", team_id, facts.team_name(team_id)), basis),
    ]


def aging_work(facts: Facts, rules: Rules) -> list[Insight]:
    found = []
    thresholds: dict[str, tuple[int, int, dict[str, Any]]] = {}
    for item in facts.items:
        if item["status"] not in STARTED:
            continue
        team_id = item["team_id"]
        if team_id not in thresholds:
            thresholds[team_id] = aging_thresholds(facts, rules, team_id)
        warning, critical, basis = thresholds[team_id]
        started = item["started_at"] if item["started_at"] is not None else item["status_since"]
        age = facts.moment.now - started
        if age <= warning:
            continue
        severity: Severity = "critical" if age > critical else "warning"
        found.append(
            Insight(
                kind="aging_work",
                severity=severity,
                objects=[item_ref(item)],
                since=started + warning,
                scopes=item_scopes(facts, item),
                details=partial(_aging_details, facts, item, started, age, severity, basis),
            )
        )
    return found


def due_date_churn(facts: Facts, rules: Rules) -> list[Insight]:
    found = []
    for item in facts.items:
        if item["due_moves"] <= rules.due_moves:
            continue
        positions = loads(item["due_move_positions"])
        times = loads(item["due_move_times"])
        found.append(
            Insight(
                kind="due_date_churn",
                severity="warning",
                objects=[item_ref(item)],
                explanation=(
                    f"{item_name(item)} has had its due date moved {item['due_moves']} times; "
                    f"it is now due {item['due_date'] or 'on no date'}."
                ),
                since=times[rules.due_moves],
                evidence=[
                    fact(
                        item_ref(item),
                        {"due_date": item["due_date"], "due_moves": item["due_moves"]},
                        *positions,
                    )
                ],
                scopes=item_scopes(facts, item),
            )
        )
    return found


def _risk(item: Row, today: date) -> tuple[int, dict[str, Any], list[int | None], list[str]]:
    """Since when the item has been at risk, the values saying so, their positions, and words."""
    values: dict[str, Any] = {"status": item["status"]}
    starts: list[int] = []
    positions: list[int | None] = []
    words: list[str] = []
    if item["due_date"] is not None and item["due_date"] < today.isoformat():
        due = date.fromisoformat(item["due_date"])
        values |= {"due_date": item["due_date"], "days_overdue": (today - due).days}
        starts.append(day_micros(due) + DAY_MICROS)
        positions.append(item["due_position"])
        words.append(f"{counted((today - due).days, 'day')} overdue")
    if item["flagged"]:
        values |= {"blocked": True, "blocked_reason": item["flagged_reason"]}
        starts.append(item["flagged_at"])
        positions.append(item["flagged_position"])
        words.append("blocked")
    waiting_on = loads(item["waiting_positions"]) or {}
    if waiting_on:
        words = [word for word in words if word != "blocked"]
        values["waiting_on"] = sorted(waiting_on)
        starts.append(min(loads(item["waiting_since"]).values()))
        positions.extend(waiting_on.values())
        count = len(waiting_on)
        waits = f"waiting on {counted(count, 'open issue')}"
        words.append(f"blocked and {waits}" if item["flagged"] else waits)
    return min(starts), values, positions, words


def _goal_work_details(
    facts: Facts, item: Row, goals: list[tuple[Row, list[int], list[str]]]
) -> tuple[str, list[dict[str, Any]]]:
    _, values, positions, words = _risk(item, facts.moment.today)
    titles = ", ".join(f"'{goal['title']}'" for goal, _, _ in goals)
    if len(goals) > 1:
        depends = f"the active goals {titles} depend on it"
    else:
        depends = f"the active goal {titles} depends on it"
    sentence = f"{item_name(item)} is {' and '.join(words)}, and {depends}."
    return sentence, [
        fact(item_ref(item), values, *positions),
        *(
            fact(
                ref("goal", goal["goal_id"], goal["title"]),
                {"status": goal["status"], "linked_through": ways},
                *linked,
                goal["activated_position"],
            )
            for goal, linked, ways in goals
        ),
    ]


def _overdue_and_blocked(item: Row, today: date) -> bool:
    overdue = item["due_date"] is not None and item["due_date"] < today.isoformat()
    return overdue and (bool(item["flagged"]) or int(item["waiting"] or 0) > 0)


def work_on_goal_at_risk(facts: Facts, rules: Rules) -> list[Insight]:
    del rules
    by_item: dict[str, tuple[Row, dict[str, list[tuple[int, int, str]]]]] = {}
    for item, goal_id, linked_at, linked_position, via in facts.goal_work:
        entry = by_item.setdefault(item["item_id"], (item, {}))
        entry[1].setdefault(goal_id, []).append((linked_at, linked_position, via))
    found = []
    for item, links in by_item.values():
        risk_since, _, _, _ = _risk(item, facts.moment.today)
        goals: list[tuple[Row, list[int], list[str]]] = []
        holds = []
        # A goal the issue serves both directly and through its project is one goal, linked
        # since the first of the two.
        for goal_id, ways in sorted(links.items()):
            goal = facts.goals.get(goal_id)
            if goal is None:
                continue
            positions = sorted(position for _, position, _ in ways)
            goals.append((goal, positions, sorted({via for _, _, via in ways})))
            linked = min(linked_at for linked_at, _, _ in ways)
            holds.append(max(risk_since, linked, goal["activated_at"] or 0))
        if not goals:
            continue
        scopes = set(item_scopes(facts, item)) | {("goal", goal["goal_id"]) for goal, _, _ in goals}
        about = [ref("goal", goal["goal_id"], goal["title"]) for goal, _, _ in goals]
        critical = _overdue_and_blocked(item, facts.moment.today)
        found.append(
            Insight(
                kind="work_on_goal_at_risk",
                severity="critical" if critical else "warning",
                objects=[item_ref(item), *about],
                since=min(holds),
                scopes=frozenset(scopes),
                details=partial(_goal_work_details, facts, item, goals),
            )
        )
    return found


def _active_goals_of(facts: Facts, item: Row) -> list[str]:
    linked = set(facts.item_goals.get(item["item_id"], ()))
    if item["project_id"]:
        linked |= set(facts.goals_of_project.get(item["project_id"], ()))
    return sorted(goal_id for goal_id in linked if goal_id in facts.goals)


def triage(facts: Facts, rules: Rules) -> list[Insight]:
    del rules
    found = []
    for item in facts.items:
        if item["status"] != "triage":
            continue
        goals = _active_goals_of(facts, item)
        project = facts.projects.get(item["project_id"] or "")
        in_active_project = project is not None and project["status"] == "active"
        blocks = len(loads(item["blocks"]) or [])
        waited = facts.moment.now - item["created_at"]
        parts = {
            "severity": SEVERITY_POINTS.get(item["severity"] or "", 0),
            "priority": PRIORITY_POINTS.get(item["priority"] or "none", 0),
            "goals": GOAL_POINTS * len(goals),
            "projects": PROJECT_POINTS if in_active_project else 0,
            "blocks": BLOCKS_POINTS * blocks,
            "age": min(int(waited // DAY_MICROS), MAX_AGE_POINTS),
        }
        total = sum(parts.values())
        severity: Severity = (
            "critical"
            if total >= TRIAGE_CRITICAL
            else "warning"
            if total >= TRIAGE_WARNING
            else "info"
        )
        reasons = [
            text
            for text, present in (
                (f"severity {item['severity']}", item["severity"]),
                (f"priority {item['priority']}", item["priority"] not in (None, "none")),
                (f"{len(goals)} active goal{'s' if len(goals) != 1 else ''}", goals),
                ("an active project", in_active_project),
                (f"blocks {blocks}", blocks),
            )
            if present
        ]
        why = f" ({', '.join(reasons)})" if reasons else ""
        scopes = set(item_scopes(facts, item)) | {("goal", goal_id) for goal_id in goals}
        found.append(
            Insight(
                kind="triage",
                severity=severity,
                objects=[item_ref(item)],
                explanation=(
                    f"{item_name(item)} has waited in triage for "
                    f"{counted(days(waited), 'day')} and scores {total}{why}."
                ),
                since=item["status_since"],
                evidence=[
                    fact(
                        item_ref(item),
                        {
                            "kind": item["kind"],
                            "severity": item["severity"],
                            "priority": item["priority"],
                            "active_goals": goals,
                            "project_id": item["project_id"],
                            "blocks": blocks,
                            "created_at": moment(item["created_at"]),
                        },
                        item["created_position"],
                        item["status_position"],
                        item["severity_position"],
                        item["priority_position"],
                    )
                ],
                scopes=frozenset(scopes),
                score={"total": total, "parts": parts},
            )
        )
    return found
