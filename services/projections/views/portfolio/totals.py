"""The organisation's totals: projects by status, work by kind (planned and unplanned),
operations and their occurrences, goals by status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final, get_args

from domain import goal as goals
from domain import operation as operations
from domain.issue import KINDS, UNPLANNED_KINDS
from domain.project import ProjectStatus as ProjectLifecycle
from services.projections.views.portfolio.tables import DIGITS, KIND_METRICS, loads

PROJECT_STATUSES: Final = get_args(ProjectLifecycle)
GOAL_STATUSES: Final = get_args(goals.GoalStatus)
OPERATION_STATUSES: Final = get_args(operations.Status)


def organisation_totals(
    project_rows: Sequence[tuple[Any, ...]],
    kind_row: Sequence[Any],
    operation_rows: Sequence[tuple[Any, ...]],
    goal_nodes: Mapping[str, dict[str, Any]],
    today: date,
) -> dict[str, Any]:
    sums = dict(zip((column.name for column in KIND_METRICS), kind_row, strict=True))
    issues = []
    planned = {"open": 0, "done": 0, "cancelled": 0, "open_estimate": 0.0, "done_estimate": 0.0}
    unplanned = dict(planned)
    for kind in KINDS:
        totals = {
            "open": int(sums[f"{kind}_open"] or 0),
            "done": int(sums[f"{kind}_done"] or 0),
            "cancelled": int(sums[f"{kind}_cancelled"] or 0),
            "open_estimate": round(float(sums[f"{kind}_open_estimate"] or 0.0), DIGITS),
            "done_estimate": round(float(sums[f"{kind}_done_estimate"] or 0.0), DIGITS),
        }
        issues.append({"kind": kind, "planned": kind not in UNPLANNED_KINDS, **totals})
        summary = unplanned if kind in UNPLANNED_KINDS else planned
        for name, value in totals.items():
            summary[name] = round(summary[name] + value, DIGITS)
    operation_totals = dict.fromkeys(OPERATION_STATUSES, 0) | dict.fromkeys(
        ("occurrences_open", "occurrences_late", "occurrences_completed", "occurrences_skipped"), 0
    )
    # Open occurrences are scheduled ones, late (``operations.is_late``) once due before today;
    # ISO dates order as text, which spares parsing each one.
    today_iso = today.isoformat()
    for status, open_text, completed, skipped in operation_rows:
        operation_totals[status] += 1
        scheduled = loads(open_text) or {}
        operation_totals["occurrences_open"] += len(scheduled)
        operation_totals["occurrences_late"] += sum(1 for due in scheduled if due < today_iso)
        operation_totals["occurrences_completed"] += int(completed)
        operation_totals["occurrences_skipped"] += int(skipped)
    goal_totals = dict.fromkeys(GOAL_STATUSES, 0)
    for node in goal_nodes.values():
        goal_totals[node["status"]] += 1
    return {
        "projects": dict.fromkeys(PROJECT_STATUSES, 0) | {s: int(n) for s, n in project_rows},
        "issues": issues,
        "planned": planned,
        "unplanned": unplanned,
        "operations": operation_totals,
        "goals": goal_totals,
    }
