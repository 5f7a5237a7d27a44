"""The rules of the work model the demo must keep, as the domain states them.

``services.importing`` speaks the public API only and does not import ``domain``, so the few
tables the demo steers by are written out here; ``tests/importing/test_demo.py`` checks each
against the domain module it comes from.
"""

from __future__ import annotations

# domain/issue.py: WORKFLOW, the moves an issue's status may make.
ISSUE_WORKFLOW: dict[str, frozenset[str]] = {
    "triage": frozenset({"backlog", "todo", "cancelled"}),
    "backlog": frozenset({"todo", "in_progress", "cancelled"}),
    "todo": frozenset({"backlog", "in_progress", "cancelled"}),
    "in_progress": frozenset({"todo", "in_review", "done", "cancelled"}),
    "in_review": frozenset({"in_progress", "done", "cancelled"}),
    "done": frozenset({"todo"}),
    "cancelled": frozenset({"todo"}),
}

# domain/issue.py: UNPLANNED_KINDS start in triage (initial_status); tasks start in the backlog.
UNPLANNED_KINDS: frozenset[str] = frozenset({"bug", "incident", "request"})

# domain/issue.py: OPEN_STATUSES.
OPEN_STATUSES: frozenset[str] = frozenset({"triage", "backlog", "todo", "in_progress", "in_review"})

# domain/project.py: ALLOWED_MOVES, the project lifecycle.
PROJECT_MOVES: frozenset[tuple[str, str]] = frozenset(
    {
        ("proposed", "active"),
        ("proposed", "cancelled"),
        ("active", "on_hold"),
        ("on_hold", "active"),
        ("active", "completed"),
        ("active", "cancelled"),
        ("on_hold", "completed"),
        ("on_hold", "cancelled"),
    }
)

# domain/operation.py: MAX_OCCURRENCES_PER_TICK, the most one tick schedules per operation.
MAX_OCCURRENCES_PER_TICK = 500


def initial_status(kind: str) -> str:
    return "triage" if kind in UNPLANNED_KINDS else "backlog"
