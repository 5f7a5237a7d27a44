"""Cadences: checked on construction, and the due dates they yield over a range."""

from calendar import monthrange
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.cadence import Cadence, due_dates, make_cadence
from domain.errors import InvalidInput

MONDAY = date(2026, 3, 2)


def test_a_cadence_is_checked_and_its_weekdays_sorted_once_each() -> None:
    assert make_cadence("week", 2, (3, 0, 3)) == Cadence("week", 2, (0, 3), None)


@pytest.mark.parametrize(
    ("every", "interval", "weekdays", "day_of_month", "field"),
    [
        ("year", 1, (), None, "cadence.every"),
        ("day", 0, (), None, "cadence.interval"),
        ("day", 1, (0,), None, "cadence.weekdays"),
        ("month", 1, (0,), 1, "cadence.weekdays"),
        ("week", 1, (7,), None, "cadence.weekdays"),
        ("week", 1, (-1,), None, "cadence.weekdays"),
        ("month", 1, (), None, "cadence.day_of_month"),
        ("month", 1, (), 0, "cadence.day_of_month"),
        ("month", 1, (), 32, "cadence.day_of_month"),
        ("day", 1, (), 1, "cadence.day_of_month"),
        ("week", 1, (), 1, "cadence.day_of_month"),
    ],
)
def test_a_cadence_that_can_never_be_right_is_refused_naming_the_field(
    every: str, interval: int, weekdays: tuple[int, ...], day_of_month: int | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_cadence(every, interval, weekdays, day_of_month)
    assert caught.value.field == field


def test_due_dates_refuses_an_unchecked_invalid_cadence() -> None:
    with pytest.raises(InvalidInput):
        due_dates(Cadence("day", 0), MONDAY, None, MONDAY, None)


def test_a_daily_cadence_falls_every_interval_days_from_the_anchor() -> None:
    assert due_dates(Cadence("day", 3), MONDAY, None, date(2026, 3, 12), None) == [
        date(2026, 3, 2),
        date(2026, 3, 5),
        date(2026, 3, 8),
        date(2026, 3, 11),
    ]


def test_due_dates_are_strictly_after_after() -> None:
    assert due_dates(Cadence("day", 3), MONDAY, date(2026, 3, 5), date(2026, 3, 12), None) == [
        date(2026, 3, 8),
        date(2026, 3, 11),
    ]


def test_due_dates_stop_at_the_end_date() -> None:
    assert due_dates(Cadence("day"), MONDAY, None, date(2026, 3, 12), date(2026, 3, 3)) == [
        date(2026, 3, 2),
        date(2026, 3, 3),
    ]


def test_nothing_is_due_when_until_is_before_the_anchor() -> None:
    assert due_dates(Cadence("day"), MONDAY, None, date(2026, 3, 1), None) == []


def test_a_fortnightly_cadence_falls_on_each_weekday_of_every_other_week() -> None:
    wednesday = date(2026, 3, 4)
    cadence = make_cadence("week", 2, (0, 2, 4))
    assert due_dates(cadence, wednesday, None, date(2026, 3, 31), None) == [
        date(2026, 3, 4),
        date(2026, 3, 6),
        date(2026, 3, 16),
        date(2026, 3, 18),
        date(2026, 3, 20),
        date(2026, 3, 30),
    ]


def test_a_weekly_cadence_without_weekdays_falls_on_the_anchors_weekday() -> None:
    thursday = date(2026, 3, 5)
    assert due_dates(Cadence("week"), thursday, None, date(2026, 3, 20), None) == [
        date(2026, 3, 5),
        date(2026, 3, 12),
        date(2026, 3, 19),
    ]


def test_a_day_beyond_the_months_length_falls_on_its_last_day() -> None:
    cadence = make_cadence("month", 1, (), 31)
    assert due_dates(cadence, date(2024, 1, 1), None, date(2024, 5, 1), None) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]
    assert due_dates(cadence, date(2026, 2, 1), None, date(2026, 2, 28), None) == [
        date(2026, 2, 28)
    ]


def test_a_monthly_cadence_never_falls_before_its_anchor() -> None:
    cadence = make_cadence("month", 3, (), 10)
    assert due_dates(cadence, date(2026, 1, 20), None, date(2026, 12, 31), None) == [
        date(2026, 4, 10),
        date(2026, 7, 10),
        date(2026, 10, 10),
    ]


def test_due_dates_jump_straight_to_the_end_of_a_very_long_range() -> None:
    monthly = make_cadence("month", 1, (), 31)
    late = due_dates(monthly, date.min, date(9999, 10, 1), date.max, None)
    assert late == [date(9999, 10, 31), date(9999, 11, 30), date(9999, 12, 31)]
    weekly = make_cadence("week", 1, (6,))
    assert due_dates(weekly, date.min, date(9999, 12, 24), date.max, None) == [date(9999, 12, 26)]
    assert due_dates(Cadence("day"), date.min, date(9999, 12, 30), date.max, None) == [date.max]


# Properties


def _months(day: date) -> int:
    return day.year * 12 + day.month - 1


def _falls_on(cadence: Cadence, anchor: date, day: date) -> bool:
    """The definition of a cadence, one day at a time."""
    if cadence.every == "day":
        return (day - anchor).days % cadence.interval == 0
    if cadence.every == "week":
        weeks = ((day - timedelta(day.weekday())) - (anchor - timedelta(anchor.weekday()))).days
        weekdays = cadence.weekdays or (anchor.weekday(),)
        return (weeks // 7) % cadence.interval == 0 and day.weekday() in weekdays
    assert cadence.day_of_month is not None
    last = monthrange(day.year, day.month)[1]
    return (_months(day) - _months(anchor)) % cadence.interval == 0 and day.day == min(
        cadence.day_of_month, last
    )


def _reference(
    cadence: Cadence, anchor: date, after: date | None, until: date, end: date | None
) -> list[date]:
    found = []
    day = anchor
    while day <= until and (end is None or day <= end):
        if (after is None or day > after) and _falls_on(cadence, anchor, day):
            found.append(day)
        day += timedelta(days=1)
    return found


cadences = st.one_of(
    st.builds(make_cadence, st.just("day"), st.integers(1, 40)),
    st.builds(
        make_cadence,
        st.just("week"),
        st.integers(1, 6),
        st.lists(st.integers(0, 6), max_size=7).map(tuple),
    ),
    st.builds(make_cadence, st.just("month"), st.integers(1, 14), st.just(()), st.integers(1, 31)),
)
anchors = st.dates(date(2020, 1, 1), date(2030, 12, 31))
offsets = st.integers(-60, 800)


@given(
    cadences,
    anchors,
    st.none() | offsets,
    offsets,
    st.none() | offsets,
)
def test_due_dates_are_exactly_the_days_the_cadence_falls_on_in_range(
    cadence: Cadence, anchor: date, after: int | None, until: int, end: int | None
) -> None:
    after_date = None if after is None else anchor + timedelta(after)
    until_date = anchor + timedelta(until)
    end_date = None if end is None else anchor + timedelta(end)
    found = due_dates(cadence, anchor, after_date, until_date, end_date)
    assert found == sorted(set(found))
    assert all(anchor <= day <= until_date for day in found)
    assert all(end_date is None or day <= end_date for day in found)
    assert all(after_date is None or day > after_date for day in found)
    assert found == _reference(cadence, anchor, after_date, until_date, end_date)
