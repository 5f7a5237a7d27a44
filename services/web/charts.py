"""The numbers the pages' small charts are drawn from: positions along an axis, in percent.

A chart is drawn by the template from these numbers in inline SVG or CSS, beside the figures it
shows, so a person who can't see the chart reads the same thing in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class FinishChart:
    """A project's timeline from its start: today, its target, and its forecast p50 and p85."""

    today: float
    target: float
    p50: float | None
    p85: float | None
    late: bool

    @classmethod
    def of(cls, project: dict[str, Any], today: date) -> FinishChart | None:
        start = _day(project.get("start_date"))
        target = _day(project.get("target_date"))
        distribution = (project.get("forecast") or {}).get("distribution") or {}
        p50 = _day(distribution.get("p50_date"))
        p85 = _day(distribution.get("p85_date"))
        if start is None or target is None:
            return None
        end = max(d for d in (target, p85, p50, today) if d is not None)
        span = max((end - start).days, 1)

        def at(moment: date | None) -> float | None:
            if moment is None:
                return None
            return round(min(max((moment - start).days / span, 0.0), 1.0) * 100, 1)

        target_at = at(target)
        assert target_at is not None
        return cls(
            today=at(today) or 0.0,
            target=target_at,
            p50=at(p50),
            p85=at(p85),
            late=p85 is not None and p85 > target,
        )


@dataclass(frozen=True)
class Column:
    label: str
    value: float
    height: float


def columns(values: list[tuple[str, float]]) -> list[Column]:
    """Bars of a small column chart, each as a share (percent) of the largest."""
    top = max((value for _, value in values), default=0.0) or 1.0
    return [Column(label, value, round(value / top * 100, 1)) for label, value in values]


def share(part: float | None, whole: float | None, *, cap: float = 1.5) -> float:
    """``part`` of ``whole`` in percent of a bar, capped so an overload still fits (at 150%)."""
    if not part or not whole:
        return 0.0
    return round(min(part / whole, cap) / cap * 100, 1)
