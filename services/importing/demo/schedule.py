"""When an operation's occurrences fall due, worked out as the domain does.

The demo completes and skips occurrences, so it must know which due dates each tick schedules.
This is ``domain/cadence.py`` (``due_dates``) and the scheduling part of ``domain/operation.py``
(``_due_to_schedule`` and how pausing, resuming, cadence changes and retiring move it), written
out for the demo; ``tests/importing/test_demo.py`` checks them against the domain's own.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, replace
from datetime import MAXYEAR, date, timedelta
from typing import Any

from services.importing.demo.rules import MAX_OCCURRENCES_PER_TICK

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Cadence:
    """Every ``interval`` days, weeks or months (as ``domain.cadence.Cadence``)."""

    every: str
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    day_of_month: int | None = None

    def body(self) -> dict[str, Any]:
        """The cadence as the API takes it."""
        made: dict[str, Any] = {"every": self.every, "interval": self.interval}
        if self.weekdays:
            made["weekdays"] = [WEEKDAY_NAMES[day] for day in self.weekdays]
        if self.day_of_month is not None:
            made["day_of_month"] = self.day_of_month
        return made


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def due_dates(
    cadence: Cadence, anchor: date, after: date | None, until: date, end: date | None
) -> list[date]:
    """The due dates ``d`` with ``anchor <= d <= until``, ``d <= end`` and ``d > after``."""
    step = cadence.interval
    first = anchor.toordinal()
    low = first if after is None else max(first, after.toordinal() + 1)
    high = until.toordinal() if end is None else min(until.toordinal(), end.toordinal())
    if low > high:
        return []
    if cadence.every == "day":
        start = first + _ceil_div(low - first, step) * step
        return [date.fromordinal(day) for day in range(start, high + 1, step)]
    if cadence.every == "week":
        weekdays = tuple(sorted(set(cadence.weekdays))) or (anchor.weekday(),)
        first_monday = first - anchor.weekday()
        week = _ceil_div((low - first_monday) // 7, step) * step
        found: list[date] = []
        monday = first_monday + 7 * week
        while monday <= high:
            found.extend(
                date.fromordinal(monday + day) for day in weekdays if low <= monday + day <= high
            )
            monday += 7 * step
        return found
    day_of_month = cadence.day_of_month or anchor.day
    low_date = date.fromordinal(low)
    first_month = anchor.year * 12 + anchor.month - 1
    month = (
        first_month + _ceil_div(low_date.year * 12 + low_date.month - 1 - first_month, step) * step
    )
    found = []
    while True:
        year, month_index = divmod(month, 12)
        if year > MAXYEAR:
            return found
        last_day = monthrange(year, month_index + 1)[1]
        due = date(year, month_index + 1, min(day_of_month, last_day))
        if due.toordinal() > high:
            return found
        if due.toordinal() >= low:
            found.append(due)
        month += step


def normalised(cadence: Cadence, anchor: date) -> Cadence:
    """A weekly cadence without weekdays falls on its anchor's weekday."""
    weekdays = tuple(sorted(set(cadence.weekdays)))
    if cadence.every == "week" and not weekdays:
        weekdays = (anchor.weekday(),)
    return replace(cadence, weekdays=weekdays)


class Schedule:
    """One operation's scheduling state: its cadence segments, status and occurrences."""

    def __init__(self, cadence: Cadence, start: date, end: date | None) -> None:
        self.start = start
        self.end = end
        self.segments: list[tuple[Cadence, date]] = [(normalised(cadence, start), start)]
        self.status = "active"
        self.schedule_from = start
        self.last_due: date | None = None
        self.occurrences: dict[date, str] = {}

    def tick(self, until: date) -> list[date]:
        """The due dates a tick up to ``until`` schedules (none unless active)."""
        if self.status != "active":
            return []
        after = self.last_due
        floor = self.schedule_from - timedelta(days=1)
        if after is None or floor > after:
            after = floor
        found: list[date] = []
        for index, (cadence, anchor) in enumerate(self.segments):
            stop = until
            if index + 1 < len(self.segments) and self.segments[index + 1][1] <= stop:
                stop = self.segments[index + 1][1] - timedelta(days=1)
            if stop >= anchor:
                found.extend(due_dates(cadence, anchor, after, stop, self.end))
        found = found[:MAX_OCCURRENCES_PER_TICK]
        for due in found:
            self.occurrences[due] = "scheduled"
            self.last_due = due if self.last_due is None else max(self.last_due, due)
        return found

    def change_cadence(self, cadence: Cadence, today: date) -> bool:
        """Applies a cadence change made on ``today``; ``False`` if it changes nothing."""
        effective = max(today + timedelta(days=1), self.start)
        if self.last_due is not None:
            effective = max(effective, self.last_due + timedelta(days=1))
        cadence = normalised(cadence, effective)
        if cadence == self.segments[-1][0]:
            return False
        kept = [segment for segment in self.segments if segment[1] < effective]
        self.segments = [*kept, (cadence, effective)]
        return True

    def pause(self) -> None:
        self.status = "paused"

    def resume(self, today: date) -> None:
        self.status = "active"
        self.schedule_from = max(self.schedule_from, today)

    def retire(self) -> None:
        """Retiring skips every occurrence still scheduled."""
        self.status = "retired"
        for due, status in self.occurrences.items():
            if status == "scheduled":
                self.occurrences[due] = "skipped"

    def is_open(self, due: date) -> bool:
        return self.occurrences.get(due) == "scheduled"
