"""A project's forecast: its open issues, its team's weekly throughput in the weeks before the
moment asked about, and the exact finish distribution drawn from them
(``services.projections.forecast``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson

from domain.issue import PRIORITIES
from services.infrastructure.store import Statement
from services.projections.forecast import (
    Forecast,
    InsufficientData,
    forecast,
    weeks_with_completions,
)
from services.projections.query import ViewRequest
from services.projections.readmodel import Snapshot, micros
from services.projections.views.portfolio.tables import (
    COMPLETIONS,
    PROJECTS,
    TALLIES,
    TEAM_DAYS,
    TEAMS,
)

# Past weeks whose throughput the forecast draws from, unless the query asks otherwise.
DEFAULT_SAMPLE_WEEKS = 12


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _iso_week(start: date) -> str:
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


EPOCH_DAY = date(1970, 1, 1)


def weekly_items_sql(snapshot: Snapshot, today: date, sample_weeks: int) -> Statement:
    """Every team's issues finished (net of reopened ones) in each sample week, summed by the
    database from the teams' days (whole weeks are whole days): ``(team_id, week number,
    items)``."""
    first = week_start(today) - timedelta(weeks=sample_weeks)
    first_day = (first - EPOCH_DAY).days
    this_week = (week_start(today) - EPOCH_DAY).days
    sql = (
        f"SELECT team_id, (day - %s) / 7, SUM(items) FROM {snapshot.name(TEAM_DAYS)} "
        "WHERE day >= %s AND day < %s AND valid_to IS NULL GROUP BY 1, 2"
    )
    return Statement(sql, [first_day, first_day, this_week])


def team_samples(rows: list[tuple[Any, ...]], sample_weeks: int) -> dict[str, list[int]]:
    """Each team's weekly samples from ``weekly_items_sql``'s rows; a week that reopened more
    than it finished finished nothing."""
    samples: dict[str, list[int]] = {}
    for team_id, week, items in rows:
        weeks = samples.setdefault(team_id, [0] * sample_weeks)
        weeks[int(week)] += int(items or 0)
    return {team: [max(count, 0) for count in weeks] for team, weeks in samples.items()}


def finish_summary(made: Forecast | None, target: date) -> dict[str, Any]:
    """A forecast as the portfolio shows it: its percentile dates and the chance of the target;
    ``insufficient_data`` without one."""
    if made is None:
        return {"status": "insufficient_data", "probability_by_target": None,
                "p50_date": None, "p85_date": None, "p95_date": None}  # fmt: skip
    dates = {f"p{round(finish.share * 100)}_date": finish.date for finish in made.finishes}
    return {
        "status": "done" if made.open_items <= 0 else "forecast",
        "probability_by_target": round(made.probability_by(target), 6),
        "p50_date": dates.get("p50_date"),
        "p85_date": dates.get("p85_date"),
        "p95_date": dates.get("p95_date"),
    }


def _project_sql(snapshot: Snapshot, project_id: UUID) -> Statement:
    project, params = snapshot.visible("p")
    tally, tally_params = snapshot.visible("w")
    team, team_params = snapshot.visible("t")
    open_columns = " + ".join(f"coalesce(w.open_{priority}, 0)" for priority in PRIORITIES)
    sql = (
        f"SELECT p.key, p.name, p.team_id, t.name, p.target_date, {open_columns} "
        f"FROM {snapshot.name(PROJECTS)} p "
        f"LEFT JOIN {snapshot.name(TALLIES)} w ON w.scope_id = p.project_id AND {tally} "
        f"LEFT JOIN {snapshot.name(TEAMS)} t ON t.team_id = p.team_id AND {team} "
        f"WHERE p.project_id = %s AND {project}"
    )
    return Statement(sql, [*tally_params, *team_params, str(project_id), *params])


def read_forecast(
    view: ViewRequest, snapshot: Snapshot, project_id: UUID, sample_weeks: int
) -> bytes | None:
    """The forecast as JSON (a ``ProjectForecast``); ``None`` if there is no such project."""
    now = view.now
    today = now.astimezone(UTC).date()
    [found] = view.fetch_each(_project_sql(snapshot, project_id))
    if not found:
        return None
    key, name, team_id, team_name, target, open_issues = found[0]
    # Whole ISO weeks before this one: the week under way has not shown its pace yet.
    first = week_start(today) - timedelta(weeks=sample_weeks)
    starts = [first + timedelta(weeks=number) for number in range(sample_weeks)]
    until = micros(datetime.combine(week_start(today), datetime.min.time(), UTC))
    since = micros(datetime.combine(first, datetime.min.time(), UTC))
    [completions] = view.fetch_each(
        Statement(
            f"SELECT occurred, items FROM {snapshot.name(COMPLETIONS)} "
            "WHERE team_id = %s AND occurred >= %s AND occurred < %s",
            [team_id, since, until],
        )
    )
    completed = [0] * sample_weeks
    for occurred, items in completions:
        day = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=occurred)).date()
        completed[(week_start(day) - first).days // 7] += int(items or 0)
    # A week that reopened more than it finished finished nothing.
    samples = [max(count, 0) for count in completed]
    document: dict[str, Any] = {
        "now": now,
        "project": {"id": str(project_id), "name": name},
        "key": key,
        "team": {"id": team_id, "name": team_name},
        "target_date": target,
        "open_issues": int(open_issues),
        "samples": [
            {"week": _iso_week(start), "starts": start, "completed": count}
            for start, count in zip(starts, samples, strict=True)
        ],
        "weeks_with_completions": weeks_with_completions(samples),
        "percentiles": [],
        "probability_by_target": None,
        "distribution": [],
    }
    try:
        result = forecast(int(open_issues), samples, today)
    except InsufficientData as short:
        document |= {"status": "insufficient_data", "detail": str(short)}
        return orjson.dumps(document, option=orjson.OPT_UTC_Z)
    target_day = date.fromisoformat(target)
    document |= {
        "status": "done" if open_issues <= 0 else "forecast",
        "detail": (
            "nothing is open"
            if open_issues <= 0
            else f"{open_issues} open issues at {team_name or 'the team'}'s pace over the last "
            f"{sample_weeks} weeks, drawn week by week"
        ),
        "percentiles": [
            {"share": finish.share, "weeks": finish.weeks, "date": finish.date}
            for finish in result.finishes
        ],
        "probability_by_target": round(result.probability_by(target_day), 6),
        "distribution": [
            {"weeks": week, "date": today + timedelta(weeks=week), "done_by": round(share, 6)}
            for week, share in enumerate(result.done_by, start=1)
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_UTC_Z)
