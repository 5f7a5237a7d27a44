"""Key results over time, from the history: each check-in is an entry changing the field
``key_results.<id>.current``. A trend is the value at the start of a span, every check-in in it,
and the value at its end, drawn as a sparkline beside the same numbers in words."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.web.pages.detail_common import Doc, moment_of

# The sparkline's box, in SVG units.
WIDTH = 120.0
HEIGHT = 28.0
_PAD = 3.0


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float
    position: int | None  # the history entry that set it; None for the span's ends


@dataclass(frozen=True)
class Sparkline:
    """A key result's values over a span, and where each one is drawn."""

    points: list[Point]
    coordinates: list[tuple[float, float]]

    @property
    def polyline(self) -> str:
        return " ".join(f"{x},{y}" for x, y in self.coordinates)

    @property
    def check_ins(self) -> list[tuple[Point, tuple[float, float]]]:
        return [
            (point, xy)
            for point, xy in zip(self.points, self.coordinates, strict=True)
            if point.position is not None
        ]

    @property
    def first(self) -> float:
        return self.points[0].value

    @property
    def last(self) -> float:
        return self.points[-1].value


@dataclass(frozen=True)
class Change:
    at: datetime
    before: float | None
    after: float
    position: int


def check_ins(entries: list[Doc]) -> dict[str, list[Change]]:
    """Each key result's values as the entries set them (adding it, then each check-in), in
    the order they occurred, by key result id."""
    found: dict[str, list[Change]] = defaultdict(list)
    for entry in entries:
        for change in entry.get("changes") or []:
            field = str(change["field"])
            parts = field.split(".")
            if len(parts) != 3 or parts[0] != "key_results" or parts[2] != "current":
                continue
            if not isinstance(change["after"], int | float):
                continue
            before = change["before"]
            found[parts[1]].append(
                Change(
                    moment_of(entry["occurred_at"]),
                    float(before) if isinstance(before, int | float) else None,
                    float(change["after"]),
                    int(entry["position"]),
                )
            )
    for changes in found.values():
        changes.sort(key=lambda change: (change.at, change.position))
    return found


def trend(
    key_result: dict[str, Any], changes: list[Change], start: datetime, end: datetime
) -> Sparkline:
    """The key result from ``start`` (or when it was added, if later) to ``end``, where it holds
    ``key_result["current"]``; ``changes`` are those of the span, oldest first."""
    within = [change for change in changes if start <= change.at <= end]
    current = float(key_result["current"])
    points: list[Point] = []
    if not within:
        points.append(Point(start, current, None))
    elif within[0].before is not None:
        points.append(Point(start, within[0].before, None))
    points.extend(Point(change.at, change.after, change.position) for change in within)
    points.append(Point(end, current, None))
    return Sparkline(points, _coordinates(points, key_result, start, end))


def _coordinates(
    points: list[Point], key_result: dict[str, Any], start: datetime, end: datetime
) -> list[tuple[float, float]]:
    # The vertical scale spans the key result's start and target too, so a line that reaches
    # the top has reached the target.
    values = [point.value for point in points]
    values += [float(key_result["start"]), float(key_result["target"])]
    low, high = min(values), max(values)
    spread = (high - low) or 1.0
    span = (end - start).total_seconds() or 1.0
    coordinates = []
    for point in points:
        share = min(max((point.at - start).total_seconds() / span, 0.0), 1.0)
        x = round(_PAD + share * (WIDTH - 2 * _PAD), 1)
        y = round(HEIGHT - _PAD - (point.value - low) / spread * (HEIGHT - 2 * _PAD), 1)
        coordinates.append((x, y))
    return coordinates
