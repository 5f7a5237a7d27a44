"""Insights about capacity and recurring work (docs/insights.md, "The kinds"): members and teams
committed beyond their capacity or their measured pace, teams with room while issues wait in
triage, and operations whose occurrences are repeatedly late or skipped.

Committed work is open, out of triage, and due before the 14-day window ends (overdue
included), or undated and started; on Monday 2026-03-02 the window ends with Sunday 2026-03-15.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

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
    on,
    positions,
    ref,
    summary,
)

# overloaded


def test_overloaded_members_over_their_capacity_warning_above_1_and_critical_above_1_5(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(90), "Core")
    ada = h.member(ago(90), "Ada", 20, [team])
    h.member_capacity(ago(40), ada, 10)
    bob = h.member(ago(90), "Bob", 10, [team])
    cy = h.member(ago(90), "Cy", 8, [team])

    def work(title: str, who: UUID, *statuses: str, **fields: Any) -> UUID:
        issue = h.issue(ago(20), title, team, assignee_id=who, **fields)
        h.move(ago(19), issue, *statuses)
        return issue

    invoices = work("Invoices", ada, "todo", estimate=8, due_date=date(2026, 3, 5))
    statements = work("Statements", ada, "todo", estimate=8, due_date=date(2026, 3, 10))
    export = work("Ledger export", ada, "todo", estimate=10)
    h.move(ago(3), export, "in_progress")
    unsized = work("Unsized", ada, "todo", due_date=date(2026, 3, 6))
    # Not committed: due when the window has ended, in triage, undated and not started, closed.
    work("Next month", ada, "todo", estimate=20, due_date=date(2026, 3, 20))
    work("Window's end", ada, "todo", estimate=6, due_date=date(2026, 3, 16))
    h.issue(ago(20), "Untriaged", team, "bug", assignee_id=ada, estimate=5,
            due_date=date(2026, 3, 3))  # fmt: skip
    work("Someday", ada, "todo", estimate=7)
    work("Cancelled", ada, "todo", "cancelled", estimate=9, due_date=date(2026, 3, 4))
    rollout = work("Rollout", cy, "todo", estimate=10, due_date=date(2026, 3, 4))
    h.add(f"PATCH /v1/issues/{rollout}", ago(1), {"estimate": 13})
    work("Overdue audit", cy, "todo", estimate=12, due_date=date(2026, 2, 20))
    work("Small fix", bob, "todo", estimate=5, due_date=date(2026, 3, 6))
    position = imported(runtime, h.lines)

    items = insights(client, admin, position, kind="overloaded")["items"]

    # Bob has room; the team's 56 points are exactly its members' 28 a week for two weeks.
    assert summary(items) == {
        ("overloaded", "critical", ids(cy)),
        ("overloaded", "warning", ids(ada)),
    }
    busy = about(items, ada)
    assert busy["since"] == iso(ago(3))
    assert busy["explanation"] == (
        "Ada has 26 points of work due within 14 days (4 items): 130% of a capacity of 20 points."
    )
    assert busy["evidence"][0] == {
        "object": ref("member", ada, "Ada"),
        "values": {
            "committed_points": 26.0,
            "committed_items": 4,
            "unestimated_items": 1,
            "window_days": 14,
            "weekly_capacity": 10.0,
            "load_ratio": 1.3,
            "points_per_week": None,
        },
        "positions": positions(events(client, admin, ada, position), "MemberCapacitySet"),
    }
    committed = {
        invoices: (8.0, "2026-03-05", "todo"),
        statements: (8.0, "2026-03-10", "todo"),
        export: (10.0, None, "in_progress"),
        unsized: (None, "2026-03-06", "todo"),
    }
    expected = [
        {
            "object": ref("issue", issue, title),
            "values": {
                "estimate": estimate,
                "due_date": due,
                "status": status,
                "assignee_id": str(ada),
            },
            "positions": positions(events(client, admin, issue, position), "IssueCreated"),
        }
        for (issue, (estimate, due, status)), title in zip(
            committed.items(), ("Invoices", "Statements", "Ledger export", "Unsized"), strict=True
        )
    ]

    def by_id(fact: dict[str, Any]) -> str:
        return str(fact["object"]["id"])

    assert sorted(busy["evidence"][1:], key=by_id) == sorted(expected, key=by_id)
    estimated = [fact["values"]["estimate"] for fact in busy["evidence"][1:]]
    assert [estimate for estimate in estimated if estimate is not None] == [10.0, 8.0, 8.0]

    overdue = about(items, cy)
    assert overdue["since"] == iso(ago(1))
    assert overdue["explanation"] == (
        "Cy has 25 points of work due within 14 days (2 items): 156% of a capacity of 16 points."
    )
    assert overdue["evidence"][0]["values"]["load_ratio"] == 1.5625


def test_overloaded_team_over_the_pace_it_finished_at_in_the_last_12_weeks(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(120), "Ops", weekly_capacity=100)
    h.member(ago(120), "Dee", 100, [team])
    h.pace(team, [1] * 12, estimate=1)
    kernel = h.issue(ago(10), "Patch kernel", team, estimate=3, due_date=date(2026, 3, 4))
    h.move(ago(4), kernel, "todo")
    position = imported(runtime, h.lines)

    items = insights(client, admin, position, kind="overloaded")["items"]

    assert summary(items) == {("overloaded", "warning", ids(team))}
    [pace] = items
    assert pace["since"] == iso(ago(4))
    assert pace["explanation"] == (
        "Ops has 3 points of work due within 14 days (1 item): more than the 2 points finished "
        "in that time at the pace of the last 12 weeks."
    )
    assert pace["evidence"] == [
        {
            "object": ref("team", team, "Ops"),
            "values": {
                "committed_points": 3.0,
                "committed_items": 1,
                "unestimated_items": 0,
                "window_days": 14,
                "weekly_capacity": 100.0,
                "load_ratio": 0.015,
                "points_per_week": 1.0,
            },
            "positions": [],
        },
        {
            "object": ref("issue", kernel, "Patch kernel"),
            "values": {
                "estimate": 3.0,
                "due_date": "2026-03-04",
                "status": "todo",
                "assignee_id": None,
            },
            "positions": positions(events(client, admin, kernel, position), "IssueCreated"),
        },
    ]


# operation_unhealthy


def _occurrences(
    client: TestClient, headers: dict[str, str], operation: UUID, position: int
) -> dict[str, dict[str, Any]]:
    """Each occurrence by its due date: its id and the positions of the events on it."""
    found: dict[str, dict[str, Any]] = {}
    for entry in events(client, headers, operation, position):
        due = entry["data"].get("due_date")
        if entry["event_type"].startswith("Occurrence") and due is not None:
            made = found.setdefault(due, {"positions": []})
            made["positions"].append(entry["position"])
            if entry["event_type"] == "OccurrenceScheduled":
                made["id"] = entry["data"]["occurrence_id"]
    return found


def test_operation_unhealthy_is_three_of_the_last_five_judged_occurrences_missed(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(90), "Infra")
    ada = h.member(ago(90), "Ada", 10, [team])
    monday = date(2026, 1, 5)
    backups = h.operation(ago(60), "Backups", team, ada, monday)
    logs = h.operation(ago(60), "Rotate logs", team, ada, monday + timedelta(days=1))
    patches = h.operation(ago(60), "Patch servers", team, ada, monday + timedelta(days=2))
    secrets = h.operation(ago(60), "Rotate secrets", team, ada, monday + timedelta(days=3))
    h.tick(ago(59), date(2026, 3, 9))
    # Backups: three misses before its last five judged; in them, skipped (early), late and
    # still open; its Monday 2026-03-02 occurrence is due today, not yet judged.
    for week in range(3):
        h.skip(on(monday + timedelta(weeks=week), 10), backups, monday + timedelta(weeks=week))
    h.complete(on(date(2026, 1, 26), 15), backups, date(2026, 1, 26))
    h.complete(on(date(2026, 2, 2), 10), backups, date(2026, 2, 2))
    h.skip(on(date(2026, 2, 8), 12), backups, date(2026, 2, 9))
    h.complete(on(date(2026, 2, 18), 10), backups, date(2026, 2, 16))
    # Rotate logs: every one of its last five missed.
    for week in range(3):
        due = monday + timedelta(days=1, weeks=week)
        h.complete(on(due, 12), logs, due)
    h.skip(on(date(2026, 1, 27), 10), logs, date(2026, 1, 27))
    h.skip(on(date(2026, 2, 3), 10), logs, date(2026, 2, 3))
    h.complete(on(date(2026, 2, 19), 10), logs, date(2026, 2, 17))
    # Patch servers: two of its last five missed (three more before them).
    for week in range(8):
        due = monday + timedelta(days=2, weeks=week)
        if week < 3 or week == 6:
            h.skip(on(due, 12), patches, due)
        elif week != 7:
            h.complete(on(due, 12), patches, due)
    # Rotate secrets: never done, but paused.
    h.pause(ago(1), secrets)
    position = imported(runtime, h.lines)

    items = insights(client, admin, position, kind="operation_unhealthy")["items"]

    assert summary(items) == {
        ("operation_unhealthy", "critical", ids(logs)),
        ("operation_unhealthy", "warning", ids(backups)),
    }
    occurrences = _occurrences(client, admin, backups, position)
    unhealthy = about(items, backups)
    assert unhealthy["objects"] == [ref("operation", backups, "Backups")]
    # Misses happen when skipped, or the day after the due date: the third is 2026-02-24's.
    assert unhealthy["since"] == "2026-02-24T00:00:00Z"
    assert unhealthy["explanation"] == (
        "Backups missed 3 of its last 5 occurrences (late, overdue, skipped)."
    )
    assert unhealthy["evidence"] == [
        {
            "object": {
                "kind": "occurrence",
                "id": occurrences[due]["id"],
                "name": f"Backups ({due})",
            },
            "values": {"due_date": due, "status": status, "missed": missed},
            "positions": occurrences[due]["positions"],
        }
        for due, status, missed in (
            ("2026-02-09", "skipped", "skipped"),
            ("2026-02-16", "completed", "late"),
            ("2026-02-23", "scheduled", "overdue"),
        )
    ]
    assert [len(occurrences[due]["positions"]) for due in ("2026-02-09", "2026-02-23")] == [2, 1]

    rotate = about(items, logs)
    assert rotate["since"] == "2026-02-11T00:00:00Z"
    assert rotate["explanation"] == (
        "Rotate logs missed 5 of its last 5 occurrences (late, overdue, skipped)."
    )
    assert [fact["values"]["missed"] for fact in rotate["evidence"]] == [
        "skipped",
        "skipped",
        "overdue",
        "late",
        "overdue",
    ]


# idle_capacity


def test_idle_capacity_is_a_team_under_half_loaded_while_issues_wait_in_triage(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    design = h.team(ago(90), "Design", weekly_capacity=20)
    dan = h.member(ago(90), "Dan", 10, [design])
    research = h.team(ago(90), "Research")
    h.member(ago(90), "Rae", 10, [research])
    busy = h.team(ago(90), "Busy", weekly_capacity=10)
    h.team(ago(90), "Empty")
    icons = h.issue(
        ago(10), "Icons", design, assignee_id=dan, estimate=4, due_date=date(2026, 3, 5)
    )
    h.move(ago(9), icons, "todo")
    h.issue(ago(3), "Broken icon", design, "bug")
    load = h.issue(ago(10), "Big job", busy, estimate=12, due_date=date(2026, 3, 4))
    h.move(ago(9), load, "todo")
    h.issue(ago(3), "Busy bug", busy, "bug")
    position = imported(runtime, h.lines)

    items = insights(client, admin, position, kind="idle_capacity")["items"]

    assert summary(items) == {
        ("idle_capacity", "info", ids(design)),
        ("idle_capacity", "info", ids(research)),
    }
    assert {item["since"] for item in items} == {"2026-03-02T00:00:00Z"}
    own = about(items, design)
    assert own["explanation"] == (
        "Design has 10% of its capacity committed for the next 14 days while 1 of its own "
        "issues wait in triage."
    )
    assert own["evidence"][0]["object"] == ref("team", design, "Design")
    assert own["evidence"][0]["values"] == {
        "committed_points": 4.0,
        "window_capacity": 40.0,
        "capacity_source": "team",
        "load_ratio": 0.1,
        "untriaged_own": 1,
        "untriaged_total": 2,
    }
    elsewhere = about(items, research)
    assert elsewhere["explanation"] == (
        "Research has 0% of its capacity committed for the next 14 days while 2 issues wait in "
        "triage elsewhere."
    )
    assert elsewhere["evidence"][0]["values"] == {
        "committed_points": 0.0,
        "window_capacity": 20.0,
        "capacity_source": "members",
        "load_ratio": 0.0,
        "untriaged_own": 0,
        "untriaged_total": 2,
    }


def test_the_pace_is_that_of_the_last_12_whole_weeks_not_the_week_under_way(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(120), "Ops", weekly_capacity=100)
    h.pace(team, [1] * 12, estimate=1)
    # Ten points finished this Monday morning: not in a whole week yet.
    for hours in (7, 6):
        h.finished(ago(hours=hours), team, "This week", estimate=5)
    kernel = h.issue(ago(10), "Patch kernel", team, estimate=3, due_date=date(2026, 3, 4))
    h.move(ago(4), kernel, "todo")
    position = imported(runtime, h.lines)

    items = insights(client, admin, position, kind="overloaded")["items"]

    assert summary(items) == {("overloaded", "warning", ids(team))}
    assert items[0]["evidence"][0]["values"]["points_per_week"] == 1.0


def test_a_members_overload_is_judged_alike_in_every_scope_that_shows_it(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    payments = h.team(ago(120), "Payments", weekly_capacity=100)
    risk = h.team(ago(120), "Risk", weekly_capacity=100)
    cy = h.member(ago(120), "Cy", 100, [payments, risk])
    # Cy finished 25 points in the last twelve weeks: 24 in Risk, 1 in Payments.
    h.pace(risk, [1] * 12, estimate=2, assignee_id=cy)
    h.finished(ago(20), payments, estimate=1, assignee_id=cy)
    work = h.issue(ago(10), "Cy's work", payments, assignee_id=cy, estimate=3,
                   due_date=date(2026, 3, 5))  # fmt: skip
    h.move(ago(9), work, "todo")
    position = imported(runtime, h.lines)

    def cys(scope: str) -> list[dict[str, Any]]:
        found = insights(client, admin, position, scope=scope, kind="overloaded")["items"]
        return [item for item in found if item["objects"][0]["id"] == str(cy)]

    # 3 points due against 25 / 12 * 2 = 4.2 finished in two weeks at Cy's pace: room.
    assert cys("org") == []
    for scope in (f"member:{cy}", f"team:{payments}", f"team:{risk}"):
        assert cys(scope) == [], scope


def test_overloaded_holds_since_its_latest_item_came_into_the_window(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(120), "Core")
    eve = h.member(ago(120), "Eve", 10, [team])
    # Due Tuesday 2026-03-10: inside the window (before its end) from Wednesday 2026-02-25.
    big = h.issue(ago(30), "Big job", team, assignee_id=eve, estimate=25,
                  due_date=date(2026, 3, 10))  # fmt: skip
    h.move(ago(29), big, "todo")
    position = imported(runtime, h.lines)

    def overloaded_as_of(moment: str | None) -> list[dict[str, Any]]:
        query = {"as_of": moment} if moment else {}
        found = insights(client, admin, position, kind="overloaded", **query)["items"]
        return [item for item in found if item["objects"][0]["id"] == str(eve)]

    assert overloaded_as_of("2026-02-24T23:00:00Z") == []
    [then] = overloaded_as_of("2026-02-25T01:00:00Z")
    [now] = overloaded_as_of(None)
    assert then["since"] == now["since"] == "2026-02-25T00:00:00Z"


def test_a_comment_on_committed_work_does_not_change_since_when_it_is_overloaded(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(120), "Core")
    fay = h.member(ago(120), "Fay", 10, [team])
    big = h.issue(ago(30), "Big job", team, assignee_id=fay, estimate=25)
    h.move(ago(12), big, "todo")
    h.move(ago(10), big, "in_progress")
    h.comment(ago(2), big, "Still going")
    position = imported(runtime, h.lines)

    def fays(**query: str) -> list[dict[str, Any]]:
        found = insights(client, admin, position, kind="overloaded", **query)["items"]
        return [item for item in found if item["objects"][0]["id"] == str(fay)]

    [before] = fays(as_of=iso(ago(5)))
    [after] = fays()

    assert before["since"] == iso(ago(10))
    assert after["since"] == iso(ago(10))


def test_an_overloaded_members_largest_committed_items_come_first_unestimated_last(
    client: TestClient,
    runtime: Runtime,
    admin: dict[str, str],
) -> None:
    h = History()
    team = h.team(ago(120), "Core")
    gil = h.member(ago(120), "Gil", 5, [team])
    made = {}
    for title, estimate, day in (("Eight", 8, 5), ("Unsized", None, 6), ("Three", 3, 7)):
        fields: dict[str, Any] = {"estimate": estimate} if estimate is not None else {}
        issue = h.issue(ago(10), title, team, assignee_id=gil, due_date=date(2026, 3, day),
                        **fields)  # fmt: skip
        h.move(ago(9), issue, "todo")
        made[title] = str(issue)
    position = imported(runtime, h.lines)

    [item] = insights(client, admin, position, kind="overloaded", scope=f"member:{gil}")["items"]

    assert [fact["object"]["id"] for fact in item["evidence"][1:]] == [
        made["Eight"],
        made["Three"],
        made["Unsized"],
    ]


def test_idle_capacity_holds_from_the_start_of_the_day(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(90), "Copy", weekly_capacity=20)
    text = h.issue(ago(10), "Landing copy", team, estimate=2, due_date=date(2026, 3, 5))
    h.move(ago(9), text, "todo")
    # Committed work changed this morning: the team is as idle as it was at midnight.
    h.add(f"PATCH /v1/issues/{text}", ago(hours=1), {"estimate": 3})
    h.issue(ago(2), "Typo bug", team, "bug")
    position = imported(runtime, h.lines)

    [item] = insights(client, admin, position, kind="idle_capacity")["items"]

    assert item["evidence"][0]["values"]["committed_points"] == 3.0
    assert item["since"] == "2026-03-02T00:00:00Z"


def test_idle_capacity_evidence_cites_the_events_behind_its_values(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(90), "Design", weekly_capacity=20)
    bug = h.issue(ago(2), "Broken icon", team, "bug")
    position = imported(runtime, h.lines)

    [item] = insights(client, admin, position, kind="idle_capacity")["items"]

    capacity = positions(events(client, admin, team, position), "TeamCreated")
    waiting = positions(events(client, admin, bug, position), "IssueCreated")
    assert set(capacity + waiting) <= set(item["evidence"][0]["positions"])
