"""How big the demo organisation is at a scale, known before a line is made.

Counts scale linearly with ``scale`` and have floors, so that even a tiny demo (0.05) holds every
kind of object, every lifecycle state and every situation the insights look for. The objects
counted here are made exactly; lines are estimated (each issue's history is drawn at random).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.importing.demo.calendar import HISTORY_WEEKS


def _scaled(count: float, scale: float, floor: int) -> int:
    return max(floor, round(count * scale))


# Average lines per object of each kind, measured on generated demos; only for the estimate.
LINES_PER_ISSUE = 6.5
LINES_PER_KEY_RESULT = 11.3
LINES_PER_GOAL = 2.5
LINES_PER_PROJECT = 16.0
LINES_PER_OPERATION = 43.0
LINES_PER_MEMBER = 1.1
LINES_PER_TEAM = 3.5
TICKS = HISTORY_WEEKS * 7


@dataclass(frozen=True)
class DemoPlan:
    """The counts of a demo organisation at ``scale``."""

    scale: float
    teams: int
    members: int
    company_goals_per_quarter: int
    goals_per_team_per_quarter: int
    projects: int
    operations: int
    issues: int
    overload_issues: int
    """Issues piled on the overloaded member (see the package's docstring)."""
    slipping_issues: int
    """Issues of the slipping project's backlog, on top of its share of ordinary work."""
    aging_issues: int
    """Issues left in progress for many weeks."""
    untriaged_issues: int
    """Reports that pile up untriaged in the idle team, on top of its ordinary ones."""

    @classmethod
    def for_scale(cls, scale: float = 1.0) -> DemoPlan:
        if not scale > 0:
            raise ValueError("scale must be more than 0")
        teams = _scaled(8, scale, 4)
        return cls(
            scale=scale,
            teams=teams,
            members=_scaled(120, scale, 5 * teams),
            company_goals_per_quarter=_scaled(3, scale, 2),
            goals_per_team_per_quarter=2 if scale >= 0.5 else 1,
            projects=_scaled(40, scale, 7),
            operations=_scaled(20, scale, 12),
            issues=_scaled(20_000, scale, 400),
            overload_issues=_scaled(12, scale, 10),
            slipping_issues=_scaled(60, scale, 14),
            aging_issues=_scaled(12, scale, 4),
            untriaged_issues=_scaled(60, scale, 12),
        )

    @classmethod
    def estimate_lines(cls, scale: float = 1.0) -> int:
        """About how many lines ``generate`` makes at ``scale`` (for a progress bar)."""
        return cls.for_scale(scale).estimated_lines

    @property
    def goals_per_quarter(self) -> int:
        return self.company_goals_per_quarter + self.teams * self.goals_per_team_per_quarter

    @property
    def goals(self) -> int:
        """Both quarters' goals, and one draft that was dropped before it started."""
        return 2 * self.goals_per_quarter + 1

    @property
    def key_results(self) -> int:
        """Goals take two and three key results in turn (the dropped draft has none)."""
        per_quarter = sum(2 + index % 2 for index in range(self.goals_per_quarter))
        return 2 * per_quarter

    @property
    def estimated_lines(self) -> int:
        total = (
            self.teams * LINES_PER_TEAM
            + self.members * LINES_PER_MEMBER
            + self.goals * LINES_PER_GOAL
            + self.key_results * LINES_PER_KEY_RESULT
            + self.projects * LINES_PER_PROJECT
            + self.operations * LINES_PER_OPERATION
            + TICKS
            + self.issues * LINES_PER_ISSUE
        )
        return round(total)

    def describe(self) -> str:
        """One paragraph on what the demo holds."""
        return (
            f"A demo organisation of {self.teams} teams of different pace and size and "
            f"{self.members} members (some part-time, a few joining, leaving or moving team), "
            f"with {self.goals} goals in a company-to-team tree carrying {self.key_results} key "
            f"results checked in weekly over two quarters (the earlier one closed, the current "
            f"one under way), {self.projects} projects in every state from proposed to completed "
            f"or cancelled with milestones and weekly health, {self.operations} recurring "
            f"operations on daily, weekly, fortnightly, monthly and quarterly cadences, and "
            f"{self.issues:,} tasks, bugs, incidents and requests with {HISTORY_WEEKS} weeks of "
            f"history: about {self.estimated_lines:,} import lines. It holds an overloaded "
            f"member, a slipping project, a lagging goal, work aging in progress, an idle team "
            f"beside a large untriaged queue, and an operation that is repeatedly late or skipped."
        )
