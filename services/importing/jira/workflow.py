"""The issue workflow the converter replays Jira's status changes through.

``services/importing`` may not import ``domain``, so this is a copy of ``WORKFLOW``,
``UNPLANNED_KINDS`` and ``initial_status`` in ``domain/issue.py``;
``tests/importing/test_jira.py`` checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping

from contracts.commands import IssueKind, IssueStatus

STATUSES: tuple[IssueStatus, ...] = (
    "triage",
    "backlog",
    "todo",
    "in_progress",
    "in_review",
    "done",
    "cancelled",
)
TRANSITIONS: Mapping[IssueStatus, frozenset[IssueStatus]] = {
    "triage": frozenset({"backlog", "todo", "cancelled"}),
    "backlog": frozenset({"todo", "in_progress", "cancelled"}),
    "todo": frozenset({"backlog", "in_progress", "cancelled"}),
    "in_progress": frozenset({"todo", "in_review", "done", "cancelled"}),
    "in_review": frozenset({"in_progress", "done", "cancelled"}),
    "done": frozenset({"todo"}),
    "cancelled": frozenset({"todo"}),
}
UNPLANNED_KINDS: frozenset[IssueKind] = frozenset({"bug", "incident", "request"})


def initial_status(kind: IssueKind) -> IssueStatus:
    """Where a new issue starts: unplanned work in triage, planned work in the backlog."""
    return "triage" if kind in UNPLANNED_KINDS else "backlog"


def shortest_path(start: IssueStatus, goal: IssueStatus) -> tuple[IssueStatus, ...] | None:
    """The statuses to move through, in order, to get from ``start`` to ``goal`` by allowed
    transitions (empty when already there; ``None`` when ``goal`` can't be reached, as
    ``triage`` can't once left). Ties go to the status listed first in ``STATUSES``, so the
    same jump is always replayed the same way."""
    came_from: dict[IssueStatus, IssueStatus | None] = {start: None}
    frontier = [start]
    while frontier and goal not in came_from:
        following: list[IssueStatus] = []
        for status in frontier:
            for step in STATUSES:
                if step in TRANSITIONS[status] and step not in came_from:
                    came_from[step] = status
                    following.append(step)
        frontier = following
    if goal not in came_from:
        return None
    path: list[IssueStatus] = []
    at: IssueStatus | None = goal
    while at is not None and at != start:
        path.append(at)
        at = came_from[at]
    return tuple(reversed(path))
