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
from collections.abc import Iterable, Sequence
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
    return forecasts([open_items], samples, start, percentiles=percentiles)[open_items]


def forecasts(
    open_counts: Iterable[int],
    samples: Sequence[int],
    start: date,
    *,
    percentiles: Sequence[float] = PERCENTILES,
) -> dict[int, Forecast]:
    """``forecast`` for each of ``open_counts`` at the same pace, in one pass: the distribution
    of the items finished after ``w`` weeks, capped at the largest count, answers every smaller
    one too (done by week ``w`` is that sum having reached the count). A portfolio of one
    team's projects costs about as much as its largest project alone."""
    targets = sorted(percentiles)
    wanted = sorted(set(open_counts))
    made: dict[int, Forecast] = {}
    for count in (count for count in wanted if count <= 0):
        # Nothing open is done now, whatever the pace.
        now = tuple(Finish(share, 0, start) for share in targets)
        made[count] = Forecast(count, tuple(samples), (), now, start)
    counts = [count for count in wanted if count > 0]
    if not counts:
        return made
    if weeks_with_completions(samples) < MIN_WEEKS_WITH_COMPLETIONS:
        raise InsufficientData(
            f"{weeks_with_completions(samples)} of {len(samples)} weeks finished anything; "
            f"a forecast needs {MIN_WEEKS_WITH_COMPLETIONS}"
        )
    # Each distinct weekly throughput and the share of the samples that had it.
    weights = [
        (completed, count / len(samples)) for completed, count in sorted(Counter(samples).items())
    ]
    cap = counts[-1]
    # The probability of each number of items finished so far; the last entry holds every
    # number at or past the largest count, which stays there.
    finished = [0.0] * (cap + 1)
    finished[0] = 1.0
    done_by: dict[int, list[float]] = {count: [] for count in counts}
    finishes: dict[int, list[Finish]] = {count: [] for count in counts}
    pending = {count: list(targets) for count in counts}
    week = 0
    while pending and week < MAX_WEEKS:
        after = [0.0] * (cap + 1)
        for so_far, probability in enumerate(finished[:cap]):
            if probability == 0.0:
                continue
            for completed, share in weights:
                total = so_far + completed
                if total >= cap:
                    after[cap] += probability * share
                else:
                    after[total] += probability * share
        after[cap] += finished[cap]
        finished = after
        week += 1
        # P(finished >= count) for each count still pending, summed down from the cap.
        by_count: dict[int, float] = {}
        reached, edge = 0.0, cap + 1
        for count in sorted(pending, reverse=True):
            reached += sum(finished[count:edge])
            by_count[count], edge = reached, count
        for count in list(pending):
            done = by_count[count]
            done_by[count].append(done)
            waiting = pending[count]
            while waiting and done >= waiting[0] - 1e-12:
                share = waiting.pop(0)
                finishes[count].append(Finish(share, week, start + timedelta(weeks=week)))
            if not waiting:
                del pending[count]
    for count in counts:
        made[count] = Forecast(
            count, tuple(samples), tuple(done_by[count]), tuple(finishes[count]), start
        )
    return made
