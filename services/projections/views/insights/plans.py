"""Insights about plans: goals whose progress lags their period or whose linked work forecasts
past its end, and projects unlikely to meet their target date (beside the health a person
posted). Forecasts are the exact distributions of ``services.projections.forecast``, drawn from
each team's issues finished per week over the whole weeks before this one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from services.projections.forecast import MAX_WEEKS, Forecast, InsufficientData
from services.projections.forecast import forecasts as forecasts_at_pace
from services.projections.readmodel import Row
from services.projections.views.insights.facts import Facts
from services.projections.views.insights.insight import (
    DAY_MICROS,
    Insight,
    Severity,
    fact,
    ref,
)
from services.projections.views.insights.rules import Rules
from services.projections.views.insights.statements import day_micros
from services.projections.views.insights.tables import loads

GOAL_FORECAST_SHARE = 0.85


class Forecasts:
    """Each team's weekly samples, and forecasts from them (a team's forecast for a count is
    made once however many projects and goals ask)."""

    def __init__(self, facts: Facts, rules: Rules) -> None:
        self.facts = facts
        self.weeks = rules.flow_throughput_weeks
        self._made: dict[tuple[str, int], Forecast | None] = {}

    @cached_property
    def samples(self) -> Mapping[str, list[int]]:
        """Each team's samples: a week that reopened more than it finished finished nothing."""
        return {
            team_id: [max(count, 0) for count in weeks]
            for team_id, weeks in self.facts.team_weeks.items()
        }

    def prepare(self, wanted: Mapping[str, set[int]]) -> None:
        """Makes each team's forecasts for its counts in one pass (see ``forecasts``)."""
        for team_id, counts in wanted.items():
            missing = {count for count in counts if (team_id, count) not in self._made}
            if not missing:
                continue
            samples = self.samples.get(team_id, [0] * self.weeks)
            try:
                made = forecasts_at_pace(missing, samples, self.facts.moment.today)
            except InsufficientData:
                made = {}
            for count in missing:
                self._made[(team_id, count)] = made.get(count)

    def of(self, team_id: str, open_items: int) -> Forecast | None:
        """The team's forecast for ``open_items``; ``None`` with too little history."""
        self.prepare({team_id: {open_items}})
        return self._made[(team_id, open_items)]


def _week_start_micros(facts: Facts) -> int:
    return day_micros(facts.moment.week_start)


def project_scopes(facts: Facts, project: Row) -> frozenset[tuple[str, str]]:
    """A project belongs to itself, its team, its owner and the goals it serves."""
    return frozenset(
        {
            ("project", project["project_id"]),
            ("team", project["team_id"]),
            ("member", project["owner_id"]),
            *(
                ("goal", goal_id)
                for goal_id in facts.goals_of_project.get(project["project_id"], ())
            ),
        }
    )


def project_slipping(facts: Facts, rules: Rules, forecasts: Forecasts) -> list[Insight]:
    # Only the scope's projects are forecast: a team's question forecasts its own.
    projects = [
        (project, scopes)
        for project in facts.projects.values()
        if facts.scope.covers(scopes := project_scopes(facts, project))
    ]
    wanted: dict[str, set[int]] = {}
    for project, _ in projects:
        wanted.setdefault(project["team_id"], set()).add(int(project["open_issues"] or 0))
    forecasts.prepare(wanted)
    found = []
    for project, scopes in projects:
        open_issues = int(project["open_issues"] or 0)
        if open_issues <= 0:
            continue
        made = forecasts.of(project["team_id"], open_issues)
        if made is None:
            continue
        target = date.fromisoformat(project["target_date"])
        chance = round(made.probability_by(target), 4)
        health = project["health"]
        severity: Severity | None = None
        if chance < rules.slipping_critical:
            severity = "critical"
        elif chance < rules.slipping_warning:
            severity = "warning"
        elif health in ("at_risk", "off_track"):
            severity = "info"
        if severity is None:
            continue
        name = f"{project['key']} {project['name']}"
        p85 = next((f.date for f in made.finishes if f.share == 0.85), None)
        if severity == "info":
            sentence = (
                f"{name} is posted {health.replace('_', ' ')}, but at its team's pace it has a "
                f"{chance:.0%} chance of finishing its {open_issues} open issues by {target}."
            )
        else:
            sentence = (
                f"{name} has a {chance:.0%} chance of finishing its {open_issues} open issues "
                f"by its target {target} (85% by {p85 or 'beyond ten years'})"
            )
            if health == "on_track":
                sentence += ", yet it is posted on track"
            elif health is not None:
                sentence += f"; it is posted {health.replace('_', ' ')}"
            sentence += "."
        finishes = {f"p{round(f.share * 100)}": f.date for f in made.finishes}
        found.append(
            Insight(
                kind="project_slipping",
                severity=severity,
                objects=[ref("project", project["project_id"], name)],
                explanation=sentence,
                since=_week_start_micros(facts),
                evidence=[
                    fact(
                        ref("project", project["project_id"], name),
                        {
                            "target_date": project["target_date"],
                            "open_issues": open_issues,
                            "probability_by_target": chance,
                            "finish": finishes,
                            "health": health,
                            "health_note": project["health_note"],
                        },
                        project["target_position"],
                        project["health_position"],
                    ),
                    fact(
                        ref("team", project["team_id"], facts.team_name(project["team_id"])),
                        {"weekly_completed": forecasts.samples.get(project["team_id"], [])},
                    ),
                ],
                scopes=scopes,
            )
        )
    return found


def _goal_open_work(facts: Facts, goal_id: str) -> dict[str, int]:
    """The goal's open linked issues per team: its open projects' (at each project's team) and
    the issues linked to it directly outside those projects."""
    by_team: dict[str, int] = {}
    projects = {
        link["project_id"]
        for link in facts.project_goals
        if link["goal_id"] == goal_id and link["project_id"] in facts.projects
    }
    for project_id in projects:
        project = facts.projects[project_id]
        by_team[project["team_id"]] = by_team.get(project["team_id"], 0) + int(
            project["open_issues"] or 0
        )
    for linked_goal, team_id, project_id, count in facts.direct_goal_work:
        if linked_goal == goal_id and project_id not in projects:
            by_team[team_id] = by_team.get(team_id, 0) + int(count)
    return {team_id: count for team_id, count in by_team.items() if count > 0}


def _goal_finish(
    facts: Facts, forecasts: Forecasts, open_work: dict[str, int]
) -> tuple[date | None, bool]:
    """When all the goal's linked work is done with 85% probability (each team's work drawn
    independently from its own pace: all done by a week is the product of each done by it);
    ``(None, False)`` when some team has too little history to say."""
    made = [forecasts.of(team_id, count) for team_id, count in sorted(open_work.items())]
    if not made or any(one is None for one in made):
        return None, False
    today = facts.moment.today
    for week in range(1, MAX_WEEKS + 1):
        day = today + timedelta(weeks=week)
        chance = 1.0
        for one in made:
            assert one is not None
            chance *= one.probability_by(day)
        if chance >= GOAL_FORECAST_SHARE - 1e-12:
            return day, True
    return None, True


def goal_scopes(goal: Row) -> frozenset[tuple[str, str]]:
    """A goal belongs to itself, its owner and its team."""
    scopes = {("goal", goal["goal_id"]), ("member", goal["owner_id"])}
    if goal["team_id"]:
        scopes.add(("team", goal["team_id"]))
    return frozenset(scopes)


def goal_at_risk(facts: Facts, rules: Rules, forecasts: Forecasts) -> list[Insight]:
    found = []
    now = facts.moment.now
    for goal in facts.goals.values():
        scopes = goal_scopes(goal)
        if not facts.scope.covers(scopes):
            continue
        start = day_micros(date.fromisoformat(goal["period_start"]))
        end_day = date.fromisoformat(goal["period_end"])
        end = day_micros(end_day) + DAY_MICROS
        span = max(end - start, 1)
        elapsed = min(max((now - start) / span, 0.0), 1.0)
        progress = goal["progress"]
        reasons: list[str] = []
        since: list[int] = []
        values: dict[str, Any] = {
            "period_start": goal["period_start"],
            "period_end": goal["period_end"],
        }
        values["elapsed"] = round(elapsed, 4)
        values["progress"] = round(progress, 4) if progress is not None else None
        lagging: list[Row] = []
        lag = elapsed - progress if progress is not None else 0.0
        if progress is not None and lag > rules.goal_lag:
            reasons.append(f"is {progress:.0%} done with {elapsed:.0%} of its period gone")
            crossed = start + int((progress + rules.goal_lag) * span)
            since.append(max(goal["progress_at"], crossed))
            lagging = [
                kr for kr in loads(goal["key_results"]) if kr["progress"] < elapsed - rules.goal_lag
            ]
        open_work = _goal_open_work(facts, goal["goal_id"])
        finish, forecastable = _goal_finish(facts, forecasts, open_work)
        late_forecast = forecastable and (finish is None or finish > end_day)
        if late_forecast:
            reasons.append(
                f"has linked work 85% likely done only by {finish or 'beyond ten years'}, "
                f"after its period ends {goal['period_end']}"
            )
            since.append(max(_week_start_micros(facts), goal["activated_at"] or 0))
        if not reasons:
            continue
        severity: Severity = (
            "critical" if len(reasons) > 1 or lag > 2 * rules.goal_lag else "warning"
        )
        goal_ref = ref("goal", goal["goal_id"], goal["title"])
        lagging_titles = ", ".join(f"'{kr['title']}'" for kr in lagging)
        sentence = f"The goal '{goal['title']}' " + " and ".join(reasons)
        if lagging_titles:
            sentence += f"; lagging: {lagging_titles}"
        values |= {
            "lag": round(lag, 4) if progress is not None else None,
            "linked_open_issues": open_work,
            "forecast_finish_p85": finish if forecastable else None,
        }
        found.append(
            Insight(
                kind="goal_at_risk",
                severity=severity,
                objects=[goal_ref],
                explanation=sentence + ".",
                since=min(since),
                evidence=[
                    fact(goal_ref, values, goal["activated_position"]),
                    *(
                        fact(
                            ref("key_result", kr["id"], kr["title"]),
                            {
                                "start": kr["start"],
                                "target": kr["target"],
                                "current": kr["current"],
                                "progress": round(kr["progress"], 4),
                            },
                            kr["position"],
                        )
                        for kr in lagging
                    ),
                ],
                scopes=scopes,
            )
        )
    return found
