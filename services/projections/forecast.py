"""When will the open work be done: the exact distribution Monte Carlo sampling approximates.

A Monte Carlo forecast draws, week after week, one of a team's past weekly throughputs (items
finished in a week) until the drawn weeks add up to the open items, and counts the weeks it took;
many trials give the distribution of that count. Each draw is independent and uniform over the
samples, so the distribution can be computed exactly instead: the number of items finished after
``w`` weeks is the ``w``-fold convolution of the samples' distribution, and the work is done by
week ``w`` exactly when that sum has reached the open count. Carrying the sums below the open
count forward week by week (and the probability that has reached it as done) gives
``P(done by week w)`` for every ``w``, with no sampling noise and no seed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# Fewer weeks than this that each finished something, and there is no forecast.
MIN_WEEKS_WITH_COMPLETIONS = 6
PERCENTILES = (0.50, 0.85, 0.95)
# No forecast looks further than this: beyond it the answer is "not within ten years".
MAX_WEEKS = 520


@dataclass(frozen=True)
class Finish:
    """A percentile of the finish: the week count and the date it ends on."""

    share: float
    weeks: int
    date: date


@dataclass(frozen=True)
class Forecast:
    """The distribution of weeks until ``open_items`` are done, from ``samples``.

    ``done_by[w]`` is the probability that the work is done within ``w + 1`` weeks, up to the
    week where it reaches the last percentile asked (or ``MAX_WEEKS``)."""

    open_items: int
    samples: tuple[int, ...]
    done_by: tuple[float, ...]
    finishes: tuple[Finish, ...]
    start: date

    def probability_by(self, day: date) -> float:
        """The probability the work is done on or before ``day`` (weeks end ``7 w`` days after
        the start)."""
        if self.open_items <= 0:
            return 1.0
        weeks = (day - self.start).days // 7
        if weeks <= 0:
            return 0.0
        if weeks > len(self.done_by):
            return self.done_by[-1] if len(self.done_by) == MAX_WEEKS else 1.0
        return self.done_by[weeks - 1]


class InsufficientData(Exception):
    """Too few weeks that finished anything to forecast from."""


def weeks_with_completions(samples: Sequence[int]) -> int:
    return sum(1 for completed in samples if completed > 0)


def forecast(
    open_items: int,
    samples: Sequence[int],
    start: date,
    *,
    percentiles: Sequence[float] = PERCENTILES,
) -> Forecast:
    """The exact finish distribution of ``open_items`` at weekly throughputs drawn uniformly from
    ``samples`` (items finished per week, one per past week, zero weeks included)."""
    targets = sorted(percentiles)
    if open_items <= 0:
        # Nothing open is done now, whatever the pace.
        now = tuple(Finish(share, 0, start) for share in targets)
        return Forecast(open_items, tuple(samples), (), now, start)
    if weeks_with_completions(samples) < MIN_WEEKS_WITH_COMPLETIONS:
        raise InsufficientData(
            f"{weeks_with_completions(samples)} of {len(samples)} weeks finished anything; "
            f"a forecast needs {MIN_WEEKS_WITH_COMPLETIONS}"
        )
    # Each distinct weekly throughput and the share of the samples that had it.
    weights = [
        (completed, count / len(samples)) for completed, count in sorted(Counter(samples).items())
    ]
    # The probability of each number of items finished so far, below the open count; what has
    # reached it is done and stays done.
    below = [0.0] * open_items
    below[0] = 1.0
    done = 0.0
    done_by: list[float] = []
    finishes: list[Finish] = []
    pending = list(targets)
    while pending and len(done_by) < MAX_WEEKS:
        after = [0.0] * open_items
        for finished, probability in enumerate(below):
            if probability == 0.0:
                continue
            for completed, share in weights:
                total = finished + completed
                if total >= open_items:
                    done += probability * share
                else:
                    after[total] += probability * share
        below = after
        done_by.append(done)
        week = len(done_by)
        while pending and done >= pending[0] - 1e-12:
            share = pending.pop(0)
            finishes.append(Finish(share, week, start + timedelta(weeks=week)))
    return Forecast(open_items, tuple(samples), tuple(done_by), tuple(finishes), start)
