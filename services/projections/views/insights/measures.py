"""Measures drawn from history: percentiles with linear interpolation, and weekly throughput
over whole ISO weeks, zero weeks included."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from services.projections.readmodel import from_micros


def percentile(ordered: Sequence[float], share: float) -> float:
    """The ``share`` percentile of ``ordered`` (sorted, not empty), interpolating linearly
    between the two nearest ranks (as NumPy's default, and spreadsheets' PERCENTILE.INC).

    The rank is found in whole hundredths, exactly (``share`` is a whole percentage, 0.85): a
    float rank such as ``16 * 0.85`` may fall a hair below its integer."""
    low, fraction = percentile_rank(len(ordered), share)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def percentile_rank(count: int, share: float) -> tuple[int, float]:
    """The 0-based rank below the ``share`` percentile of ``count`` values, and how far past
    it the percentile lies."""
    scaled = (count - 1) * round(share * 100)
    return scaled // 100, (scaled % 100) / 100


def week_of(occurred: int, first: date) -> int:
    """The index of the week (from ``first``, a Monday) the moment ``occurred`` falls in."""
    return (from_micros(occurred).date() - first).days // 7


def weekly(facts: Iterable[tuple[int, float]], first: date, weeks: int) -> list[float]:
    """The sum of each week's amounts, for ``weeks`` weeks from ``first``: ``facts`` are
    ``(occurred, amount)``; those outside the weeks are left out."""
    totals = [0.0] * weeks
    for occurred, amount in facts:
        week = week_of(occurred, first)
        if 0 <= week < weeks:
            totals[week] += amount
    return totals


def iso_week(start: date) -> str:
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def week_starts(first: date, weeks: int) -> list[date]:
    return [first + timedelta(weeks=number) for number in range(weeks)]
