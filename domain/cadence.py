"""Cadence: how often recurring work falls due, and the due dates it yields over a range."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import MAXYEAR, date
from typing import Literal, get_args

from domain.errors import InvalidInput

Every = Literal["day", "week", "month"]
EVERIES: tuple[Every, ...] = get_args(Every)


@dataclass(frozen=True)
class Cadence:
    """Every ``interval`` days, weeks or months.

    ``weekdays`` (0 is Monday, 6 is Sunday) only applies to weekly cadences; empty means the
    anchor's weekday. ``day_of_month`` only applies to (and is required by) monthly cadences; a
    day the month doesn't have falls on its last day.
    """

    every: Every
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    day_of_month: int | None = None


def _require_every(every: str) -> Every:
    for known in EVERIES:
        if every == known:
            return known
    raise InvalidInput(f"cadence must be every {', '.join(EVERIES)}", field="cadence.every")


def make_cadence(
    every: str, interval: int = 1, weekdays: tuple[int, ...] = (), day_of_month: int | None = None
) -> Cadence:
    """A checked cadence; weekdays are sorted and kept once each."""
    kind = _require_every(every)
    if interval < 1:
        raise InvalidInput("cadence interval must be 1 or more", field="cadence.interval")
    if weekdays and kind != "week":
        raise InvalidInput("only a weekly cadence has weekdays", field="cadence.weekdays")
    if any(not 0 <= day <= 6 for day in weekdays):
        raise InvalidInput("weekdays run from 0 (Monday) to 6 (Sunday)", field="cadence.weekdays")
    if kind == "month":
        if day_of_month is None:
            raise InvalidInput(
                "a monthly cadence needs a day of the month", field="cadence.day_of_month"
            )
        if not 1 <= day_of_month <= 31:
            raise InvalidInput(
                "the day of the month runs from 1 to 31", field="cadence.day_of_month"
            )
    elif day_of_month is not None:
        raise InvalidInput(
            "only a monthly cadence has a day of the month", field="cadence.day_of_month"
        )
    return Cadence(kind, interval, tuple(sorted(set(weekdays))), day_of_month)


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def due_dates(
    cadence: Cadence, anchor: date, after: date | None, until: date, end: date | None
) -> list[date]:
    """The due dates ``d``, in order, with ``anchor <= d <= until``, ``d <= end`` and ``d > after``.

    The cadence counts from ``anchor``: every ``interval`` days from it, every ``interval``
    weeks from the Monday-based week holding it, or every ``interval`` months from its month.
    Nothing falls before ``anchor``. The work done is proportional to the dates returned, not to
    the length of the range. Raises ``InvalidInput`` for a cadence ``make_cadence`` would refuse.
    """
    checked = make_cadence(cadence.every, cadence.interval, cadence.weekdays, cadence.day_of_month)
    step = checked.interval
    # Day ordinals instead of dates: arithmetic near date.max can't overflow.
    first = anchor.toordinal()
    low = first if after is None else max(first, after.toordinal() + 1)
    high = until.toordinal() if end is None else min(until.toordinal(), end.toordinal())
    if low > high:
        return []
    if checked.every == "day":
        start = first + _ceil_div(low - first, step) * step
        return [date.fromordinal(day) for day in range(start, high + 1, step)]
    if checked.every == "week":
        weekdays = checked.weekdays or (anchor.weekday(),)
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
    day_of_month = checked.day_of_month or anchor.day
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
