"""The portfolio view over HTTP: given these commands (and so these events), then this view.

The clock is frozen at Monday 2026-03-02 09:00 UTC, so "today" is 2026-03-02 and a team's pace
is measured over the six weeks before that moment. Projects run from 2026-03-01 to 2026-06-30
unless a test says otherwise.

The runtime here serves the portfolio alone and its worker applies the log when a test reads
(``portfolio_helpers.portfolio``), because stopping a worker thread costs up to a second per
test; one test runs the worker's own thread to show reads wait for a command's position.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contracts.views.portfolio import Portfolio
from services.app import Runtime, build_runtime
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from services.projections.query import encode_cursor
from services.projections.runner import rebuild
from services.projections.views.portfolio import NAME, PROJECTION
from tests.api.conftest import ReusableApp
from tests.api.helpers import (
    Headers,
    assert_problem,
    create_goal,
    create_issue,
    create_member,
    create_operation,
    create_project,
    create_team,
    set_project_status,
    transition,
)
from tests.conftest import FrozenClock
from tests.projections.portfolio_helpers import (
    PORTFOLIO,
    delete,
    entry,
    goal_node,
    kind_totals,
    organisation,
    patch,
    portfolio,
    send,
)

_apps: list[ReusableApp] = []


@pytest.fixture
def runtime(backend: Backend, clock: FrozenClock, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime of the portfolio view alone, whose worker is driven by the reads."""
    built = build_runtime(
        Settings(data_dir=tmp_path), clock=clock, backend=backend, views=[NAME], run_workers=False
    )
    built.start()
    yield built
    built.stop()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """A client of one app made once and served over each test's runtime (it is costly to make)."""
    if not _apps:
        _apps.append(ReusableApp(runtime))
    with TestClient(_apps[0].serve(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def team(client: TestClient, admin: Headers) -> str:
    return create_team(client, admin, "Payments")


@pytest.fixture
def owner(client: TestClient, admin: Headers, team: str) -> str:
    return create_member(client, admin, team_ids=[team])


@pytest.fixture
def project(client: TestClient, admin: Headers, owner: str, team: str) -> str:
    return create_project(client, admin, owner, team, "PAY")


def issue(client: TestClient, admin: Headers, team: str, project: str, **fields: Any) -> str:
    return create_issue(client, admin, team, project_id=project, **fields)


# Projects


def test_given_a_created_project_then_it_is_listed_with_its_owner_team_dates_and_no_work(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str, team: str, project: str
) -> None:
    view = portfolio(client, admin, runtime)

    assert view["items"] == [
        {
            "id": project,
            "key": "PAY",
            "name": "Payments v2",
            "status": "proposed",
            "health": None,
            "owner": {"id": owner, "name": "Ada Lovelace"},
            "team": {"id": team, "name": "Payments"},
            "start_date": "2026-03-01",
            "target_date": "2026-06-30",
            "progress": {
                "estimate_done": 0.0,
                "estimate_total": 0.0,
                "issues_done": 0,
                "issues_total": 0,
                "ratio": None,
            },
            "open_issues": 0,
            "open_by_priority": {"urgent": 0, "high": 0, "medium": 0, "low": 0, "none": 0},
            "overdue": 0,
            "blocked": 0,
            "milestones": [],
            "goals": [],
            "forecast": {
                "remaining_estimate": 0.0,
                "throughput_per_week": 0.0,
                "finish_date": "2026-03-02",
                "target_date": "2026-06-30",
                "days_after_target": -120,
                "distribution": {
                    "status": "done",
                    "probability_by_target": 1.0,
                    "p50_date": "2026-03-02",
                    "p85_date": "2026-03-02",
                    "p95_date": "2026-03-02",
                },
            },
            "risks": [],
        }
    ]
    assert view["now"] == "2026-03-02T09:00:00Z"
    assert view["next_cursor"] is None


def test_given_a_project_renamed_rescheduled_and_activated_then_its_entry_shows_the_latest(
    client: TestClient, admin: Headers, runtime: Runtime, project: str
) -> None:
    patch(client, admin, f"/v1/projects/{project}", {"name": "Payouts"})
    patch(client, admin, f"/v1/projects/{project}", {"target_date": "2026-09-30"})
    set_project_status(client, admin, project, "active", "on_hold")

    found = entry(portfolio(client, admin, runtime), project)

    assert (found["name"], found["status"]) == ("Payouts", "on_hold")
    assert (found["start_date"], found["target_date"]) == ("2026-03-01", "2026-09-30")
    assert found["forecast"]["target_date"] == "2026-09-30"


def test_given_health_updates_then_the_latest_shows_with_its_note_and_time_and_off_track_is_a_risk(
    client: TestClient, admin: Headers, runtime: Runtime, clock: FrozenClock, project: str
) -> None:
    send(client, admin, f"/v1/projects/{project}/health", {"health": "on_track"})
    clock.advance(timedelta(hours=2))
    send(client, admin, f"/v1/projects/{project}/health", {"health": "off_track", "note": "PSP"})

    found = entry(portfolio(client, admin, runtime), project)

    assert found["health"] == {
        "status": "off_track",
        "note": "PSP",
        "posted_at": "2026-03-02T11:00:00Z",
    }
    assert found["risks"] == ["off_track"]


def test_given_milestones_then_each_shows_when_it_is_due_done_and_late(
    client: TestClient, admin: Headers, runtime: Runtime, clock: FrozenClock, project: str
) -> None:
    path = f"/v1/projects/{project}/milestones"
    beta = send(client, admin, path, {"name": "Beta", "due_date": "2026-03-03"})["milestone_id"]
    alpha = send(client, admin, path, {"name": "Alpha", "due_date": "2026-03-02"})["milestone_id"]
    launch = send(client, admin, path, {"name": "Launch", "due_date": "2026-03-20"})
    send(client, admin, f"{path}/{alpha}/complete")
    clock.advance(timedelta(days=2))
    send(client, admin, f"{path}/{launch['milestone_id']}/complete")

    found = entry(portfolio(client, admin, runtime), project)

    assert found["milestones"] == [
        {
            "id": alpha,
            "name": "Alpha",
            "due_date": "2026-03-02",
            "done": True,
            "completed_on": "2026-03-02",
            "late": False,
        },
        {
            "id": beta,
            "name": "Beta",
            "due_date": "2026-03-03",
            "done": False,
            "completed_on": None,
            "late": True,
        },
        {
            "id": launch["milestone_id"],
            "name": "Launch",
            "due_date": "2026-03-20",
            "done": True,
            "completed_on": "2026-03-04",
            "late": False,
        },
    ]
    assert "milestone_late" in found["risks"]


def test_given_a_milestone_done_after_its_due_date_then_it_is_late_but_no_longer_a_risk(
    client: TestClient, admin: Headers, runtime: Runtime, clock: FrozenClock, project: str
) -> None:
    path = f"/v1/projects/{project}/milestones"
    beta = send(client, admin, path, {"name": "Beta", "due_date": "2026-03-02"})["milestone_id"]
    clock.advance(timedelta(days=3))
    send(client, admin, f"{path}/{beta}/complete")

    found = entry(portfolio(client, admin, runtime), project)

    [milestone] = found["milestones"]
    assert (milestone["done"], milestone["completed_on"], milestone["late"]) == (
        True,
        "2026-03-05",
        True,
    )
    assert "milestone_late" not in found["risks"]


def test_given_goals_linked_to_a_project_then_its_entry_lists_them_with_their_progress(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str, team: str
) -> None:
    revenue = create_goal(client, admin, owner, title="Grow revenue")
    costs = create_goal(client, admin, owner, title="Cut costs")
    send(client, admin, f"/v1/goals/{revenue}/activate")
    kr = send(
        client,
        admin,
        f"/v1/goals/{revenue}/key-results",
        {"title": "ARR", "unit": "number", "start": 0, "target": 10},
    )["key_result_id"]
    send(client, admin, f"/v1/goals/{revenue}/key-results/{kr}/check-ins", {"value": 5})
    project = create_project(client, admin, owner, team, "PAY", goal_ids=[revenue])
    send(client, admin, f"/v1/projects/{project}/goals", {"goal_id": costs})

    found = entry(portfolio(client, admin, runtime), project)

    assert found["goals"] == [
        {"id": costs, "title": "Cut costs", "status": "draft", "progress": None},
        {"id": revenue, "title": "Grow revenue", "status": "active", "progress": 0.5},
    ]


def test_given_issues_of_a_project_then_progress_weighs_done_estimate_and_leaves_out_cancelled(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    done = issue(client, admin, team, project, estimate=3)
    issue(client, admin, team, project, estimate=5)
    cancelled = issue(client, admin, team, project, estimate=2)
    unestimated = issue(client, admin, team, project)
    create_issue(client, admin, team, estimate=13)
    transition(client, admin, done, "in_progress", "done")
    transition(client, admin, unestimated, "in_progress", "done")
    transition(client, admin, cancelled, "cancelled")

    found = entry(portfolio(client, admin, runtime), project)

    assert found["progress"] == {
        "estimate_done": 3.0,
        "estimate_total": 8.0,
        "issues_done": 2,
        "issues_total": 3,
        "ratio": 0.375,
    }


def test_given_an_issue_re_estimated_then_progress_and_the_remaining_estimate_follow(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    done = issue(client, admin, team, project, estimate=3)
    open_issue = issue(client, admin, team, project, estimate=5)
    transition(client, admin, done, "in_progress", "done")
    patch(client, admin, f"/v1/issues/{open_issue}", {"estimate": 1})

    found = entry(portfolio(client, admin, runtime), project)

    assert (found["progress"]["estimate_total"], found["progress"]["ratio"]) == (4.0, 0.75)
    assert found["forecast"]["remaining_estimate"] == 1.0


def test_given_no_estimated_work_then_progress_is_the_done_share_of_the_issues(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    done = issue(client, admin, team, project)
    issue(client, admin, team, project)
    issue(client, admin, team, project)
    issue(client, admin, team, project, estimate=0)
    transition(client, admin, done, "in_progress", "done")

    found = entry(portfolio(client, admin, runtime), project)

    assert (found["progress"]["estimate_total"], found["progress"]["ratio"]) == (0.0, 0.25)


def test_given_open_issues_then_they_are_counted_by_their_current_priority(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    issue(client, admin, team, project, priority="urgent")
    issue(client, admin, team, project, priority="high")
    lowered = issue(client, admin, team, project, priority="high")
    issue(client, admin, team, project, priority="low")
    done = issue(client, admin, team, project, priority="urgent")
    transition(client, admin, done, "in_progress", "done")
    patch(client, admin, f"/v1/issues/{lowered}", {"priority": "medium"})

    found = entry(portfolio(client, admin, runtime), project)

    assert found["open_by_priority"] == {"urgent": 1, "high": 1, "medium": 1, "low": 1, "none": 0}
    assert found["open_issues"] == 4


def test_given_open_issues_due_before_today_then_they_are_overdue_and_a_risk(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    issue(client, admin, team, project, due_date="2026-03-01")
    moved = issue(client, admin, team, project, due_date="2026-03-02")
    done = issue(client, admin, team, project, due_date="2026-02-20")
    cleared = issue(client, admin, team, project, due_date="2026-02-21")
    transition(client, admin, done, "in_progress", "done")
    patch(client, admin, f"/v1/issues/{moved}", {"due_date": "2026-02-27"})
    patch(client, admin, f"/v1/issues/{cleared}", {"due_date": None})

    found = entry(portfolio(client, admin, runtime), project)

    assert found["overdue"] == 2
    assert found["risks"] == ["overdue_work"]


def test_given_time_passing_a_due_date_then_the_issue_becomes_overdue(
    client: TestClient,
    admin: Headers,
    runtime: Runtime,
    clock: FrozenClock,
    team: str,
    project: str,
) -> None:
    issue(client, admin, team, project, due_date="2026-03-03")
    before = entry(portfolio(client, admin, runtime), project)["overdue"]
    clock.advance(timedelta(days=2))

    after = entry(portfolio(client, admin, runtime), project)["overdue"]

    assert (before, after) == (0, 1)


def test_given_an_issue_flagged_blocked_then_it_counts_as_blocked_until_unblocked(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    flagged = issue(client, admin, team, project)
    send(client, admin, f"/v1/issues/{flagged}/block", {"reason": "waiting on legal"})
    blocked = entry(portfolio(client, admin, runtime), project)
    send(client, admin, f"/v1/issues/{flagged}/unblock")

    unblocked = entry(portfolio(client, admin, runtime), project)

    assert (blocked["blocked"], blocked["risks"]) == (1, ["blocked_work"])
    assert (unblocked["blocked"], unblocked["risks"]) == (0, [])


def test_given_an_issue_waiting_on_an_open_blocker_then_it_is_blocked_until_the_blocker_is_done(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    waiting = issue(client, admin, team, project)
    blocker = create_issue(client, admin, team)
    send(client, admin, f"/v1/issues/{waiting}/dependencies", {"blocked_by_id": blocker})
    transition(client, admin, blocker, "in_progress")
    while_open = entry(portfolio(client, admin, runtime), project)["blocked"]
    transition(client, admin, blocker, "done")
    once_done = entry(portfolio(client, admin, runtime), project)["blocked"]
    transition(client, admin, blocker, "todo")

    reopened = entry(portfolio(client, admin, runtime), project)["blocked"]

    assert (while_open, once_done, reopened) == (1, 0, 1)


def test_given_a_dependency_removed_then_the_issue_no_longer_counts_as_blocked(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    waiting = issue(client, admin, team, project)
    blocker = issue(client, admin, team, project)
    send(client, admin, f"/v1/issues/{waiting}/dependencies", {"blocked_by_id": blocker})
    delete(client, admin, f"/v1/issues/{waiting}/dependencies/{blocker}")

    found = entry(portfolio(client, admin, runtime), project)

    assert found["blocked"] == 0


def test_given_a_blocked_issue_that_is_done_then_it_no_longer_counts_as_blocked(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    flagged = issue(client, admin, team, project)
    send(client, admin, f"/v1/issues/{flagged}/block", {"reason": "vendor"})
    transition(client, admin, flagged, "cancelled")

    found = entry(portfolio(client, admin, runtime), project)

    assert found["blocked"] == 0


# Forecast


def test_given_the_teams_completed_work_then_the_forecast_divides_what_remains_by_its_pace(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    finished = create_issue(client, admin, team, estimate=6)
    transition(client, admin, finished, "in_progress", "done")
    issue(client, admin, team, project, estimate=2)

    forecast = entry(portfolio(client, admin, runtime), project)["forecast"]

    assert forecast == {
        "remaining_estimate": 2.0,
        "throughput_per_week": 1.0,
        "finish_date": "2026-03-16",
        "target_date": "2026-06-30",
        "days_after_target": -106,
        # Finished this week: no whole week of the team's has finished anything yet.
        "distribution": {
            "status": "insufficient_data",
            "probability_by_target": None,
            "p50_date": None,
            "p85_date": None,
            "p95_date": None,
        },
    }


def test_given_a_pace_too_slow_for_the_target_then_the_project_is_flagged_forecast_after_target(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    finished = create_issue(client, admin, team, estimate=6)
    transition(client, admin, finished, "in_progress", "done")
    issue(client, admin, team, project, estimate=20)

    found = entry(portfolio(client, admin, runtime), project)

    assert (found["forecast"]["finish_date"], found["forecast"]["days_after_target"]) == (
        "2026-07-20",
        20,
    )
    assert found["risks"] == ["forecast_after_target"]


def test_given_a_longer_measuring_window_then_the_same_completions_make_a_slower_pace(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    finished = create_issue(client, admin, team, estimate=6)
    transition(client, admin, finished, "in_progress", "done")
    issue(client, admin, team, project, estimate=2)

    view = portfolio(client, admin, runtime, throughput_weeks=12)

    assert view["throughput_weeks"] == 12
    assert entry(view, project)["forecast"]["throughput_per_week"] == 0.5
    assert entry(view, project)["forecast"]["finish_date"] == "2026-03-30"


def test_the_pace_counts_exactly_the_completions_inside_its_window_to_the_microsecond(
    client: TestClient,
    admin: Headers,
    runtime: Runtime,
    clock: FrozenClock,
    team: str,
    project: str,
) -> None:
    # Whole days inside the window are summed per day, its partial first and last days from
    # the completions themselves: completions on and around both edges tell the two apart.
    issue(client, admin, team, project, estimate=64)
    start = clock()

    def complete_at(moment: timedelta, estimate: int) -> None:
        clock.advance(start + moment - clock())
        finished = create_issue(client, admin, team, estimate=estimate)
        transition(client, admin, finished, "in_progress", "done")

    complete_at(timedelta(0), 1)  # Monday 09:00, exactly where a week's window opens
    complete_at(timedelta(hours=15), 2)  # Tuesday 00:00
    complete_at(timedelta(hours=39, microseconds=-1), 4)  # the last instant of Tuesday
    complete_at(timedelta(days=3, hours=3), 8)  # Thursday noon
    complete_at(timedelta(days=7, hours=-1), 16)  # next Monday 08:00
    complete_at(timedelta(days=7, microseconds=1), 32)  # just after the next window closes
    clock.advance(start + timedelta(days=9) - clock())

    def pace(after: timedelta | None = None) -> float:
        params = {} if after is None else {"as_of": (start + after).isoformat()}
        view = portfolio(client, admin, runtime, throughput_weeks=1, **params)
        forecast = entry(view, project)["forecast"]
        return float(forecast["throughput_per_week"])

    assert pace(timedelta(days=7)) == 2 + 4 + 8 + 16
    assert pace(timedelta(days=7, microseconds=1)) == 2 + 4 + 8 + 16 + 32
    assert pace(timedelta(hours=39)) == 1 + 2 + 4
    assert pace(timedelta(hours=39, microseconds=-2)) == 1 + 2
    assert pace(timedelta(hours=15)) == 1 + 2
    assert pace(timedelta(days=8, hours=3)) == 4 + 8 + 16 + 32
    assert pace() == 8 + 16 + 32
    rebuild(runtime.store, runtime.backend, PROJECTION)
    assert pace(timedelta(days=7)) == 2 + 4 + 8 + 16


def test_given_completed_work_reopened_then_it_no_longer_counts_toward_the_pace(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    reopened = create_issue(client, admin, team, estimate=6)
    transition(client, admin, reopened, "in_progress", "done", "todo")
    issue(client, admin, team, project, estimate=2)

    found = entry(portfolio(client, admin, runtime), project)

    assert (found["forecast"]["throughput_per_week"], found["forecast"]["finish_date"]) == (
        0.0,
        None,
    )
    assert found["risks"] == ["no_throughput"]


def test_given_completions_older_than_the_window_then_the_team_has_no_pace(
    client: TestClient,
    admin: Headers,
    runtime: Runtime,
    clock: FrozenClock,
    team: str,
    project: str,
) -> None:
    finished = create_issue(client, admin, team, estimate=6)
    transition(client, admin, finished, "in_progress", "done")
    issue(client, admin, team, project, estimate=2)
    clock.advance(timedelta(weeks=6, seconds=1))

    forecast = entry(portfolio(client, admin, runtime), project)["forecast"]

    assert (forecast["throughput_per_week"], forecast["finish_date"]) == (0.0, None)


def test_given_another_teams_completions_then_they_do_not_speed_up_this_project(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    elsewhere = create_team(client, admin, "Platform")
    finished = create_issue(client, admin, elsewhere, estimate=6)
    transition(client, admin, finished, "in_progress", "done")
    issue(client, admin, team, project, estimate=2)

    forecast = entry(portfolio(client, admin, runtime), project)["forecast"]

    assert forecast["throughput_per_week"] == 0.0


def test_given_a_project_past_its_target_then_it_is_flagged_past_target(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str, team: str
) -> None:
    late = create_project(
        client, admin, owner, team, "OLD", start_date="2026-01-01", target_date="2026-02-28"
    )

    found = entry(portfolio(client, admin, runtime), late)

    assert found["risks"] == ["past_target", "forecast_after_target"]


def test_given_a_completed_project_then_it_has_no_forecast_and_no_risks(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    issue(client, admin, team, project, estimate=3, due_date="2026-02-01")
    send(client, admin, f"/v1/projects/{project}/health", {"health": "off_track"})
    set_project_status(client, admin, project, "active", "completed")

    found = entry(portfolio(client, admin, runtime), project)

    assert (found["status"], found["overdue"]) == ("completed", 1)
    assert (found["forecast"]["finish_date"], found["risks"]) == (None, [])


# Filters and pages


def test_given_projects_of_two_teams_then_team_id_narrows_the_items_to_one_team(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str, team: str, project: str
) -> None:
    platform = create_team(client, admin, "Platform")
    create_project(client, admin, owner, platform, "OPS")

    view = portfolio(client, admin, runtime, team_id=team)

    assert [item["key"] for item in view["items"]] == ["PAY"]
    assert view["totals"]["projects"]["proposed"] == 2


def test_given_projects_in_several_statuses_then_status_narrows_the_items_to_one(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str, team: str, project: str
) -> None:
    active = create_project(client, admin, owner, team, "OPS")
    set_project_status(client, admin, active, "active")

    view = portfolio(client, admin, runtime, status="active")

    assert [item["id"] for item in view["items"]] == [active]


def test_given_more_projects_than_the_limit_then_the_cursor_pages_through_them_by_key(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str, team: str
) -> None:
    for key in ("GAMMA", "ALPHA", "BETA"):
        create_project(client, admin, owner, team, key)

    first = portfolio(client, admin, runtime, limit=2)
    second = portfolio(client, admin, runtime, limit=2, cursor=first["next_cursor"])

    assert [item["key"] for item in first["items"]] == ["ALPHA", "BETA"]
    assert [item["key"] for item in second["items"]] == ["GAMMA"]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"cursor": "not a cursor"}, 400, "cursor"),
        ({"cursor": encode_cursor([1])}, 400, "cursor"),
        ({"status": "finished"}, 422, "status"),
        ({"team_id": "payments"}, 422, "team_id"),
        ({"throughput_weeks": 0}, 422, "throughput_weeks"),
    ],
)
def test_a_bad_query_parameter_is_a_problem_naming_it(
    client: TestClient, admin: Headers, params: dict[str, Any], status: int, field: str
) -> None:
    response = client.get(PORTFOLIO, params=params, headers=admin)

    assert_problem(response, status, "validation_error", field=field)


# The goal tree


def test_given_goals_aligned_under_parents_then_the_tree_nests_them(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str
) -> None:
    company = create_goal(client, admin, owner, title="Company")
    team_goal = create_goal(client, admin, owner, title="Team", parent_id=company)
    moved = create_goal(client, admin, owner, title="Moved")
    patch(client, admin, f"/v1/goals/{moved}", {"parent_id": company})
    lonely = create_goal(client, admin, owner, title="Alone")

    tree = portfolio(client, admin, runtime)["goal_tree"]

    assert [(root["id"], [child["id"] for child in root["children"]]) for root in tree] == [
        (lonely, []),
        (company, [moved, team_goal]),
    ]


def test_given_goals_moving_through_their_lifecycle_then_the_tree_shows_their_status_and_title(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str, team: str
) -> None:
    achieved = create_goal(client, admin, owner, title="Launch", team_id=team)
    send(client, admin, f"/v1/goals/{achieved}/activate")
    send(client, admin, f"/v1/goals/{achieved}/close", {"outcome": "achieved"})
    retitled = create_goal(client, admin, owner, title="Draft")
    patch(client, admin, f"/v1/goals/{retitled}", {"title": "Grow"})

    view = portfolio(client, admin, runtime)

    node = goal_node(view, achieved)
    assert (node["status"], node["title"], node["team_id"]) == ("achieved", "Launch", team)
    assert (node["owner"], node["period_start"], node["period_end"]) == (
        {"id": owner, "name": "Ada Lovelace"},
        "2026-01-01",
        "2026-03-31",
    )
    assert (goal_node(view, retitled)["status"], goal_node(view, retitled)["title"]) == (
        "draft",
        "Grow",
    )


def test_given_key_results_checked_in_then_a_goals_progress_is_the_mean_of_theirs(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str
) -> None:
    goal = create_goal(client, admin, owner)
    path = f"/v1/goals/{goal}/key-results"
    rising = send(client, admin, path, {"title": "ARR", "unit": "number", "start": 0, "target": 10})
    falling = send(
        client, admin, path, {"title": "Churn", "unit": "percent", "start": 100, "target": 0}
    )
    send(client, admin, f"{path}/{rising['key_result_id']}/check-ins", {"value": 5})
    send(client, admin, f"{path}/{falling['key_result_id']}/check-ins", {"value": 25})
    create_issue(client, admin, create_team(client, admin), goal_ids=[goal], estimate=1)

    node = goal_node(portfolio(client, admin, runtime), goal)

    assert (node["progress"], node["progress_basis"]) == (0.625, "key_results")
    assert node["key_results"] == [
        {
            "id": rising["key_result_id"],
            "title": "ARR",
            "unit": "number",
            "start": 0.0,
            "target": 10.0,
            "current": 5.0,
            "progress": 0.5,
        },
        {
            "id": falling["key_result_id"],
            "title": "Churn",
            "unit": "percent",
            "start": 100.0,
            "target": 0.0,
            "current": 25.0,
            "progress": 0.75,
        },
    ]


def test_given_issues_linked_to_a_goal_without_key_results_then_its_progress_is_their_done_share(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str, team: str
) -> None:
    goal = create_goal(client, admin, owner)
    done = create_issue(client, admin, team, goal_ids=[goal], estimate=3)
    linked = create_issue(client, admin, team, estimate=1)
    create_issue(client, admin, team, estimate=5)
    send(client, admin, f"/v1/issues/{linked}/links", {"kind": "goal", "target_id": goal})
    transition(client, admin, done, "in_progress", "done")

    node = goal_node(portfolio(client, admin, runtime), goal)

    assert (node["progress"], node["progress_basis"]) == (0.75, "work")
    assert node["linked_work"] == {
        "issues_total": 2,
        "issues_done": 1,
        "estimate_total": 4.0,
        "estimate_done": 3.0,
    }


def test_given_an_issue_unlinked_from_a_goal_then_it_no_longer_counts_toward_it(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str, team: str
) -> None:
    goal = create_goal(client, admin, owner)
    done = create_issue(client, admin, team, goal_ids=[goal], estimate=3)
    unlinked = create_issue(client, admin, team, goal_ids=[goal], estimate=1)
    transition(client, admin, done, "in_progress", "done")
    delete(client, admin, f"/v1/issues/{unlinked}/links/goal/{goal}")

    node = goal_node(portfolio(client, admin, runtime), goal)

    assert (node["progress"], node["linked_work"]["issues_total"]) == (1.0, 1)


def test_given_a_goal_with_neither_key_results_nor_work_then_it_has_no_progress(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str
) -> None:
    goal = create_goal(client, admin, owner)

    node = goal_node(portfolio(client, admin, runtime), goal)

    assert (node["progress"], node["progress_basis"], node["key_results"]) == (None, None, [])


# Organisation totals


def test_given_issues_of_each_kind_then_totals_show_unplanned_beside_planned_work(
    client: TestClient, admin: Headers, runtime: Runtime, team: str, project: str
) -> None:
    create_issue(client, admin, team, "task", estimate=2)
    done = issue(client, admin, team, project, estimate=3)
    create_issue(client, admin, team, "bug", estimate=1)
    incident = create_issue(client, admin, team, "incident", estimate=5)
    create_issue(client, admin, team, "request")
    transition(client, admin, done, "in_progress", "done")
    transition(client, admin, incident, "cancelled")

    totals = portfolio(client, admin, runtime)["totals"]

    assert kind_totals({"totals": totals}, "task") == {
        "kind": "task",
        "planned": True,
        "open": 1,
        "done": 1,
        "cancelled": 0,
        "open_estimate": 2.0,
        "done_estimate": 3.0,
    }
    assert kind_totals({"totals": totals}, "incident")["cancelled"] == 1
    assert totals["planned"] == {
        "open": 1,
        "done": 1,
        "cancelled": 0,
        "open_estimate": 2.0,
        "done_estimate": 3.0,
    }
    assert totals["unplanned"] == {
        "open": 2,
        "done": 0,
        "cancelled": 1,
        "open_estimate": 1.0,
        "done_estimate": 0.0,
    }


def test_given_operations_then_totals_count_them_by_lifecycle_with_their_occurrences(
    client: TestClient, admin: Headers, runtime: Runtime, clock: FrozenClock, owner: str, team: str
) -> None:
    daily = create_operation(client, admin, team, owner)
    send(client, admin, "/v1/operations/tick", {"until": "2026-03-04"})
    send(client, admin, f"/v1/operations/{daily}/occurrences/2026-03-02/complete")
    send(client, admin, f"/v1/operations/{daily}/occurrences/2026-03-03/skip")
    paused = create_operation(client, admin, team, owner)
    send(client, admin, f"/v1/operations/{paused}/pause")
    retired = create_operation(client, admin, team, owner)
    send(client, admin, f"/v1/operations/{retired}/retire")
    resumed = create_operation(client, admin, team, owner)
    send(client, admin, f"/v1/operations/{resumed}/pause")
    send(client, admin, f"/v1/operations/{resumed}/resume")
    clock.advance(timedelta(days=3))

    operations = portfolio(client, admin, runtime)["totals"]["operations"]

    assert operations == {
        "active": 2,
        "paused": 1,
        "retired": 1,
        "occurrences_open": 1,
        "occurrences_late": 1,
        "occurrences_completed": 1,
        "occurrences_skipped": 1,
    }


def test_given_projects_and_goals_in_every_status_then_totals_count_each_status(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str, team: str
) -> None:
    paths = {
        "PRO": (),
        "ACT": ("active",),
        "HOLD": ("active", "on_hold"),
        "DONE": ("active", "completed"),
        "STOP": ("cancelled",),
    }
    for key, statuses in paths.items():
        set_project_status(
            client, admin, create_project(client, admin, owner, team, key), *statuses
        )
    outcomes = {"draft": [], "active": [], "achieved": ["achieved"], "missed": ["missed"]}
    for status, closes in outcomes.items():
        goal = create_goal(client, admin, owner, title=status)
        if status != "draft":
            send(client, admin, f"/v1/goals/{goal}/activate")
        for outcome in closes:
            send(client, admin, f"/v1/goals/{goal}/close", {"outcome": outcome})
    abandoned = create_goal(client, admin, owner)
    send(client, admin, f"/v1/goals/{abandoned}/close", {"outcome": "abandoned"})

    totals = portfolio(client, admin, runtime)["totals"]

    assert totals["projects"] == dict.fromkeys(
        ("proposed", "active", "on_hold", "completed", "cancelled"), 1
    )
    assert totals["goals"] == dict.fromkeys(
        ("draft", "active", "achieved", "missed", "abandoned"), 1
    )


def test_given_the_owner_and_team_renamed_then_the_view_shows_their_new_names(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str, team: str, project: str
) -> None:
    goal = create_goal(client, admin, owner)
    patch(client, admin, f"/v1/members/{owner}", {"name": "Ada King"})
    patch(client, admin, f"/v1/teams/{team}", {"name": "Payouts"})

    view = portfolio(client, admin, runtime)

    assert entry(view, project)["owner"] == {"id": owner, "name": "Ada King"}
    assert entry(view, project)["team"] == {"id": team, "name": "Payouts"}
    assert goal_node(view, goal)["owner"] == {"id": owner, "name": "Ada King"}


# Time, read-your-writes and rebuilding


def test_as_of_a_past_moment_answers_the_portfolio_exactly_as_it_was_then(
    client: TestClient, admin: Headers, runtime: Runtime, clock: FrozenClock
) -> None:
    captured: list[tuple[str, dict[str, Any]]] = []
    organisation(
        client,
        admin,
        clock,
        midway=lambda: captured.append((clock().isoformat(), portfolio(client, admin, runtime))),
    )
    [(then, live_then)] = captured

    as_of = portfolio(client, admin, runtime, as_of=then)

    assert Portfolio.model_validate(as_of).model_dump(mode="json") == as_of
    assert as_of == live_then
    assert as_of["items"] != portfolio(client, admin, runtime)["items"]


def test_a_command_is_in_the_portfolio_when_read_with_the_position_it_answered(
    client: TestClient, admin: Headers, runtime: Runtime, owner: str, team: str
) -> None:
    [worker] = runtime.workers
    worker.start()
    try:
        body = {
            "name": "Payouts",
            "key": "PAYO",
            "owner_id": owner,
            "team_id": team,
            "start_date": "2026-03-01",
            "target_date": "2026-06-30",
        }
        answer = send(client, admin, "/v1/projects", body)

        response = client.get(PORTFOLIO, params={"min_position": answer["position"]}, headers=admin)
    finally:
        worker.stop()

    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [answer["id"]]


def test_the_portfolio_rebuilt_from_zero_answers_exactly_as_the_live_one(
    client: TestClient, admin: Headers, runtime: Runtime, clock: FrozenClock
) -> None:
    organisation(client, admin, clock)
    middle = (clock() - timedelta(days=2)).isoformat()
    live = portfolio(client, admin, runtime)
    live_then = portfolio(client, admin, runtime, as_of=middle)

    rebuild(runtime.store, runtime.backend, PROJECTION)

    assert portfolio(client, admin, runtime) == live
    assert portfolio(client, admin, runtime, as_of=middle) == live_then
