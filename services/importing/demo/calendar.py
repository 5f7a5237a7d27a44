"""The demo's calendar: working days, the weekly rhythm, a holiday dip and the two quarters.

Time in the simulation is a whole number of seconds since the calendar's origin (midnight UTC of
the first day of history). Work happens in *working time*: each day holds some working seconds,
spread over 08:00-18:00 UTC. A weekday holds a full day, a weekend day a twentieth of one (quiet
weekends: the odd incident, someone catching up), a weekday of the holiday fortnight a fifth.
Waiting "two working days" therefore stretches over a weekend, and much more over the holidays,
and events that arrive uniformly in working time fall mostly in working hours on weekdays.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

DAY = 86_400
HOUR = 3_600
MINUTE = 60
WORKDAY_STARTS = 8 * HOUR
WORKDAY = 10 * HOUR
WEEKEND_DAY = WORKDAY // 20
HOLIDAY_DAY = WORKDAY // 5
HISTORY_WEEKS = 26
QUARTER_WEEKS = 13
# The current quarter started this many weeks before the end, so about 70% of it has passed:
# enough for a goal to be visibly behind.
CURRENT_QUARTER_AGE_WEEKS = 9
# Days after the end the calendar still knows, for plans that reach past it (targets, due dates).
DAYS_AHEAD = 400


@dataclass(frozen=True)
class Quarter:
    """A goal period: thirteen weeks from a Monday to a Sunday."""

    start: date
    end: date


class Calendar:
    """Working time and calendar time of the history that ends at ``end``."""

    def __init__(self, end: datetime) -> None:
        if end.tzinfo is None:
            raise ValueError("end needs a time zone")
        end = end.astimezone(UTC)
        self.first_day = end.date() - timedelta(weeks=HISTORY_WEEKS)
        self.origin = datetime.combine(self.first_day, time(), UTC)
        self.end = int((end - self.origin).total_seconds())
        self.end_day = end.date()
        current_start = _monday(self.end_day - timedelta(weeks=CURRENT_QUARTER_AGE_WEEKS))
        quarter = timedelta(weeks=QUARTER_WEEKS)
        self.previous = Quarter(current_start - quarter, current_start - timedelta(days=1))
        self.current = Quarter(current_start, current_start + quarter - timedelta(days=1))
        self.holiday = self._holiday_fortnight()
        days = (self.end_day - self.first_day).days + DAYS_AHEAD
        self._capacity = [self._working_seconds(self.first_day + timedelta(d)) for d in range(days)]
        self._before = [0]
        for capacity in self._capacity:
            self._before.append(self._before[-1] + capacity)

    def _holiday_fortnight(self) -> tuple[date, date]:
        """The last two weeks of December when the history holds them whole; otherwise the
        fortnight from twelve weeks after the history's first Monday (in the earlier quarter)."""
        for year in (self.end_day.year - 1, self.end_day.year):
            first, last = date(year, 12, 18), date(year, 12, 31)
            if self.first_day <= first and last < self.end_day:
                return first, last
        first = _monday(self.first_day) + timedelta(weeks=12)
        return first, first + timedelta(days=13)

    def is_holiday(self, day: date) -> bool:
        return self.holiday[0] <= day <= self.holiday[1]

    def _working_seconds(self, day: date) -> int:
        if day.weekday() >= 5:
            return WEEKEND_DAY
        return HOLIDAY_DAY if self.is_holiday(day) else WORKDAY

    # Moments and days

    def day(self, moment: int) -> date:
        return self.first_day + timedelta(days=moment // DAY)

    def at(self, day: date, seconds: int = 0) -> int:
        """The moment ``seconds`` after midnight of ``day``."""
        return (day - self.first_day).days * DAY + seconds

    def datetime(self, moment: int) -> datetime:
        return self.origin + timedelta(seconds=moment)

    def working_at(self, day: date, hours: float) -> int:
        """A moment ``hours`` into the working day of ``day`` (08:00 plus ``hours``)."""
        return self.at(day, WORKDAY_STARTS + int(hours * HOUR))

    # Working time

    def work(self, moment: int) -> int:
        """Working seconds from the origin up to ``moment``."""
        index, within = divmod(moment, DAY)
        index = min(max(index, 0), len(self._capacity) - 1)
        capacity = self._capacity[index]
        into = min(max(within - WORKDAY_STARTS, 0), WORKDAY)
        return self._before[index] + into * capacity // WORKDAY

    def moment(self, work: int) -> int:
        """The moment at which ``work`` working seconds have passed since the origin."""
        work = min(max(work, 0), self._before[-1] - 1)
        index = bisect.bisect_right(self._before, work) - 1
        into = (work - self._before[index]) * WORKDAY // self._capacity[index]
        return index * DAY + WORKDAY_STARTS + into

    def after(self, moment: int, working_seconds: float) -> int:
        """The moment ``working_seconds`` of work after ``moment``; always later than it."""
        later = self.moment(self.work(moment) + max(int(working_seconds), 1))
        return max(later, moment + MINUTE)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
