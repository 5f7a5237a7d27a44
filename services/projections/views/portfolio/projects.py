"""Each project as the portfolio shows it: progress, open, overdue and blocked work, milestones,
linked goals, the forecast finish against its target, and risk flags."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from domain.issue import PRIORITIES
from domain.project import CLOSED_STATUSES as CLOSED_PROJECT_STATUSES
from services.projections.forecast import Forecast, InsufficientData, forecasts
from services.projections.readmodel import from_micros
from services.projections.views.portfolio.forecasts import DEFAULT_SAMPLE_WEEKS, finish_summary
from services.projections.views.portfolio.goal_tree import done_and_total, work_progress
from services.projections.views.portfolio.tables import DIGITS, PROJECT_METRICS, loads


def _milestones(text: str, today: date) -> list[dict[str, Any]]:
    milestones = []
    for milestone in loads(text):
        due = date.fromisoformat(milestone["due_date"])
        completed_on = milestone["completed_on"]
        late = (
            completed_on > milestone["due_date"]
            if milestone["done"] and completed_on is not None
            else not milestone["done"] and due < today
        )
        milestones.append({**milestone, "late": late})
    milestones.sort(key=lambda m: (m["due_date"], m["name"], m["id"]))
    return milestones


def _forecast(
    status: str, remaining: float, completed: float, weeks: int, target: date, today: date
) -> dict[str, Any]:
    finish: date | None = None
    if status not in CLOSED_PROJECT_STATUSES:
        if remaining <= 0:
            finish = today
        elif completed > 0:
            # Computed from the sum, not the weekly rate, so whole weeks come out whole.
            days = remaining * 7 * weeks / completed
            horizon = (date.max - today).days
            finish = today + timedelta(days=math.ceil(days)) if days <= horizon else date.max
    return {
        "remaining_estimate": remaining,
        "throughput_per_week": round(completed / weeks, DIGITS),
        "finish_date": finish,
        "target_date": target,
        "days_after_target": (finish - target).days if finish is not None else None,
    }


def _open_issues(row: tuple[Any, ...]) -> int:
    work = dict(zip((column.name for column in PROJECT_METRICS), row[_WORK:], strict=True))
    return sum(int(work[f"open_{priority}"] or 0) for priority in PRIORITIES)


# Where a project row's tally columns begin (see ``project_entry``).
_WORK = 15


def project_finishes(
    rows: list[tuple[Any, ...]], samples: Mapping[str, list[int]], today: date
) -> dict[tuple[str, int], Forecast | None]:
    """The exact finish forecast of each open project's open issues at its team's pace, made
    once per team for all its projects' counts; ``None`` where the team has too little
    history."""
    wanted: dict[str, set[int]] = {}
    for row in rows:
        if row[3] not in CLOSED_PROJECT_STATUSES:
            wanted.setdefault(row[6], set()).add(_open_issues(row))
    made: dict[tuple[str, int], Forecast | None] = {}
    for team_id, counts in wanted.items():
        try:
            by_count: Mapping[int, Forecast] = forecasts(
                counts, samples.get(team_id, [0] * DEFAULT_SAMPLE_WEEKS), today
            )
        except InsufficientData:
            by_count = {}
        for count in counts:
            made[(team_id, count)] = by_count.get(count)
    return made


def project_entry(
    row: tuple[Any, ...],
    goal_nodes: Mapping[str, dict[str, Any]],
    throughput: Mapping[str, float],
    weeks: int,
    today: date,
    finishes: Mapping[tuple[str, int], Forecast | None],
) -> dict[str, Any]:
    (
        project_id,
        key,
        name,
        status,
        owner_id,
        owner_name,
        team_id,
        team_name,
        start_date,
        target_date,
        health,
        health_note,
        health_at,
        goal_ids,
        milestones_text,
        *work_values,
    ) = row
    work = dict(zip((column.name for column in PROJECT_METRICS), work_values, strict=True))
    by_priority = {priority: int(work[f"open_{priority}"] or 0) for priority in PRIORITIES}
    due: dict[str, int] = loads(work["open_due"]) or {}
    today_text = today.isoformat()
    overdue = sum(count for day, count in due.items() if day < today_text)
    blocked = int(work["blocked"] or 0)
    counted = done_and_total(work)
    progress = {**counted, "ratio": work_progress(counted)}
    milestones = _milestones(milestones_text, today)
    target = date.fromisoformat(target_date)
    forecast = _forecast(
        status,
        float(work["open_estimate"] or 0.0),
        max(throughput.get(team_id, 0.0), 0.0),
        weeks,
        target,
        today,
    )
    linked = sorted(
        (goal_nodes[goal_id] for goal_id in loads(goal_ids) if goal_id in goal_nodes),
        key=lambda node: (node["title"], node["id"]),
    )
    open_issues = sum(by_priority.values())
    if status not in CLOSED_PROJECT_STATUSES:
        forecast["distribution"] = finish_summary(finishes[(team_id, open_issues)], target)
    else:
        forecast["distribution"] = None
    finish = forecast["finish_date"]
    risks = [
        flag
        for flag, raised in (
            ("past_target", today > target),
            ("forecast_after_target", finish is not None and finish > target),
            ("no_throughput", finish is None),
            ("off_track", health == "off_track"),
            ("at_risk", health == "at_risk"),
            ("overdue_work", overdue > 0),
            ("blocked_work", blocked > 0),
            ("milestone_late", any(m["late"] and not m["done"] for m in milestones)),
        )
        if raised and status not in CLOSED_PROJECT_STATUSES
    ]
    return {
        "id": project_id,
        "key": key,
        "name": name,
        "status": status,
        "health": (
            {"status": health, "note": health_note or "", "posted_at": from_micros(health_at)}
            if health is not None
            else None
        ),
        "owner": {"id": owner_id, "name": owner_name},
        "team": {"id": team_id, "name": team_name},
        "start_date": start_date,
        "target_date": target_date,
        "progress": progress,
        "open_issues": sum(by_priority.values()),
        "open_by_priority": by_priority,
        "overdue": overdue,
        "blocked": blocked,
        "milestones": milestones,
        "goals": [
            {
                "id": node["id"],
                "title": node["title"],
                "status": node["status"],
                "progress": node["progress"],
            }
            for node in linked
        ],
        "forecast": forecast,
        "risks": risks,
    }
