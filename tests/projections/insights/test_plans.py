"""Insights about plans (docs/insights.md, "The kinds" and "Forecasts"): goals whose progress
lags their period or whose linked work is forecast past its end, and projects unlikely to meet
their target date, beside the health their owners posted.

Forecasts draw from a team's issues finished in each of the twelve whole weeks before this one.
A pace of one issue a week makes them certain (five open issues take exactly five weeks); a pace
of two issues every other week makes them a coin toss per week, whose odds are worked out here by
hand.
"""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from services.app import Runtime
from tests.projections.insights.history import (
    History,
    about,
    ago,
    events,
    ids,
    imported,
    insights,
    iso,
    positions,
    ref,
    summary,
)

START = date(2026, 1, 1)

# goal_at_risk


def test_goal_at_risk_by_lag_by_forecast_and_by_both(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    growth = h.team(ago(120), "Growth")
    berlin = h.team(ago(120), "Berlin")
    ada = h.member(ago(120), "Ada", 10, [growth, berlin])
    h.pace(berlin, [1] * 12)
    # 2026-01-01 to 2026-04-30: 120 days, 50.3% gone on Monday 2026-03-02 09:00.
    revenue = h.goal(ago(70), "Grow revenue", ada, growth, START, date(2026, 4, 30))
    customers = h.key_result(ago(70), revenue, "Reach 100 customers", 0, 100)
    deals = h.key_result(ago(70), revenue, "Close 10 deals", 0, 10)
    h.activate(ago(65), revenue)
    h.check_in(ago(30), revenue, customers, 10)
    h.check_in(ago(30), revenue, deals, 4)
    costs = h.goal(ago(70), "Cut costs", ada, growth, START, date(2026, 4, 30))
    savings = h.key_result(ago(70), costs, "Save 20k", 0, 20)
    h.activate(ago(65), costs)
    h.check_in(ago(40), costs, savings, 2)
    h.check_in(ago(5), costs, savings, 1)
    # 2026-01-01 to 2026-03-31: 90 days, 67.1% gone.
    office = h.goal(ago(70), "Open Berlin office", ada, berlin, START, date(2026, 3, 31))
    lease = h.key_result(ago(70), office, "Sign the lease", 0, 10)
    h.activate(ago(65), office)
    h.check_in(ago(20), office, lease, 6)
    project = h.project(ago(60), "Berlin office", "BER", ada, berlin, date(2026, 6, 30), [office])
    for number in range(5):
        h.issue(ago(50), f"Fit-out {number}", berlin, project_id=project)
    nordics = h.goal(ago(70), "Enter Nordics", ada, growth, START, date(2026, 3, 31))
    stores = h.key_result(ago(70), nordics, "Open 10 stores", 0, 10)
    h.activate(ago(65), nordics)
    h.check_in(ago(35), nordics, stores, 4)
    for number in range(6):
        h.issue(ago(50), f"Store {number}", berlin, goal_ids=[nordics])
    # Not at risk: on pace, and a draft far behind.
    hiring = h.goal(ago(70), "Hire a team", ada, growth, START, date(2026, 4, 30))
    hires = h.key_result(ago(70), hiring, "Hire 10", 0, 10)
    h.activate(ago(65), hiring)
    h.check_in(ago(2), hiring, hires, 5)
    draft = h.goal(ago(70), "Someday", ada, growth, START, date(2026, 4, 30))
    h.key_result(ago(70), draft, "Anything", 0, 10)
    position = imported(runtime, h.lines)

    items = insights(client, admin, position, kind="goal_at_risk")["items"]

    assert [(item["severity"], item["objects"]) for item in items] == [
        ("critical", [ref("goal", nordics, "Enter Nordics")]),
        ("critical", [ref("goal", costs, "Cut costs")]),
        ("warning", [ref("goal", revenue, "Grow revenue")]),
        ("warning", [ref("goal", office, "Open Berlin office")]),
    ]

    # Behind by more than 0.2: since the later of the last progress change and the moment the
    # elapsed share passed progress + 0.2 (0.45 of 120 days: 2026-02-24).
    grow = about(items, revenue)
    revenue_events = events(client, admin, revenue, position)
    [activated] = positions(revenue_events, "GoalActivated")
    customers_check_in, _ = positions(revenue_events, "KeyResultCheckedIn")
    assert grow["since"] == "2026-02-24T00:00:00Z"
    assert grow["explanation"] == (
        "The goal 'Grow revenue' is 25% done with 50% of its period gone; "
        "lagging: 'Reach 100 customers'."
    )
    assert grow["evidence"] == [
        {
            "object": ref("goal", revenue, "Grow revenue"),
            "values": {
                "period_start": "2026-01-01",
                "period_end": "2026-04-30",
                "elapsed": 0.5031,
                "progress": 0.25,
                "lag": 0.2531,
                "linked_open_issues": {},
                "forecast_finish_p85": None,
            },
            "positions": [activated],
        },
        {
            "object": ref("key_result", customers, "Reach 100 customers"),
            "values": {"start": 0.0, "target": 100.0, "current": 10.0, "progress": 0.1},
            "positions": [customers_check_in],
        },
    ]

    # More than twice the threshold behind: critical, since its progress last changed.
    cut = about(items, costs)
    last_check_in = positions(events(client, admin, costs, position), "KeyResultCheckedIn")[-1]
    assert cut["since"] == iso(ago(5))
    assert cut["explanation"] == (
        "The goal 'Cut costs' is 5% done with 50% of its period gone; lagging: 'Save 20k'."
    )
    assert cut["evidence"][0]["values"]["lag"] == 0.4531
    assert cut["evidence"][1] == {
        "object": ref("key_result", savings, "Save 20k"),
        "values": {"start": 0.0, "target": 20.0, "current": 1.0, "progress": 0.05},
        "positions": [last_check_in],
    }

    # On pace, but five open issues at one a week are done 2026-04-06, after 2026-03-31: a
    # warning from the start of the week, with no key result lagging.
    berlin_office = about(items, office)
    assert berlin_office["since"] == "2026-03-02T00:00:00Z"
    for fact in ("'Open Berlin office'", "85% likely done only by 2026-04-06",
                 "after its period ends 2026-03-31"):  # fmt: skip
        assert fact in berlin_office["explanation"]
    assert "lagging" not in berlin_office["explanation"]
    assert berlin_office["evidence"] == [
        {
            "object": ref("goal", office, "Open Berlin office"),
            "values": {
                "period_start": "2026-01-01",
                "period_end": "2026-03-31",
                "elapsed": 0.6708,
                "progress": 0.6,
                "lag": 0.0708,
                "linked_open_issues": {str(berlin): 5},
                "forecast_finish_p85": "2026-04-06",
            },
            "positions": positions(events(client, admin, office, position), "GoalActivated"),
        }
    ]

    # Both reasons: critical, since the earlier of them (the lag's, 2026-02-24).
    enter = about(items, nordics)
    assert enter["since"] == "2026-02-24T00:00:00Z"
    for fact in ("40% done with 67% of its period gone", "85% likely done only by 2026-04-13",
                 "lagging: 'Open 10 stores'"):  # fmt: skip
        assert fact in enter["explanation"]
    values = enter["evidence"][0]["values"]
    assert (values["lag"], values["linked_open_issues"], values["forecast_finish_p85"]) == (
        0.2708,
        {str(berlin): 6},
        "2026-04-13",
    )
    assert [fact["object"]["id"] for fact in enter["evidence"]] == [str(nordics), str(stores)]


# project_slipping


def test_project_slipping_warning_critical_and_a_posted_health_that_disagrees(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(120), "Apps")
    ada = h.member(ago(120), "Ada", 10, [team])
    # Two issues finished every other week: each week finishes 0 or 2, evenly. Four open issues
    # are done within 2 weeks with odds 1/4, 3 weeks 1/2, 4 weeks 11/16, 5 weeks 13/16.
    h.pace(team, [0, 2] * 6)
    projects = {}
    for name, key, target in (
        ("Wallet", "WAL", date(2026, 4, 30)),
        ("Cards", "CRD", date(2026, 3, 23)),
        ("Budget", "BUD", date(2026, 3, 30)),
        ("Loans", "LON", date(2026, 4, 6)),
        ("Savings", "SAV", date(2026, 4, 6)),
        ("Empty", "EMP", date(2026, 3, 9)),
    ):
        projects[key] = h.project(ago(60), name, key, ada, team, target)
        if key != "EMP":
            for number in range(4):
                h.issue(ago(50), f"{name} {number}", team, project_id=projects[key])
    h.add(f"PATCH /v1/projects/{projects['WAL']}", ago(3), {"target_date": "2026-03-16"})
    h.health(ago(2), projects["CRD"], "on_track", "All good")
    h.health(ago(2), projects["BUD"], "off_track", "Vendor late")
    h.health(ago(2), projects["LON"], "at_risk", "Worried")
    h.health(ago(2), projects["SAV"], "on_track")
    position = imported(runtime, h.lines)

    items = insights(client, admin, position, kind="project_slipping")["items"]

    assert summary(items) == {
        ("project_slipping", "critical", ids(projects["WAL"])),
        ("project_slipping", "warning", ids(projects["CRD"])),
        ("project_slipping", "warning", ids(projects["BUD"])),
        ("project_slipping", "info", ids(projects["LON"])),
    }
    assert {item["since"] for item in items} == {"2026-03-02T00:00:00Z"}
    weekly = {
        "object": ref("team", team, "Apps"),
        "values": {"weekly_completed": [0, 2] * 6},
        "positions": [],
    }
    finish = {"p50": "2026-03-23", "p85": "2026-04-13", "p95": "2026-04-27"}

    wallet = about(items, projects["WAL"])
    [rescheduled] = positions(
        events(client, admin, projects["WAL"], position), "ProjectRescheduled"
    )
    assert wallet["objects"] == [ref("project", projects["WAL"], "WAL Wallet")]
    assert wallet["explanation"] == (
        "WAL Wallet has a 25% chance of finishing its 4 open issues by its target 2026-03-16 "
        "(85% by 2026-04-13)."
    )
    assert wallet["evidence"] == [
        {
            "object": ref("project", projects["WAL"], "WAL Wallet"),
            "values": {
                "target_date": "2026-03-16",
                "open_issues": 4,
                "probability_by_target": 0.25,
                "finish": finish,
                "health": None,
                "health_note": None,
            },
            "positions": [rescheduled],
        },
        weekly,
    ]

    cards = about(items, projects["CRD"])
    card_events = events(client, admin, projects["CRD"], position)
    assert cards["explanation"] == (
        "CRD Cards has a 50% chance of finishing its 4 open issues by its target 2026-03-23 "
        "(85% by 2026-04-13), yet it is posted on track."
    )
    assert cards["evidence"][0]["values"]["health"] == "on_track"
    assert cards["evidence"][0]["values"]["health_note"] == "All good"
    assert cards["evidence"][0]["positions"] == sorted(
        positions(card_events, "ProjectCreated") + positions(card_events, "ProjectHealthPosted")
    )

    budget = about(items, projects["BUD"])
    assert budget["explanation"] == (
        "BUD Budget has a 69% chance of finishing its 4 open issues by its target 2026-03-30 "
        "(85% by 2026-04-13); it is posted off track."
    )
    assert budget["evidence"][0]["values"]["probability_by_target"] == 0.6875

    loans = about(items, projects["LON"])
    loan_events = events(client, admin, projects["LON"], position)
    assert loans["explanation"] == (
        "LON Loans is posted at risk, but at its team's pace it has a 81% chance of finishing "
        "its 4 open issues by 2026-04-06."
    )
    assert loans["evidence"] == [
        {
            "object": ref("project", projects["LON"], "LON Loans"),
            "values": {
                "target_date": "2026-04-06",
                "open_issues": 4,
                "probability_by_target": 0.8125,
                "finish": finish,
                "health": "at_risk",
                "health_note": "Worried",
            },
            "positions": sorted(
                positions(loan_events, "ProjectCreated")
                + positions(loan_events, "ProjectHealthPosted")
            ),
        },
        weekly,
    ]


def test_a_goal_forecast_from_another_teams_pace_is_the_same_in_its_owning_teams_scope(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    growth = h.team(ago(120), "Growth")
    berlin = h.team(ago(120), "Berlin")
    ada = h.member(ago(120), "Ada", 10, [growth])
    h.pace(berlin, [1] * 12)
    office = h.goal(ago(70), "Open Berlin office", ada, growth, START, date(2026, 3, 31))
    lease = h.key_result(ago(70), office, "Sign the lease", 0, 10)
    h.activate(ago(65), office)
    h.check_in(ago(20), office, lease, 6)
    for number in range(5):
        h.issue(ago(50), f"Fit-out {number}", berlin, goal_ids=[office])
    position = imported(runtime, h.lines)

    [org] = insights(client, admin, position, kind="goal_at_risk")["items"]
    assert org["evidence"][0]["values"]["forecast_finish_p85"] == "2026-04-06"

    for scope in (f"goal:{office}", f"member:{ada}", f"team:{growth}"):
        answer = insights(client, admin, position, kind="goal_at_risk", scope=scope)
        assert answer["items"] == [org], scope


def test_a_team_with_too_little_history_forecasts_nothing(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(120), "Apps")
    ada = h.member(ago(120), "Ada", 10, [team])
    # Finished something in five of the twelve weeks: one short of a forecast.
    h.pace(team, [0, 3, 0, 0, 2, 0, 1, 0, 0, 4, 0, 1])
    goal = h.goal(ago(70), "Ship the app", ada, team, START, date(2026, 3, 9))
    kr = h.key_result(ago(70), goal, "Screens", 0, 10)
    h.activate(ago(65), goal)
    h.check_in(ago(1), goal, kr, 9)
    project = h.project(ago(60), "Wallet", "WAL", ada, team, date(2026, 3, 9), [goal])
    for number in range(20):
        h.issue(ago(50), f"Screen {number}", team, project_id=project)
    h.health(ago(2), project, "off_track", "We know")
    position = imported(runtime, h.lines)

    for kind in ("project_slipping", "goal_at_risk"):
        assert insights(client, admin, position, kind=kind)["items"] == [], kind


def test_a_goal_without_key_results_is_judged_by_its_linked_works_forecast_alone(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(120), "Berlin")
    ada = h.member(ago(120), "Ada", 10, [team])
    h.pace(team, [1] * 12)
    late = h.goal(ago(70), "Open Berlin office", ada, team, START, date(2026, 3, 31))
    h.activate(ago(65), late)
    for number in range(5):
        h.issue(ago(50), f"Fit-out {number}", team, goal_ids=[late])
    # Nothing to measure and nothing linked: nothing to say, however much of its period is gone.
    quiet = h.goal(ago(70), "Be nice", ada, team, START, date(2026, 3, 31))
    h.activate(ago(65), quiet)
    position = imported(runtime, h.lines)

    items = insights(client, admin, position, kind="goal_at_risk")["items"]

    assert summary(items) == {("goal_at_risk", "warning", ids(late))}
    [office] = items
    assert office["since"] == "2026-03-02T00:00:00Z"
    values = office["evidence"][0]["values"]
    assert (values["progress"], values["lag"], values["forecast_finish_p85"]) == (
        None,
        None,
        "2026-04-06",
    )
    assert "done with" not in office["explanation"]
    assert "2026-04-06" in office["explanation"]
