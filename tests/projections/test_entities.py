"""The entities view: each object's full state, current or ``as_of``, and filtered lists.

Given commands over HTTP, then what ``GET /v1/{teams,members,goals,projects,issues,operations}``
answers, on SQLite and on PostgreSQL. The clock is frozen at Monday 2026-03-02 09:00 UTC unless
a test moves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.catalog import EVENT_CLASSES
from services.app import Runtime, build_runtime
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from services.projections.runner import rebuild
from services.projections.views.entities import PROJECTION
from tests.api.conftest import ReusableApp
from tests.api.helpers import Headers, unknown_id
from tests.conftest import FrozenClock

NOW = "2026-03-02T09:00:00Z"


@pytest.fixture
def runtime(backend: Backend, clock: FrozenClock, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime with the entities' worker alone (the other views are not under test here);
    the app's lifespan starts and stops it."""
    built = build_runtime(
        Settings(data_dir=tmp_path), clock=clock, backend=backend, views=[PROJECTION.name]
    )
    yield built
    built.stop()


_app: list[ReusableApp] = []


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """A client of one app made once, served over each test's runtime (a new app's first
    request costs far more than a test)."""
    if not _app:
        _app.append(ReusableApp(runtime))
    with TestClient(_app[0].serve(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


def send(
    client: TestClient, headers: Headers, method: str, path: str, body: Any = None
) -> dict[str, Any]:
    response = client.request(method, f"/v1{path}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


def read(
    client: TestClient, headers: Headers, path: str, position: int, **params: Any
) -> dict[str, Any]:
    """What the view answers once it has applied ``position``."""
    response = client.get(
        f"/v1{path}", params={"min_position": position, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def team(client: TestClient, h: Headers, name: str = "Payments", **fields: Any) -> dict[str, Any]:
    return send(client, h, "POST", "/teams", {"name": name, **fields})


def member(
    client: TestClient,
    h: Headers,
    email: str,
    team_ids: list[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "name": "Ada Lovelace",
        "email": email,
        "role": "member",
        "weekly_capacity": 20,
        "team_ids": team_ids or [],
        **fields,
    }
    return send(client, h, "POST", "/members", body)


def goal(client: TestClient, h: Headers, owner_id: str, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Boring payments",
        "owner_id": owner_id,
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        **fields,
    }
    return send(client, h, "POST", "/goals", body)


def project(
    client: TestClient, h: Headers, owner_id: str, team_id: str, key: str = "PAY", **fields: Any
) -> dict[str, Any]:
    body = {
        "name": "Payouts",
        "key": key,
        "owner_id": owner_id,
        "team_id": team_id,
        "start_date": "2026-03-01",
        "target_date": "2026-06-30",
        **fields,
    }
    return send(client, h, "POST", "/projects", body)


def issue(client: TestClient, h: Headers, team_id: str, **fields: Any) -> dict[str, Any]:
    body = {"title": "Retry payouts", "kind": "task", "team_id": team_id, **fields}
    return send(client, h, "POST", "/issues", body)


@pytest.fixture
def org(client: TestClient, admin: Headers) -> dict[str, str]:
    """A team with one member in it."""
    t = team(client, admin)["id"]
    m = member(client, admin, "ada@example.com", [t])["id"]
    return {"team": t, "member": m}


# Teams


def test_a_team_answers_its_members_agreement_and_definition_of_done(
    client: TestClient, admin: Headers
) -> None:
    t = team(client, admin)["id"]
    first = member(client, admin, "ada@example.com", [t])["id"]
    second = member(client, admin, "bob@example.com", weekly_capacity=12)["id"]
    send(client, admin, "POST", f"/teams/{t}/members", {"member_id": second})
    send(client, admin, "PATCH", f"/teams/{t}", {"name": "Payments Core"})
    send(client, admin, "PUT", f"/teams/{t}/working-agreement", {"text": "Review in a day"})
    send(client, admin, "PUT", f"/teams/{t}/working-agreement", {"text": "Review in an hour"})
    last = send(client, admin, "PUT", f"/teams/{t}/definition-of-done", {"items": ["Tested"]})

    answer = read(client, admin, f"/teams/{t}", last["position"])

    assert answer == {
        "id": t,
        "version": last["version"],
        "position": last["position"],
        "created_at": NOW,
        "updated_at": NOW,
        "name": "Payments Core",
        "weekly_capacity": None,
        "capacity": 32.0,
        "member_ids": [first, second],
        "lead_ids": [],
        "working_agreement": "Review in an hour",
        "agreement_revision": 2,
        "definition_of_done": ["Tested"],
    }


def test_a_teams_set_capacity_wins_over_its_active_members_sum(
    client: TestClient, admin: Headers
) -> None:
    t = team(client, admin)["id"]
    member(client, admin, "ada@example.com", [t])
    leaving = member(client, admin, "bob@example.com", [t])["id"]
    deactivated = send(client, admin, "POST", f"/members/{leaving}/deactivate")

    by_members = read(client, admin, f"/teams/{t}", deactivated["position"])
    set_capacity = send(client, admin, "PATCH", f"/teams/{t}", {"weekly_capacity": 55})
    by_setting = read(client, admin, f"/teams/{t}", set_capacity["position"])

    assert (by_members["weekly_capacity"], by_members["capacity"]) == (None, 20.0)
    assert (by_setting["weekly_capacity"], by_setting["capacity"]) == (55.0, 55.0)


def test_a_member_removed_from_a_team_leaves_the_team_and_the_team_leaves_the_member(
    client: TestClient, admin: Headers
) -> None:
    payments = team(client, admin)["id"]
    risk = team(client, admin, "Risk")["id"]
    m = member(client, admin, "ada@example.com", [payments, risk])["id"]

    removed = send(client, admin, "DELETE", f"/teams/{payments}/members/{m}")

    assert read(client, admin, f"/teams/{payments}", removed["position"])["member_ids"] == []
    assert read(client, admin, f"/members/{m}", removed["position"])["team_ids"] == [risk]


def test_a_team_answers_its_leads_in_the_order_they_became_leads(
    client: TestClient, admin: Headers
) -> None:
    t = team(client, admin)["id"]
    first = member(client, admin, "ada@example.com", [t])["id"]
    second = member(client, admin, "bob@example.com")["id"]
    third = member(client, admin, "cy@example.com")["id"]
    for lead in (second, first, third):
        send(client, admin, "POST", f"/teams/{t}/leads", {"member_id": lead})
    stepped_down = send(client, admin, "DELETE", f"/teams/{t}/leads/{first}")

    answer = read(client, admin, f"/teams/{t}", stepped_down["position"])

    assert answer["lead_ids"] == [second, third]
    assert answer["member_ids"] == [first]
    assert answer["version"] == stepped_down["version"]


# Members


def test_a_member_answers_name_email_role_capacity_and_teams(
    client: TestClient, admin: Headers
) -> None:
    t = team(client, admin)["id"]
    m = member(client, admin, "Ada@Example.com", [t])["id"]

    changed = send(
        client,
        admin,
        "PATCH",
        f"/members/{m}",
        {"name": "Ada King", "role": "manager", "weekly_capacity": 16},
    )

    assert read(client, admin, f"/members/{m}", changed["position"]) == {
        "id": m,
        "version": changed["version"],
        "position": changed["position"],
        "created_at": NOW,
        "updated_at": NOW,
        "name": "Ada King",
        "email": "ada@example.com",
        "role": "manager",
        "weekly_capacity": 16.0,
        "active": True,
        "team_ids": [t],
    }


def test_a_deactivated_member_is_inactive_until_reactivated(
    client: TestClient, admin: Headers
) -> None:
    m = member(client, admin, "ada@example.com")["id"]

    deactivated = send(client, admin, "POST", f"/members/{m}/deactivate")
    inactive = read(client, admin, f"/members/{m}", deactivated["position"])
    reactivated = send(client, admin, "POST", f"/members/{m}/reactivate")
    active = read(client, admin, f"/members/{m}", reactivated["position"])

    assert (inactive["active"], inactive["version"]) == (False, 2)
    assert (active["active"], active["version"]) == (True, 3)


# Goals


def test_a_goal_answers_its_key_results_with_their_progress_and_its_children(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    g = goal(client, admin, org["member"], team_id=org["team"])["id"]
    child = goal(client, admin, org["member"], parent_id=g, title="Fewer refunds")["id"]
    send(client, admin, "POST", f"/goals/{g}/activate")
    down = send(
        client,
        admin,
        "POST",
        f"/goals/{g}/key-results",
        {"title": "Failed payouts", "unit": "number", "start": 100, "target": 20},
    )["key_result_id"]
    up = send(
        client,
        admin,
        "POST",
        f"/goals/{g}/key-results",
        {"title": "Automated", "unit": "percent", "start": 0, "target": 50},
    )["key_result_id"]
    last = send(client, admin, "POST", f"/goals/{g}/key-results/{down}/check-ins", {"value": 60})

    answer = read(client, admin, f"/goals/{g}", last["position"])

    assert answer == {
        "id": g,
        "version": last["version"],
        "position": last["position"],
        "created_at": NOW,
        "updated_at": NOW,
        "title": "Boring payments",
        "owner_id": org["member"],
        "team_id": org["team"],
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "parent_id": None,
        "children_ids": [child],
        "status": "active",
        "key_results": [
            {
                "id": down,
                "title": "Failed payouts",
                "unit": "number",
                "start": 100.0,
                "target": 20.0,
                "current": 60.0,
                "progress": 0.5,
            },
            {
                "id": up,
                "title": "Automated",
                "unit": "percent",
                "start": 0.0,
                "target": 50.0,
                "current": 0.0,
                "progress": 0.0,
            },
        ],
        "progress": 0.25,
        "progress_basis": "key_results",
    }


def test_a_goal_moved_under_another_parent_leaves_its_old_parents_children(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    old = goal(client, admin, org["member"])["id"]
    new = goal(client, admin, org["member"])["id"]
    child = goal(client, admin, org["member"], parent_id=old)["id"]

    moved = send(client, admin, "PATCH", f"/goals/{child}", {"parent_id": new, "title": "Moved"})

    answer = read(client, admin, f"/goals/{child}", moved["position"])
    assert (answer["parent_id"], answer["title"]) == (new, "Moved")
    assert read(client, admin, f"/goals/{old}", moved["position"])["children_ids"] == []
    assert read(client, admin, f"/goals/{new}", moved["position"])["children_ids"] == [child]


def test_a_closed_goal_answers_its_outcome(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    g = goal(client, admin, org["member"])["id"]
    send(client, admin, "POST", f"/goals/{g}/activate")

    closed = send(client, admin, "POST", f"/goals/{g}/close", {"outcome": "missed"})

    assert read(client, admin, f"/goals/{g}", closed["position"])["status"] == "missed"


def test_a_goal_without_key_results_is_measured_by_the_estimate_of_its_linked_work_done(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    g = goal(client, admin, org["member"])["id"]
    done = issue(client, admin, org["team"], goal_ids=[g], estimate=3)["id"]
    issue(client, admin, org["team"], goal_ids=[g], estimate=1)
    dropped = issue(client, admin, org["team"], estimate=8)["id"]
    send(client, admin, "POST", f"/issues/{dropped}/links", {"kind": "goal", "target_id": g})
    send(client, admin, "POST", f"/issues/{done}/transition", {"status": "todo"})
    send(client, admin, "POST", f"/issues/{done}/transition", {"status": "in_progress"})
    send(client, admin, "POST", f"/issues/{done}/transition", {"status": "done"})

    last = send(client, admin, "POST", f"/issues/{dropped}/transition", {"status": "cancelled"})

    answer = read(client, admin, f"/goals/{g}", last["position"])
    assert (answer["progress"], answer["progress_basis"]) == (0.75, "work")


# Projects


def test_a_project_answers_milestones_linked_goals_latest_health_and_issue_count(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    first_goal = goal(client, admin, org["member"])["id"]
    second_goal = goal(client, admin, org["member"])["id"]
    p = project(client, admin, org["member"], org["team"], goal_ids=[first_goal])["id"]
    send(
        client,
        admin,
        "PATCH",
        f"/projects/{p}",
        {"name": "Payouts v2", "target_date": "2026-07-31"},
    )
    send(client, admin, "POST", f"/projects/{p}/status", {"status": "active"})
    send(client, admin, "POST", f"/projects/{p}/goals", {"goal_id": second_goal})
    late = send(
        client,
        admin,
        "POST",
        f"/projects/{p}/milestones",
        {"name": "Alpha", "due_date": "2026-02-27"},
    )["milestone_id"]
    done = send(
        client,
        admin,
        "POST",
        f"/projects/{p}/milestones",
        {"name": "Beta", "due_date": "2026-02-28"},
    )["milestone_id"]
    send(client, admin, "POST", f"/projects/{p}/milestones/{done}/complete")
    send(client, admin, "POST", f"/projects/{p}/health", {"health": "at_risk", "note": "vendor"})
    send(client, admin, "POST", f"/projects/{p}/health", {"health": "on_track", "note": "fixed"})
    issue(client, admin, org["team"], project_id=p)
    last = send(client, admin, "PATCH", f"/projects/{p}", {"name": "Payouts v3"})

    assert read(client, admin, f"/projects/{p}", last["position"]) == {
        "id": p,
        "version": last["version"],
        "position": last["position"],
        "created_at": NOW,
        "updated_at": NOW,
        "name": "Payouts v3",
        "key": "PAY",
        "owner_id": org["member"],
        "team_id": org["team"],
        "start_date": "2026-03-01",
        "target_date": "2026-07-31",
        "status": "active",
        "milestones": [
            {
                "id": late,
                "name": "Alpha",
                "due_date": "2026-02-27",
                "done": False,
                "completed_on": None,
                "overdue": True,
            },
            {
                "id": done,
                "name": "Beta",
                "due_date": "2026-02-28",
                "done": True,
                "completed_on": "2026-03-02",
                "overdue": False,
            },
        ],
        "goal_ids": [first_goal, second_goal],
        "health": {"status": "on_track", "note": "fixed", "posted_at": NOW},
        "issue_count": 1,
    }


# Issues


def test_an_issue_answers_everything_it_was_created_with_and_its_parent_lists_it(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    g = goal(client, admin, org["member"])["id"]
    p = project(client, admin, org["member"], org["team"])["id"]
    parent = issue(client, admin, org["team"])["id"]

    created = issue(
        client,
        admin,
        org["team"],
        kind="incident",
        title="Payouts fail",
        description="Since the 8:00 batch",
        project_id=p,
        priority="high",
        severity="sev2",
        estimate=3,
        due_date="2026-03-01",
        labels=["payouts", "ops"],
        parent_id=parent,
        goal_ids=[g],
        assignee_id=org["member"],
    )

    assert read(client, admin, f"/issues/{created['id']}", created["position"]) == {
        "id": created["id"],
        "version": 1,
        "position": created["position"],
        "created_at": NOW,
        "updated_at": NOW,
        "key": "PAY-1",
        "number": 1,
        "kind": "incident",
        "title": "Payouts fail",
        "description": "Since the 8:00 batch",
        "team_id": org["team"],
        "project_id": p,
        "assignee_id": org["member"],
        "status": "triage",
        "priority": "high",
        "severity": "sev2",
        "estimate": 3.0,
        "due_date": "2026-03-01",
        "overdue": True,
        "labels": ["payouts", "ops"],
        "parent_id": parent,
        "sub_issue_ids": [],
        "goal_ids": [g],
        "affects": [],
        "blocked": False,
        "blocked_reason": None,
        "blocked_by": [],
        "blocks": [],
        "watchers": [],
        "comment_count": 0,
    }
    assert read(client, admin, f"/issues/{parent}", created["position"])["sub_issue_ids"] == [
        created["id"]
    ]


def test_an_edited_issue_answers_its_new_fields(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    i = issue(client, admin, org["team"], kind="incident", labels=["ops"])["id"]

    edited = send(
        client,
        admin,
        "PATCH",
        f"/issues/{i}",
        {
            "title": "Payouts fail",
            "description": "Twice a day",
            "priority": "urgent",
            "severity": "sev1",
            "estimate": 5,
            "due_date": "2026-03-09",
            "labels": ["payouts"],
        },
    )

    answer = read(client, admin, f"/issues/{i}", edited["position"])
    assert {
        name: answer[name]
        for name in (
            "title",
            "description",
            "priority",
            "severity",
            "estimate",
            "due_date",
            "labels",
            "version",
        )
    } == {
        "title": "Payouts fail",
        "description": "Twice a day",
        "priority": "urgent",
        "severity": "sev1",
        "estimate": 5.0,
        "due_date": "2026-03-09",
        "labels": ["payouts"],
        "version": edited["version"],
    }


def test_an_issue_answers_its_assignee_and_status_as_they_change(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    i = issue(client, admin, org["team"])["id"]

    assigned = send(client, admin, "POST", f"/issues/{i}/assign", {"assignee_id": org["member"]})
    moved = send(client, admin, "POST", f"/issues/{i}/transition", {"status": "in_progress"})
    on_it = read(client, admin, f"/issues/{i}", moved["position"])
    unassigned = send(client, admin, "POST", f"/issues/{i}/assign", {"assignee_id": None})
    left = read(client, admin, f"/issues/{i}", unassigned["position"])

    assert assigned["version"] == 2
    assert (on_it["assignee_id"], on_it["status"]) == (org["member"], "in_progress")
    assert (left["assignee_id"], left["status"]) == (None, "in_progress")


def test_a_blocked_issue_answers_its_reason_until_unblocked(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    i = issue(client, admin, org["team"])["id"]

    blocked = send(client, admin, "POST", f"/issues/{i}/block", {"reason": "vendor down"})
    waiting = read(client, admin, f"/issues/{i}", blocked["position"])
    unblocked = send(client, admin, "POST", f"/issues/{i}/unblock")
    free = read(client, admin, f"/issues/{i}", unblocked["position"])

    assert (waiting["blocked"], waiting["blocked_reason"]) == (True, "vendor down")
    assert (free["blocked"], free["blocked_reason"]) == (False, None)


def test_a_dependency_shows_on_both_issues_until_it_is_removed(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    blocker = issue(client, admin, org["team"])["id"]
    waiting = issue(client, admin, org["team"])["id"]

    added = send(
        client, admin, "POST", f"/issues/{waiting}/dependencies", {"blocked_by_id": blocker}
    )
    before = (
        read(client, admin, f"/issues/{waiting}", added["position"])["blocked_by"],
        read(client, admin, f"/issues/{blocker}", added["position"])["blocks"],
    )
    removed = send(client, admin, "DELETE", f"/issues/{waiting}/dependencies/{blocker}")
    after = (
        read(client, admin, f"/issues/{waiting}", removed["position"])["blocked_by"],
        read(client, admin, f"/issues/{blocker}", removed["position"])["blocks"],
    )

    assert before == ([blocker], [waiting])
    assert after == ([], [])


def test_a_sub_issue_moved_to_another_parent_moves_between_their_sub_issues(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    old = issue(client, admin, org["team"])["id"]
    new = issue(client, admin, org["team"])["id"]
    child = issue(client, admin, org["team"], parent_id=old)["id"]

    moved = send(client, admin, "PATCH", f"/issues/{child}", {"parent_id": new})

    assert read(client, admin, f"/issues/{child}", moved["position"])["parent_id"] == new
    assert read(client, admin, f"/issues/{old}", moved["position"])["sub_issue_ids"] == []
    assert read(client, admin, f"/issues/{new}", moved["position"])["sub_issue_ids"] == [child]


def test_an_issue_answers_its_goal_and_affects_links_until_they_are_removed(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    g = goal(client, admin, org["member"])["id"]
    p = project(client, admin, org["member"], org["team"])["id"]
    i = issue(client, admin, org["team"])["id"]

    send(client, admin, "POST", f"/issues/{i}/links", {"kind": "goal", "target_id": g})
    linked = send(client, admin, "POST", f"/issues/{i}/links", {"kind": "affects", "target_id": p})
    both = read(client, admin, f"/issues/{i}", linked["position"])
    send(client, admin, "DELETE", f"/issues/{i}/links/goal/{g}")
    unlinked = send(client, admin, "DELETE", f"/issues/{i}/links/affects/{p}")
    none = read(client, admin, f"/issues/{i}", unlinked["position"])

    assert (both["goal_ids"], both["affects"]) == (
        [g],
        [{"target_id": p, "target_kind": "project"}],
    )
    assert (none["goal_ids"], none["affects"]) == ([], [])


def test_an_issues_comments_are_counted_and_paged_oldest_first(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    i = issue(client, admin, org["team"])["id"]
    for body in ("First", "Second"):
        send(client, admin, "POST", f"/issues/{i}/comments", {"body": body})
    last = send(client, admin, "POST", f"/issues/{i}/comments", {"body": "Third"})

    first_page = read(client, admin, f"/issues/{i}/comments", last["position"], limit=2)
    second_page = read(
        client, admin, f"/issues/{i}/comments", last["position"], cursor=first_page["next_cursor"]
    )

    assert read(client, admin, f"/issues/{i}", last["position"])["comment_count"] == 3
    assert [c["body"] for c in first_page["items"]] == ["First", "Second"]
    assert [c["body"] for c in second_page["items"]] == ["Third"]
    assert second_page["items"][0] == {
        "id": last["comment_id"],
        "author": "system",
        "body": "Third",
        "created_at": NOW,
        "position": last["position"],
    }
    assert second_page["next_cursor"] is None


def test_an_issue_answers_its_watchers_as_they_come_and_go(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    other = member(client, admin, "bob@example.com")["id"]
    i = issue(client, admin, org["team"])["id"]
    send(client, admin, "POST", f"/issues/{i}/watchers", {"member_id": org["member"]})
    send(client, admin, "POST", f"/issues/{i}/watchers", {"member_id": other})

    left = send(client, admin, "DELETE", f"/issues/{i}/watchers/{org['member']}")

    assert read(client, admin, f"/issues/{i}", left["position"])["watchers"] == [other]


# Operations


def test_an_operation_answers_its_cadence_runbook_and_occurrences_with_the_late_ones(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    o = send(
        client,
        admin,
        "POST",
        "/operations",
        {
            "title": "Reconcile",
            "team_id": org["team"],
            "owner_id": org["member"],
            "cadence": {"every": "day"},
            "start_date": "2026-02-27",
            "estimate": 1,
        },
    )["id"]
    send(client, admin, "POST", "/operations/tick", {"until": "2026-03-03"})
    send(client, admin, "POST", f"/operations/{o}/occurrences/2026-02-27/complete", {"note": "ok"})
    send(client, admin, "POST", f"/operations/{o}/occurrences/2026-02-28/skip", {"note": "sat"})
    send(
        client,
        admin,
        "PATCH",
        f"/operations/{o}",
        {"assignee_id": org["member"], "runbook": ["Export", "Compare"]},
    )
    last = send(
        client,
        admin,
        "PUT",
        f"/operations/{o}/cadence",
        {"cadence": {"every": "week", "weekdays": ["friday"]}},
    )

    answer = read(client, admin, f"/operations/{o}", last["position"])

    assert {k: answer[k] for k in ("version", "position", "title", "status", "estimate")} == {
        "version": last["version"],
        "position": last["position"],
        "title": "Reconcile",
        "status": "active",
        "estimate": 1.0,
    }
    assert answer["cadence"] == {
        "every": "week",
        "interval": 1,
        "weekdays": ["friday"],
        "day_of_month": None,
    }
    assert answer["cadence_effective_from"] == "2026-03-04"
    assert (answer["assignee_id"], answer["runbook"]) == (org["member"], ["Export", "Compare"])
    assert [
        (x["due_date"], x["status"], x["note"], x["late"], x["estimate"], x["assignee_id"])
        for x in answer["occurrences"]
    ] == [
        ("2026-02-27", "completed", "ok", False, 1.0, None),
        ("2026-02-28", "skipped", "sat", False, 1.0, None),
        ("2026-03-01", "scheduled", "", True, 1.0, None),
        ("2026-03-02", "scheduled", "", False, 1.0, None),
        ("2026-03-03", "scheduled", "", False, 1.0, None),
    ]
    assert (
        answer["open_occurrences"],
        answer["late_occurrences"],
        answer["next_due_date"],
    ) == (3, 1, "2026-03-02")


def test_a_paused_resumed_and_retired_operation_answers_each_status(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    o = send(
        client,
        admin,
        "POST",
        "/operations",
        {
            "title": "Rotate keys",
            "team_id": org["team"],
            "owner_id": org["member"],
            "cadence": {"every": "month", "day_of_month": 1},
            "start_date": "2026-03-01",
        },
    )["id"]
    statuses = []
    for move in ("pause", "resume", "retire"):
        moved = send(client, admin, "POST", f"/operations/{o}/{move}")
        statuses.append(read(client, admin, f"/operations/{o}", moved["position"])["status"])

    assert statuses == ["paused", "active", "retired"]


# Not found, as of


def test_an_unknown_id_an_id_of_another_kind_and_an_object_not_yet_created_are_404(
    client: TestClient, admin: Headers, clock: FrozenClock
) -> None:
    clock.advance(timedelta(hours=1))
    t = team(client, admin)

    answers = [
        client.get(
            f"/v1/teams/{unknown_id()}", params={"min_position": t["position"]}, headers=admin
        ),
        client.get(f"/v1/members/{t['id']}", headers=admin),
        client.get(f"/v1/teams/{t['id']}", params={"as_of": NOW}, headers=admin),
        client.get(f"/v1/issues/{t['id']}/comments", headers=admin),
    ]

    for answer in answers:
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == "not_found"


def test_as_of_a_past_moment_answers_objects_and_lists_as_they_were(
    client: TestClient, admin: Headers, org: dict[str, str], clock: FrozenClock
) -> None:
    i = issue(client, admin, org["team"], priority="low")["id"]
    clock.advance(timedelta(days=1))
    send(client, admin, "PATCH", f"/issues/{i}", {"priority": "urgent"})
    send(client, admin, "POST", f"/issues/{i}/block", {"reason": "vendor"})
    later = issue(client, admin, org["team"])["id"]
    removed = send(client, admin, "DELETE", f"/teams/{org['team']}/members/{org['member']}")
    yesterday = "2026-03-02T12:00:00Z"

    past = read(client, admin, f"/issues/{i}", removed["position"], as_of=yesterday)
    past_list = read(client, admin, "/issues", removed["position"], as_of=yesterday)
    past_team = read(client, admin, f"/teams/{org['team']}", removed["position"], as_of=yesterday)
    now = read(client, admin, f"/issues/{i}", removed["position"])

    assert (past["priority"], past["blocked"], past["version"]) == ("low", False, 1)
    assert past["updated_at"] == NOW
    assert (now["priority"], now["blocked"], now["version"]) == ("urgent", True, 3)
    assert ids(past_list) == [i]
    assert past_team["member_ids"] == [org["member"]]
    assert ids(read(client, admin, "/issues", removed["position"])) == [i, later]


# Lists


def test_issue_lists_filter_by_each_column_label_and_blocked_flag(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    other_team = team(client, admin, "Risk")["id"]
    p = project(client, admin, org["member"], org["team"])["id"]
    parent = issue(client, admin, org["team"])["id"]
    bug = issue(
        client,
        admin,
        org["team"],
        kind="bug",
        project_id=p,
        priority="high",
        labels=["ops"],
        assignee_id=org["member"],
        parent_id=parent,
    )["id"]
    task = issue(client, admin, other_team, priority="low")["id"]
    send(client, admin, "POST", f"/issues/{task}/transition", {"status": "todo"})
    last = send(client, admin, "POST", f"/issues/{task}/block", {"reason": "vendor"})

    def found(**params: Any) -> list[str]:
        return ids(read(client, admin, "/issues", last["position"], **params))

    assert found() == [parent, bug, task]
    assert found(team_id=other_team) == [task]
    assert found(project_id=p) == [bug]
    assert found(assignee_id=org["member"]) == [bug]
    assert found(status="todo") == [task]
    assert found(kind="bug") == [bug]
    assert found(priority="high") == [bug]
    assert found(label="ops") == [bug]
    assert found(label="ops", team_id=other_team) == []
    assert found(blocked=True) == [task]
    assert found(blocked=False) == [parent, bug]
    assert found(parent_id=parent) == [bug]


def test_issue_lists_search_a_key_exactly_and_titles_by_a_part_ignoring_case(
    client: TestClient, admin: Headers, org: dict[str, str], clock: FrozenClock
) -> None:
    p = project(client, admin, org["member"], org["team"])["id"]
    first = issue(client, admin, org["team"], project_id=p, title="Refund 100% of fees")["id"]
    second = issue(client, admin, org["team"], project_id=p, title="Payout_batch retries")["id"]
    twelfth = issue(client, admin, org["team"], title="Ledger PAY-1 export")["id"]
    clock.advance(timedelta(days=1))
    last = send(client, admin, "PATCH", f"/issues/{second}", {"title": "Faster payouts"})

    def found(q: str, **params: Any) -> list[str]:
        return ids(read(client, admin, "/issues", last["position"], q=q, **params))

    assert found("pay-1") == [first, twelfth]
    assert found(" PAY-2 ") == [second]
    assert found("REFUND") == [first]
    assert found("100%") == [first]
    assert found("0%") == [first]
    assert found("%") == [first]
    assert found("_") == []
    assert found("payout") == [second]
    assert found("payout_batch") == []
    assert found("payout_batch", as_of="2026-03-02T12:00:00Z") == [second]
    assert found("refund", team_id=org["team"], status="backlog") == [first]
    assert found("refund", status="todo") == []
    assert found("nothing like it") == []
    for refused in ("", "x" * 201):
        answer = client.get("/v1/issues", params={"q": refused}, headers=admin)
        assert answer.status_code in (400, 422), refused


def test_member_lists_filter_by_team_active_flag_and_role(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    manager = member(client, admin, "bob@example.com", role="manager")["id"]
    gone = member(client, admin, "cy@example.com", [org["team"]])["id"]
    last = send(client, admin, "POST", f"/members/{gone}/deactivate")

    def found(**params: Any) -> list[str]:
        return ids(read(client, admin, "/members", last["position"], **params))

    assert found() == [org["member"], manager, gone]
    assert found(team_id=org["team"]) == [org["member"], gone]
    assert found(active=False) == [gone]
    assert found(role="manager") == [manager]
    assert found(team_id=org["team"], active=True) == [org["member"]]


def test_goal_lists_filter_by_team_status_owner_and_parent(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    other = member(client, admin, "bob@example.com")["id"]
    root = goal(client, admin, org["member"], team_id=org["team"])["id"]
    child = goal(client, admin, other, parent_id=root)["id"]
    last = send(client, admin, "POST", f"/goals/{child}/activate")

    def found(**params: Any) -> list[str]:
        return ids(read(client, admin, "/goals", last["position"], **params))

    assert found() == [root, child]
    assert found(team_id=org["team"]) == [root]
    assert found(status="active") == [child]
    assert found(owner_id=other) == [child]
    assert found(parent_id=root) == [child]


def test_project_and_operation_lists_filter_by_team_and_status(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    other_team = team(client, admin, "Risk")["id"]
    first = project(client, admin, org["member"], org["team"])["id"]
    second = project(client, admin, org["member"], other_team, key="RSK")["id"]
    send(client, admin, "POST", f"/projects/{second}/status", {"status": "active"})
    body = {"title": "Reconcile", "owner_id": org["member"], "cadence": {"every": "day"}}
    body["start_date"] = "2026-03-02"
    daily = send(client, admin, "POST", "/operations", {**body, "team_id": org["team"]})["id"]
    paused = send(client, admin, "POST", "/operations", {**body, "team_id": other_team})["id"]
    last = send(client, admin, "POST", f"/operations/{paused}/pause")

    def found(path: str, **params: Any) -> list[str]:
        return ids(read(client, admin, path, last["position"], **params))

    assert found("/projects") == [first, second]
    assert found("/projects", team_id=other_team) == [second]
    assert found("/projects", status="proposed") == [first]
    assert found("/operations") == [daily, paused]
    assert found("/operations", team_id=org["team"]) == [daily]
    assert found("/operations", status="paused") == [paused]


def test_lists_page_in_creation_order_from_cursor_to_cursor(
    client: TestClient, admin: Headers
) -> None:
    created = [team(client, admin, f"Team {n}") for n in range(5)]
    position = created[-1]["position"]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0

    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = read(client, admin, "/teams", position, **params)
        seen.extend(ids(page))
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == [t["id"] for t in created]


def test_malformed_parameters_answer_a_problem_naming_them(
    client: TestClient, admin: Headers
) -> None:
    cases = [
        ("/issues", {"status": "finished"}, 422, "status"),
        ("/members", {"team_id": "payments"}, 422, "team_id"),
        ("/goals", {"cursor": "WyJub3QgYSBwb3NpdGlvbiJd"}, 400, "cursor"),
        ("/teams/not-a-uuid", {}, 422, "team_id"),
    ]

    answers = [
        client.get(f"/v1{path}", params=params, headers=admin) for path, params, _, _ in cases
    ]

    for answer, (_, _, status, field) in zip(answers, cases, strict=True):
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in [error["field"] for error in answer.json()["errors"]]


# Rebuilding


def test_the_entities_rebuilt_from_zero_answer_exactly_as_the_live_ones(
    client: TestClient, admin: Headers, org: dict[str, str], runtime: Runtime
) -> None:
    g = goal(client, admin, org["member"], team_id=org["team"])["id"]
    child = goal(client, admin, org["member"], parent_id=g)["id"]
    p = project(client, admin, org["member"], org["team"], goal_ids=[g])["id"]
    send(client, admin, "POST", f"/projects/{p}/health", {"health": "at_risk", "note": "late"})
    parent = issue(client, admin, org["team"], project_id=p, labels=["ops"], goal_ids=[g])["id"]
    i = issue(client, admin, org["team"], parent_id=parent, estimate=2)["id"]
    send(client, admin, "POST", f"/issues/{i}/dependencies", {"blocked_by_id": parent})
    send(client, admin, "POST", f"/issues/{i}/comments", {"body": "On it"})
    o = send(
        client,
        admin,
        "POST",
        "/operations",
        {
            "title": "Reconcile",
            "team_id": org["team"],
            "owner_id": org["member"],
            "cadence": {"every": "day"},
            "start_date": "2026-03-01",
        },
    )["id"]
    send(client, admin, "POST", "/operations/tick", {"until": "2026-03-04"})
    last = send(client, admin, "POST", f"/operations/{o}/occurrences/2026-03-01/complete", {})
    paths = [
        f"/teams/{org['team']}",
        f"/members/{org['member']}",
        f"/goals/{g}",
        f"/goals/{child}",
        f"/projects/{p}",
        f"/issues/{parent}",
        f"/issues/{i}",
        f"/issues/{i}/comments",
        f"/operations/{o}",
        "/teams",
        "/members",
        "/goals",
        "/projects",
        "/issues",
        "/operations",
    ]
    live = {path: read(client, admin, path, last["position"]) for path in paths}

    rebuild(runtime.store, runtime.backend, PROJECTION, page_size=7)

    assert runtime.read_models.snapshot("entities", None).generation == 2
    assert {path: read(client, admin, path, last["position"]) for path in paths} == live


def test_every_event_an_object_records_has_a_handler_that_changes_the_object() -> None:
    assert PROJECTION.handlers.classes() == frozenset(EVENT_CLASSES)
    assert PROJECTION.event_types is None


# Versions


def test_every_object_read_carries_its_version_as_the_etag_a_command_takes_as_if_match(
    client: TestClient, admin: Headers, org: dict[str, str]
) -> None:
    created = issue(client, admin, org["team"])
    moved = send(client, admin, "POST", f"/issues/{created['id']}/transition", {"status": "todo"})

    response = client.get(
        f"/v1/issues/{created['id']}", params={"min_position": moved["position"]}, headers=admin
    )

    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{moved["version"]}"' == f'"{response.json()["version"]}"'
    followed = client.post(
        f"/v1/issues/{created['id']}/transition",
        json={"status": "backlog"},
        headers={**admin, "If-Match": response.headers["ETag"]},
    )
    assert followed.status_code == 200, followed.text
    for path in (f"/teams/{org['team']}", f"/members/{org['member']}"):
        answer = client.get(f"/v1{path}", headers=admin)
        assert answer.headers["ETag"] == f'"{answer.json()["version"]}"'
