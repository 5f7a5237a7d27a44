"""What changed between two moments of a page: the same figures read at each, side by side.

A page with ``compare`` reads its view at both moments (the same query, twice) and lists each
figure that differs, earlier value first, beside the history entries recorded between them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Figure = tuple[str, Callable[[dict[str, Any]], Any]]


@dataclass(frozen=True)
class Change:
    """One figure of one object that differs between the earlier and the later moment."""

    object_id: str
    name: str
    figure: str
    earlier: Any
    later: Any


def _dig(*keys: str) -> Callable[[dict[str, Any]], Any]:
    def read(item: dict[str, Any]) -> Any:
        value: Any = item
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return read


def _rounded(read: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    def rounded(item: dict[str, Any]) -> Any:
        value = read(item)
        return round(value * 100) if isinstance(value, float) else value

    return rounded


PROJECT_FIGURES: tuple[Figure, ...] = (
    ("status", _dig("status")),
    ("health", _dig("health", "status")),
    ("progress %", _rounded(_dig("progress", "ratio"))),
    ("open issues", _dig("open_issues")),
    ("overdue", _dig("overdue")),
    ("blocked", _dig("blocked")),
    ("forecast p50", _dig("forecast", "distribution", "p50_date")),
    ("forecast p85", _dig("forecast", "distribution", "p85_date")),
    ("risks", lambda item: ", ".join(item.get("risks") or []) or None),
)

MEMBER_FIGURES: tuple[Figure, ...] = (
    ("open assigned", _dig("open_assigned", "count")),
    ("open estimate", _dig("open_assigned", "estimate")),
    ("load %", _rounded(_dig("load_ratio"))),
    ("in progress", _dig("work_in_progress")),
    ("overdue", _dig("overdue", "count")),
    ("blocked", _dig("blocked")),
    ("recurring due in 14 days", _dig("upcoming_occurrences", "count")),
)


def changes_between(
    earlier_items: Iterable[dict[str, Any]],
    later_items: Iterable[dict[str, Any]],
    figures: tuple[Figure, ...],
    *,
    name: Callable[[dict[str, Any]], str],
    identity: Callable[[dict[str, Any]], str] = lambda item: str(item["id"]),
) -> list[Change]:
    """Every figure that differs, per object; an object at one moment alone is ``new`` or
    ``gone``."""
    earlier = {identity(item): item for item in earlier_items}
    later = {identity(item): item for item in later_items}
    found: list[Change] = []
    for key in list(later) + [key for key in earlier if key not in later]:
        before, after = earlier.get(key), later.get(key)
        if before is None or after is None:
            item = after or before
            assert item is not None
            found.append(
                Change(
                    key,
                    name(item),
                    "—",
                    "—" if before is None else "there",
                    "new" if before is None else "gone",
                )
            )
            continue
        for figure, read in figures:
            old, new = read(before), read(after)
            if old != new:
                found.append(Change(key, name(after), figure, old, new))
    return found


def project_changes(
    compared: list[dict[str, Any]], shown: list[dict[str, Any]], compared_is_later: bool
) -> list[Change]:
    """The projects' figures that differ between the moment compared with and the one shown."""
    earlier, later = (shown, compared) if compared_is_later else (compared, shown)
    return changes_between(
        earlier, later, PROJECT_FIGURES, name=lambda item: f"{item['key']} {item['name']}"
    )
