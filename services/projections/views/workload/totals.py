"""Running totals of open work: which team's, member's and day's totals an item counts in, what it
adds to each, and how a change to an item moves them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.projections.dispatch import Change
from services.projections.readmodel import Row, Table
from services.projections.views.workload.tables import (
    DAY_FIGURES,
    ITEMS,
    LOADS,
    MEMBER_LOADS,
    MEMBER_OPEN,
    MEMBER_OPEN_FIGURES,
    OCCURRENCE,
    TEAM_OPEN,
    TEAM_OPEN_FIGURES,
    to_micropoints,
)

WORK_IN_PROGRESS = ("in_progress", "in_review")

LoadShare = tuple[tuple[str, ...], tuple[int, ...]]


def _team_open_of(item: Row | None) -> LoadShare | None:
    """The team total an item counts in and what it adds to it; ``None`` once it is not open."""
    if item is None or not item["is_open"]:
        return None
    points = to_micropoints(item["estimate"])
    assigned = item["assignee_id"] is not None
    status = item["status"]
    figures = (
        1 if assigned else 0,
        points if assigned else 0,
        1 if assigned and item["estimate"] is None else 0,
        0 if assigned else 1,
        0 if assigned else points,
        1 if status in WORK_IN_PROGRESS else 0,
        1 if item["blocked"] else 0,
        1 if status == "triage" else 0,
    )
    return (item["team_id"],), figures


def _member_open_of(item: Row | None) -> LoadShare | None:
    """The member total an item counts in and what it adds; ``None`` unless open and assigned."""
    if item is None or not item["is_open"] or item["assignee_id"] is None:
        return None
    figures = (
        1,
        to_micropoints(item["estimate"]),
        1 if item["estimate"] is None else 0,
        1 if item["status"] in WORK_IN_PROGRESS else 0,
        1 if item["blocked"] else 0,
    )
    return (item["assignee_id"],), figures


def _day_figures(item: Row) -> tuple[int, ...]:
    points = to_micropoints(item["estimate"])
    if item["kind"] == OCCURRENCE:
        return (1, points, 1, points)
    return (1, points, 0, 0)


def _team_day_of(item: Row | None) -> LoadShare | None:
    """The team's day an item is due on and what it adds; ``None`` unless open with a due date."""
    if item is None or not item["is_open"] or item["due_date"] is None:
        return None
    return (item["team_id"], item["due_date"]), _day_figures(item)


def _member_day_of(item: Row | None) -> LoadShare | None:
    """The assignee's day an item is due on and what it adds; ``None`` unless open, assigned
    and due."""
    if item is None or not item["is_open"]:
        return None
    if item["assignee_id"] is None or item["due_date"] is None:
        return None
    return (item["assignee_id"], item["due_date"]), _day_figures(item)


@dataclass(frozen=True, slots=True)
class _Buckets:
    """Running totals of open work by owner (and due date): what an item adds, and where."""

    table: Table
    figures: tuple[str, ...]
    counts: tuple[int, ...]
    """The figures that count items: a bucket none of them counts in is removed."""
    share_of: Callable[[Row | None], LoadShare | None]


_BUCKETS = (
    _Buckets(
        TEAM_OPEN,
        TEAM_OPEN_FIGURES,
        (TEAM_OPEN_FIGURES.index("assigned_count"), TEAM_OPEN_FIGURES.index("unassigned_count")),
        _team_open_of,
    ),
    _Buckets(LOADS, DAY_FIGURES, (0,), _team_day_of),
    _Buckets(MEMBER_OPEN, MEMBER_OPEN_FIGURES, (0,), _member_open_of),
    _Buckets(MEMBER_LOADS, DAY_FIGURES, (0,), _member_day_of),
)


def _add_load(change: Change, buckets: _Buckets, share: LoadShare, sign: int) -> None:
    bucket, figures = share
    current = change.get(buckets.table, bucket)
    if current is None:
        totals = [sign * figure for figure in figures]
    else:
        totals = [
            current[name] + sign * figure
            for name, figure in zip(buckets.figures, figures, strict=True)
        ]
    if any(totals[index] for index in buckets.counts):
        change.put(
            buckets.table,
            {
                **dict(zip(buckets.table.key, bucket, strict=True)),
                **dict(zip(buckets.figures, totals, strict=True)),
            },
        )
    else:
        change.delete(buckets.table, bucket)


def save_item(change: Change, before: Row | None, after: Row) -> None:
    change.put(ITEMS, after)
    for buckets in _BUCKETS:
        old, new = buckets.share_of(before), buckets.share_of(after)
        if old == new:
            continue
        if old is not None and new is not None and old[0] == new[0]:
            # Still in the same bucket (a transition, an estimate, a block): one update by the
            # difference, rather than taking the item out and putting it back.
            difference = tuple(now - then for now, then in zip(new[1], old[1], strict=True))
            _add_load(change, buckets, (new[0], difference), +1)
            continue
        if old is not None:
            _add_load(change, buckets, old, -1)
        if new is not None:
            _add_load(change, buckets, new, +1)
