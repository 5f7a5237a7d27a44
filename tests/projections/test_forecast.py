"""The exact finish distribution against a plain Monte Carlo of 100,000 trials."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.projections.forecast import (
    MIN_WEEKS_WITH_COMPLETIONS,
    InsufficientData,
    forecast,
)

START = date(2026, 12, 7)
TRIALS = 100_000


def _monte_carlo(open_items: int, samples: list[int], seed: int) -> list[int]:
    """Weeks to finish in each trial: draw a past week's throughput until the open count."""
    draw = random.Random(seed).choice
    weeks = []
    for _ in range(TRIALS):
        finished = week = 0
        while finished < open_items:
            finished += draw(samples)
            week += 1
        weeks.append(week)
    return weeks


@pytest.mark.parametrize(
    ("open_items", "samples"),
    [
        (40, [0, 3, 5, 2, 8, 0, 4, 6, 1, 7, 3, 5]),
        (7, [1, 1, 2, 0, 1, 3, 2]),
        (150, [12, 9, 0, 15, 11, 8, 14, 10, 13, 0, 9, 12]),
    ],
)
def test_the_exact_distribution_agrees_with_monte_carlo_within_sampling_error(
    open_items: int, samples: list[int]
) -> None:
    exact = forecast(open_items, samples, START)
    trials = _monte_carlo(open_items, samples, seed=open_items)
    for week, probability in enumerate(exact.done_by, start=1):
        sampled = sum(1 for weeks in trials if weeks <= week) / TRIALS
        # Five standard errors of a proportion over 100,000 trials: a wrong distribution is
        # caught, sampling noise is not mistaken for one.
        error = 5 * math.sqrt(max(probability * (1 - probability), 1e-6) / TRIALS)
        assert abs(sampled - probability) <= error, (week, sampled, probability)
    ordered = sorted(trials)
    for finish in exact.finishes:
        sampled_weeks = ordered[math.ceil(finish.share * TRIALS) - 1]
        # A percentile sitting right on a week's edge may land on its neighbour in a sample.
        assert abs(sampled_weeks - finish.weeks) <= 1
        assert finish.date == START + timedelta(weeks=finish.weeks)


def test_percentiles_are_the_first_weeks_that_reach_their_share() -> None:
    # Every week finishes exactly 2 of 10 items: done in the fifth week, surely.
    exact = forecast(10, [2] * 8, START)
    assert exact.done_by == (0.0, 0.0, 0.0, 0.0, 1.0)
    assert [(f.share, f.weeks) for f in exact.finishes] == [(0.5, 5), (0.85, 5), (0.95, 5)]
    assert exact.probability_by(START + timedelta(weeks=5)) == 1.0
    assert exact.probability_by(START + timedelta(weeks=5) - timedelta(days=1)) == 0.0


def test_half_the_weeks_finishing_one_item_and_half_none_give_the_binomial_tail() -> None:
    exact = forecast(1, [0, 1] * 6, START)
    assert exact.done_by[:3] == pytest.approx((0.5, 0.75, 0.875))
    assert [f.weeks for f in exact.finishes] == [1, 3, 5]


def test_fewer_than_six_weeks_that_finished_anything_is_insufficient_data() -> None:
    with pytest.raises(InsufficientData, match="5 of 12 weeks finished anything"):
        forecast(10, [1, 2, 0, 0, 3, 0, 0, 1, 0, 0, 4, 0], START)
    assert MIN_WEEKS_WITH_COMPLETIONS == 6


def test_nothing_open_is_done_now() -> None:
    exact = forecast(0, [1] * 6, START)
    assert [f.date for f in exact.finishes] == [START] * 3
    assert exact.probability_by(START) == 1.0


@settings(max_examples=60, deadline=None)
@given(
    open_items=st.integers(1, 60),
    samples=st.lists(st.integers(0, 12), min_size=6, max_size=16).filter(
        lambda drawn: sum(1 for value in drawn if value) >= MIN_WEEKS_WITH_COMPLETIONS
    ),
)
def test_the_distribution_never_falls_and_its_percentiles_are_in_order(
    open_items: int, samples: list[int]
) -> None:
    exact = forecast(open_items, samples, START)
    assert all(a <= b + 1e-12 for a, b in zip(exact.done_by, exact.done_by[1:], strict=False))
    assert exact.done_by[-1] >= 0.95 - 1e-12
    weeks = [finish.weeks for finish in exact.finishes]
    assert weeks == sorted(weeks)
    # Never sooner than the best week allows, never later than the worst nonzero week.
    assert weeks[0] >= math.ceil(open_items / max(samples))
    assert weeks[-1] <= math.ceil(open_items / min(value for value in samples if value)) * len(
        samples
    )
