"""Insights about single work items (docs/insights.md, "The kinds"): stale, aging and churning
work, the triage queue and its scores, and overdue or blocked work an active goal depends on.

Each history is imported with its times before the frozen clock (Monday 2026-03-02 09:00 UTC);
each insight's evidence cites the log positions ``GET /v1/history`` shows for its events.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from services.app import Runtime
from tests.projections.insights.history import (
    DAY,
    MONDAY,
    TODAY,
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

# stale_work


def test_stale_work_is_an_open_assigned_issue_without_an_event_for_14_days_critical_after_28(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(70), "Payments")
    ada = h.member(ago(70), "Ada", 10, [team])
    bob = h.member(ago(70), "Bob", 10, [team])
    ledgers = h.issue(ago(30), "Reconcile ledgers", team, assignee_id=ada)
    h.move(ago(20), ledgers, "todo")
    keys = h.issue(ago(50), "Rotate keys", team)
    h.assign(ago(40), keys, bob)
    certificate = h.issue(ago(14), "Renew certificate", team, assignee_id=ada)
    # Not stale: nobody's, recently commented, done, an hour short, an operation's occurrence.
    h.issue(ago(50), "Unowned", team)
    dashboards = h.issue(ago(50), "Tidy dashboards", team, assignee_id=ada)
    h.comment(ago(3), dashboards, "Halfway there")
    finished = h.issue(ago(60), "Old and done", team, assignee_id=bob)
    h.move(ago(40), finished, "todo", "in_progress", "done")
    h.issue(ago(14, hours=-1), "Almost stale", team, assignee_id=bob)
    h.operation(ago(50), "Backups", team, ada, TODAY + 7 * DAY, assignee=ada)
    h.tick(ago(50), TODAY + 14 * DAY)
    position = imported(runtime, h.lines)

    document = insights(client, admin, position, kind="stale_work")

    items = document["items"]
    assert [(item["severity"], item["objects"]) for item in items] == [
        ("critical", [ref("issue", keys, "Rotate keys"), ref("member", bob, "Bob")]),
        ("warning", [ref("issue", ledgers, "Reconcile ledgers"), ref("member", ada, "Ada")]),
        ("warning", [ref("issue", certificate, "Renew certificate"), ref("member", ada, "Ada")]),
    ]
    assert document["counts"] == {"critical": 1, "warning": 2, "info": 0}

    reconcile = about(items, ledgers)
    [last] = events(client, admin, ledgers, position)[-1:]
    assert (last["event_type"], last["occurred_at"]) == (
        "IssueTransitioned",
        ago(20).isoformat(),
    )
    assert reconcile["since"] == iso(ago(6))
    assert reconcile["explanation"] == (
        "Reconcile ledgers has had no activity for 20 days while assigned to Ada (todo)."
    )
    assert reconcile["evidence"] == [
        {
            "object": ref("issue", ledgers, "Reconcile ledgers"),
            "values": {
                "status": "todo",
                "assignee_id": str(ada),
                "last_event_at": iso(ago(20)),
                "days_without_activity": 20.0,
            },
            "positions": [last["position"]],
        }
    ]
    rotate = about(items, keys)
    assert rotate["since"] == iso(ago(26))
    assert rotate["explanation"] == (
        "Rotate keys has had no activity for 40 days while assigned to Bob (backlog)."
    )
    assert rotate["evidence"][0]["positions"] == positions(
        events(client, admin, keys, position), "IssueAssigned"
    )
    renew = about(items, certificate)
    # Exactly 14 days without an event is 14 days without one: it holds from now.
    assert renew["since"] == iso(MONDAY)
    assert renew["evidence"][0]["values"]["days_without_activity"] == 14.0


# aging_work


def test_aging_work_with_few_finished_samples_uses_14_and_28_days(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(70), "Platform")
    for number in range(3):
        h.finished(ago(30 + number), team)
    queue = h.issue(ago(25), "Migrate queue", team)
    h.move(ago(21), queue, "todo")
    h.move(ago(20), queue, "in_progress")
    search = h.issue(ago(45), "Rebuild search", team)
    h.move(ago(42), search, "todo")
    h.move(ago(41), search, "in_progress")
    audit = h.issue(ago(35), "Audit access", team)
    h.move(ago(32), audit, "todo")
    h.move(ago(31), audit, "in_progress")
    h.move(ago(25), audit, "in_review")
    # Not aging: started 10 days ago, exactly 14 days ago, and started then put back.
    for title, started in (("Fresh", 10.0), ("Fourteen days", 14.0)):
        issue = h.issue(ago(started + 2), title, team)
        h.move(ago(started + 1), issue, "todo")
        h.move(ago(started), issue, "in_progress")
    back = h.issue(ago(45), "Put back", team)
    h.move(ago(40), back, "todo", "in_progress")
    h.move(ago(38), back, "todo")
    position = imported(runtime, h.lines)

    items = insights(client, admin, position, kind="aging_work")["items"]

    assert [(item["severity"], item["objects"][0]["id"]) for item in items] == [
        ("critical", str(search)),
        ("critical", str(audit)),
        ("warning", str(queue)),
    ]
    basis = {"basis": "fixed", "samples": 3, "warning_days": 14.0, "critical_days": 28.0}
    team_fact = {"object": ref("team", team, "Platform"), "values": basis, "positions": []}
    migrate = about(items, queue)
    assert migrate["explanation"] == (
        "Migrate queue has been in progress for 20 days, longer than 14 days at Platform."
    )
    assert migrate["since"] == iso(ago(6))
    assert migrate["evidence"] == [
        {
            "object": ref("issue", queue, "Migrate queue"),
            "values": {"status": "in_progress", "started_at": iso(ago(20)), "age_days": 20.0},
            "positions": positions(events(client, admin, queue, position), "IssueTransitioned")[1:],
        },
        team_fact,
    ]
    rebuild = about(items, search)
    assert rebuild["explanation"] == (
        "Rebuild search has been in progress for 41 days, longer than 28 days at Platform."
    )
    assert rebuild["since"] == iso(ago(27))
    # In review still ages from its first move to in_progress, which the evidence cites.
    access = about(items, audit)
    assert access["since"] == iso(ago(17))
    started_position = positions(events(client, admin, audit, position), "IssueTransitioned")[1]
    assert access["evidence"][0] == {
        "object": ref("issue", audit, "Audit access"),
        "values": {"status": "in_review", "started_at": iso(ago(31)), "age_days": 31.0},
        "positions": [started_position],
    }


def test_aging_work_with_ten_finished_samples_uses_the_teams_p85_and_p95_cycle_times(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(160), "Mobile")
    # Eleven issues finished in the last 90 days, in 1 to 11 days: p85 9.5 days, p95 10.5.
    for days in range(1, 12):
        shipped = h.issue(ago(70), f"Shipped {days}", team)
        h.move(ago(61), shipped, "todo")
        h.move(ago(60), shipped, "in_progress")
        h.move(ago(60 - days), shipped, "done")
    # Finished before the window: not a sample.
    old = h.issue(ago(155), "Shipped long ago", team)
    h.move(ago(150), old, "todo", "in_progress")
    h.move(ago(100), old, "done")
    offline = h.issue(ago(20), "Offline mode", team)
    h.move(ago(11), offline, "todo")
    h.move(ago(10), offline, "in_progress")
    dark = h.issue(ago(20), "Dark theme", team)
    h.move(ago(13), dark, "todo")
    h.move(ago(12), dark, "in_progress")
    push = h.issue(ago(20), "Push settings", team)
    h.move(ago(10), push, "todo")
    h.move(ago(9), push, "in_progress")
    position = imported(runtime, h.lines)

    items = insights(client, admin, position, kind="aging_work")["items"]

    assert summary(items) == {
        ("aging_work", "critical", ids(dark)),
        ("aging_work", "warning", ids(offline)),
    }
    basis = {
        "basis": "cycle_time",
        "samples": 11,
        "p85_days": 9.5,
        "p95_days": 10.5,
        "window_days": 90,
    }
    mode = about(items, offline)
    assert mode["explanation"] == (
        "Offline mode has been in progress for 10 days, longer than the team's p85 cycle time "
        "at Mobile."
    )
    assert mode["since"] == iso(ago(10) + timedelta(days=9.5))
    assert mode["evidence"][1] == {
        "object": ref("team", team, "Mobile"),
        "values": basis,
        "positions": [],
    }
    theme = about(items, dark)
    assert theme["explanation"] == (
        "Dark theme has been in progress for 12 days, longer than the team's p95 cycle time "
        "at Mobile."
    )
    assert theme["since"] == iso(ago(12) + timedelta(days=9.5))
    assert theme["evidence"][0]["positions"] == [
        positions(events(client, admin, dark, position), "IssueTransitioned")[1]
    ]


# due_date_churn


def test_due_date_churn_is_a_due_date_moved_more_than_twice_from_the_move_that_passed_it(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(70), "Finance")
    report = h.issue(ago(40), "Quarterly report", team, due_date=date(2026, 3, 20))
    h.due(ago(30), report, date(2026, 3, 25))
    h.due(ago(25), report, date(2026, 4, 1))
    h.due(ago(20), report, None)
    launch = h.issue(ago(40), "Launch page", team)
    # Setting a first date is no move; the four changes after it are.
    h.due(ago(35), launch, date(2026, 3, 10))
    for days, moved in ((30, 17), (20, 24), (10, 31)):
        h.due(ago(days), launch, date(2026, 3, moved))
    h.due(ago(5), launch, date(2026, 4, 7))
    # Not churning: moved twice, and moved three times but done.
    twice = h.issue(ago(40), "Moved twice", team, due_date=date(2026, 3, 20))
    h.due(ago(30), twice, date(2026, 3, 27))
    h.due(ago(20), twice, date(2026, 4, 3))
    done = h.issue(ago(40), "Churned but done", team, due_date=date(2026, 3, 20))
    for days in (30, 25, 20):
        h.due(ago(days), done, date(2026, 3, 20) + timedelta(days=40 - days))
    h.move(ago(10), done, "todo", "in_progress", "done")
    position = imported(runtime, h.lines)

    items = insights(client, admin, position, kind="due_date_churn")["items"]

    assert summary(items) == {
        ("due_date_churn", "warning", ids(report)),
        ("due_date_churn", "warning", ids(launch)),
    }
    quarterly = about(items, report)
    assert quarterly["since"] == iso(ago(20))
    assert quarterly["explanation"] == (
        "Quarterly report has had its due date moved 3 times; it is now due on no date."
    )
    assert quarterly["evidence"] == [
        {
            "object": ref("issue", report, "Quarterly report"),
            "values": {"due_date": None, "due_moves": 3},
            "positions": positions(events(client, admin, report, position), "IssueDueDateChanged"),
        }
    ]
    page = about(items, launch)
    assert page["since"] == iso(ago(10))
    assert page["explanation"] == (
        "Launch page has had its due date moved 4 times; it is now due 2026-04-07."
    )
    changes = positions(events(client, admin, launch, position), "IssueDueDateChanged")
    assert page["evidence"][0]["values"] == {"due_date": "2026-04-07", "due_moves": 4}
    assert page["evidence"][0]["positions"] == changes[1:]


# triage


def test_triage_scores_each_untriaged_issue_and_kind_triage_lists_the_highest_first(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(90), "Support")
    ada = h.member(ago(90), "Ada", 10, [team])
    retain = h.goal(ago(80), "Retain customers", ada, team, date(2026, 1, 1), date(2026, 12, 31))
    churn = h.goal(ago(80), "Cut churn", ada, team, date(2026, 1, 1), date(2026, 12, 31))
    draft = h.goal(ago(80), "Someday", ada, team, date(2026, 1, 1), date(2026, 12, 31))
    h.activate(ago(79), retain)
    h.activate(ago(79), churn)
    onboarding = h.project(ago(78), "Onboarding", "ONB", ada, team, date(2026, 6, 30), [retain])
    h.project_status(ago(77), onboarding, "active")
    outage = h.issue(ago(2), "Checkout down", team, "incident", severity="sev1", priority="urgent")
    refunds = h.issue(ago(10), "Refund fails", team, "bug", priority="high", project_id=onboarding)
    for title in ("Refund report", "Refund emails"):
        waiting = h.issue(ago(9), title, team)
        h.depend(ago(8), waiting, refunds)
    search = h.issue(
        ago(1), "Slow search", team, "bug", priority="medium", project_id=onboarding,
        goal_ids=[churn],
    )  # fmt: skip
    export = h.issue(ago(45), "Export CSV", team, "request", priority="low")
    drafted = h.issue(ago(3), "Old link", team, "bug", goal_ids=[draft])
    typo = h.issue(ago(hours=1), "Typo", team, "bug")
    triaged = h.issue(ago(5), "Triaged already", team, "bug", priority="urgent")
    h.move(ago(4), triaged, "backlog")
    position = imported(runtime, h.lines)

    document = insights(client, admin, position, kind="triage")

    items = document["items"]
    assert [(item["objects"][0]["id"], item["severity"], item["score"]) for item in items] == [
        (str(outage), "critical", {"total": 72, "parts": {
            "severity": 40, "priority": 30, "goals": 0, "projects": 0, "blocks": 0, "age": 2}}),
        (str(refunds), "critical", {"total": 71, "parts": {
            "severity": 0, "priority": 20, "goals": 15, "projects": 10, "blocks": 16, "age": 10}}),
        (str(search), "warning", {"total": 51, "parts": {
            "severity": 0, "priority": 10, "goals": 30, "projects": 10, "blocks": 0, "age": 1}}),
        (str(export), "warning", {"total": 35, "parts": {
            "severity": 0, "priority": 5, "goals": 0, "projects": 0, "blocks": 0, "age": 30}}),
        (str(drafted), "info", {"total": 3, "parts": {
            "severity": 0, "priority": 0, "goals": 0, "projects": 0, "blocks": 0, "age": 3}}),
        (str(typo), "info", {"total": 0, "parts": {
            "severity": 0, "priority": 0, "goals": 0, "projects": 0, "blocks": 0, "age": 0}}),
    ]  # fmt: skip
    assert document["counts"] == {"critical": 2, "warning": 2, "info": 2}
    assert [item["explanation"] for item in items] == [
        "Checkout down has waited in triage for 2 days and scores 72 "
        "(severity sev1, priority urgent).",
        "ONB-1 Refund fails has waited in triage for 10 days and scores 71 "
        "(priority high, 1 active goal, an active project, blocks 2).",
        "ONB-2 Slow search has waited in triage for 1 day and scores 51 "
        "(priority medium, 2 active goals, an active project).",
        "Export CSV has waited in triage for 45 days and scores 35 (priority low).",
        "Old link has waited in triage for 3 days and scores 3.",
        "Typo has waited in triage for 0 days and scores 0.",
    ]
    assert [item["since"] for item in items] == [
        iso(moment) for moment in (ago(2), ago(10), ago(1), ago(45), ago(3), ago(hours=1))
    ]
    fails = about(items, refunds)
    assert fails["evidence"] == [
        {
            "object": ref("issue", refunds, "ONB-1 Refund fails"),
            "values": {
                "kind": "bug",
                "severity": None,
                "priority": "high",
                "active_goals": [str(retain)],
                "project_id": str(onboarding),
                "blocks": 2,
                "created_at": iso(ago(10)),
            },
            "positions": positions(events(client, admin, refunds, position), "IssueCreated"),
        }
    ]
    assert about(items, search)["evidence"][0]["values"]["active_goals"] == sorted(
        [str(retain), str(churn)]
    )


# work_on_goal_at_risk


def test_work_on_goal_at_risk_is_overdue_or_blocked_work_an_active_goal_depends_on(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(90), "Growth")
    ada = h.member(ago(90), "Ada", 10, [team])
    spain = h.goal(ago(61), "Launch in Spain", ada, team, date(2026, 1, 1), date(2026, 6, 30))
    h.activate(ago(60), spain)
    someday = h.goal(ago(61), "Someday", ada, team, date(2026, 1, 1), date(2026, 6, 30))
    project = h.project(ago(50), "Spain", "ESP", ada, team, date(2026, 6, 30))
    # Directly linked and overdue since 2026-02-21 (due the 20th).
    checkout = h.issue(
        ago(40), "Translate checkout", team, goal_ids=[spain], due_date=date(2026, 2, 20)
    )
    # In the project, blocked 12 days ago; the project serves the goal from 5 days ago.
    payments = h.issue(ago(45), "Local payments", team, project_id=project)
    h.block(ago(12), payments, "Waiting for the bank")
    h.project_goal(ago(5), project, spain)
    # Overdue since 2026-02-02 and blocked since 2026-02-10: both, critical.
    tax = h.issue(ago(35), "Tax rules", team, goal_ids=[spain], due_date=date(2026, 2, 1))
    h.block(ago(20), tax, "Legal review")
    # In the project, waiting on an open issue.
    contract = h.issue(ago(45), "Sign contract", team)
    shipping = h.issue(ago(44), "Shipping partner", team, project_id=project)
    h.depend(ago(15), shipping, contract)
    # Not at risk: a draft goal's, done, waiting on a finished issue, due today, due later.
    h.issue(ago(40), "Someday work", team, goal_ids=[someday], due_date=date(2026, 2, 1))
    finished = h.issue(ago(40), "Done late", team, project_id=project, due_date=date(2026, 2, 1))
    h.move(ago(20), finished, "todo", "in_progress", "done")
    signed = h.issue(ago(40), "Signed", team)
    waited = h.issue(ago(40), "Waited", team, project_id=project)
    h.depend(ago(30), waited, signed)
    h.move(ago(25), signed, "todo", "in_progress", "done")
    h.issue(ago(40), "Due today", team, project_id=project, due_date=TODAY)
    h.issue(ago(40), "Due tomorrow", team, goal_ids=[spain], due_date=TODAY + DAY)
    position = imported(runtime, h.lines)

    items = insights(client, admin, position, kind="work_on_goal_at_risk")["items"]

    assert summary(items) == {
        ("work_on_goal_at_risk", "critical", ids(tax, spain)),
        ("work_on_goal_at_risk", "warning", ids(checkout, spain)),
        ("work_on_goal_at_risk", "warning", ids(payments, spain)),
        ("work_on_goal_at_risk", "warning", ids(shipping, spain)),
    }
    activated = positions(events(client, admin, spain, position), "GoalActivated")
    goal_ref = ref("goal", spain, "Launch in Spain")
    project_link = positions(events(client, admin, project, position), "ProjectGoalLinked")

    translate = about(items, checkout)
    created = positions(events(client, admin, checkout, position), "IssueCreated")
    assert translate["since"] == "2026-02-21T00:00:00Z"
    assert translate["explanation"] == (
        "Translate checkout is 10 days overdue, and the active goal 'Launch in Spain' depends "
        "on it."
    )
    assert translate["evidence"] == [
        {
            "object": ref("issue", checkout, "Translate checkout"),
            "values": {"status": "backlog", "due_date": "2026-02-20", "days_overdue": 10},
            "positions": created,
        },
        {
            "object": goal_ref,
            "values": {"status": "active", "linked_through": ["issue"]},
            "positions": sorted(created + activated),
        },
    ]

    local = about(items, payments)
    # Blocked before the project served the goal: at risk for it from the link on.
    assert local["since"] == iso(ago(5))
    assert local["objects"][0] == ref("issue", payments, "ESP-1 Local payments")
    assert local["explanation"] == (
        "ESP-1 Local payments is blocked, and the active goal 'Launch in Spain' depends on it."
    )
    assert local["evidence"] == [
        {
            "object": ref("issue", payments, "ESP-1 Local payments"),
            "values": {
                "status": "backlog",
                "blocked": True,
                "blocked_reason": "Waiting for the bank",
            },
            "positions": positions(events(client, admin, payments, position), "IssueBlocked"),
        },
        {
            "object": goal_ref,
            "values": {"status": "active", "linked_through": ["project"]},
            "positions": sorted(activated + project_link),
        },
    ]

    rules = about(items, tax)
    tax_events = events(client, admin, tax, position)
    assert rules["since"] == "2026-02-02T00:00:00Z"
    assert rules["explanation"] == (
        "Tax rules is 29 days overdue and blocked, and the active goal 'Launch in Spain' "
        "depends on it."
    )
    assert rules["evidence"] == [
        {
            "object": ref("issue", tax, "Tax rules"),
            "values": {
                "status": "backlog",
                "due_date": "2026-02-01",
                "days_overdue": 29,
                "blocked": True,
                "blocked_reason": "Legal review",
            },
            "positions": sorted(
                positions(tax_events, "IssueCreated") + positions(tax_events, "IssueBlocked")
            ),
        },
        {
            "object": goal_ref,
            "values": {"status": "active", "linked_through": ["issue"]},
            "positions": sorted(positions(tax_events, "IssueCreated") + activated),
        },
    ]

    partner = about(items, shipping)
    assert partner["since"] == iso(ago(5))
    assert partner["explanation"] == (
        "ESP-2 Shipping partner is waiting on 1 open issue, and the active goal "
        "'Launch in Spain' depends on it."
    )
    assert partner["evidence"][0] == {
        "object": ref("issue", shipping, "ESP-2 Shipping partner"),
        "values": {"status": "backlog", "waiting_on": [str(contract)]},
        "positions": positions(events(client, admin, shipping, position), "IssueDependencyAdded"),
    }


def test_a_goal_link_added_later_puts_overdue_work_at_risk_from_the_link_until_unlinked(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(90), "Growth")
    ada = h.member(ago(90), "Ada", 10, [team])
    goal = h.goal(ago(61), "Launch in Spain", ada, team, date(2026, 1, 1), date(2026, 6, 30))
    h.activate(ago(60), goal)
    tax = h.issue(ago(35), "Tax rules", team, due_date=date(2026, 2, 1))
    h.link_goal(ago(5), tax, goal)
    h.add(f"DELETE /v1/issues/{tax}/links/goal/{goal}", ago(hours=2))
    position = imported(runtime, h.lines)

    [linked] = insights(client, admin, position, kind="work_on_goal_at_risk", as_of=iso(ago(1)))[
        "items"
    ]

    assert linked["objects"] == [
        ref("issue", tax, "Tax rules"),
        ref("goal", goal, "Launch in Spain"),
    ]
    assert linked["since"] == iso(ago(5))
    history = events(client, admin, tax, position)
    activated = positions(events(client, admin, goal, position), "GoalActivated")
    assert linked["evidence"][1]["positions"] == sorted(
        positions(history, "IssueLinked") + activated
    )
    assert insights(client, admin, position, kind="work_on_goal_at_risk")["items"] == []


def test_linking_an_issue_is_an_event_on_it_for_stale_work(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(90), "Growth")
    ada = h.member(ago(90), "Ada", 10, [team])
    goal = h.goal(ago(61), "Launch in Spain", ada, team, date(2026, 1, 1), date(2026, 6, 30))
    issue = h.issue(ago(40), "Tax rules", team, assignee_id=ada)
    h.link_goal(ago(5), issue, goal)
    position = imported(runtime, h.lines)

    assert insights(client, admin, position, kind="stale_work")["items"] == []


def test_work_blocked_by_a_flag_and_by_an_open_issue_but_not_overdue_is_a_warning(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(90), "Growth")
    ada = h.member(ago(90), "Ada", 10, [team])
    goal = h.goal(ago(61), "Launch in Spain", ada, team, date(2026, 1, 1), date(2026, 6, 30))
    h.activate(ago(60), goal)
    contract = h.issue(ago(45), "Sign contract", team)
    shipping = h.issue(ago(44), "Shipping partner", team, goal_ids=[goal])
    h.block(ago(20), shipping, "Vendor")
    h.depend(ago(15), shipping, contract)
    position = imported(runtime, h.lines)

    items = insights(client, admin, position, kind="work_on_goal_at_risk")["items"]

    assert summary(items) == {("work_on_goal_at_risk", "warning", ids(shipping, goal))}


def test_work_serving_a_goal_directly_and_through_its_project_names_the_goal_once(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(90), "Growth")
    ada = h.member(ago(90), "Ada", 10, [team])
    goal = h.goal(ago(61), "Launch in Spain", ada, team, date(2026, 1, 1), date(2026, 6, 30))
    h.activate(ago(60), goal)
    project = h.project(ago(50), "Spain", "ESP", ada, team, date(2026, 6, 30), [goal])
    late = h.issue(
        ago(40), "Translate checkout", team, project_id=project, goal_ids=[goal],
        due_date=date(2026, 2, 20),
    )  # fmt: skip
    position = imported(runtime, h.lines)

    [item] = insights(client, admin, position, kind="work_on_goal_at_risk")["items"]

    assert item["objects"] == [
        ref("issue", late, "ESP-1 Translate checkout"),
        ref("goal", goal, "Launch in Spain"),
    ]
    assert item["explanation"] == (
        "ESP-1 Translate checkout is 10 days overdue, and the active goal 'Launch in Spain' "
        "depends on it."
    )


def test_triage_evidence_cites_the_events_that_set_the_scored_severity_and_priority(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(90), "Support")
    outage = h.issue(ago(2), "Checkout down", team, "incident", severity="sev3", priority="low")
    h.add(f"PATCH /v1/issues/{outage}", ago(1), {"severity": "sev1", "priority": "urgent"})
    position = imported(runtime, h.lines)

    [item] = insights(client, admin, position, kind="triage")["items"]

    assert item["score"]["parts"]["severity"] == 40
    assert item["score"]["parts"]["priority"] == 30
    history = events(client, admin, outage, position)
    changed = positions(history, "IssueSeverityChanged") + positions(
        history, "IssuePriorityChanged"
    )
    assert len(changed) == 2
    assert set(changed) <= set(item["evidence"][0]["positions"])
