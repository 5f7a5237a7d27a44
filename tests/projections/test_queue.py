"""The personal queue view over HTTP: given these commands (and so these events), then this view.

The clock is frozen at Monday 2026-03-02 09:00 UTC, so "today" is 2026-03-02: work due before it
is overdue. A scheduler tick schedules occurrences up to 2026-03-16.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from contracts.views.queue import QueuePage
from services.app import Runtime, build_runtime
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from services.projections.runner import rebuild
from services.projections.views.queue import PROJECTION
from tests.api.conftest import ReusableApp
from tests.api.helpers import (
    Headers,
    assert_problem,
    create_goal,
    create_issue,
    create_operation,
    create_project,
    create_team,
    created,
    transition,
    unknown_id,
)
from tests.conftest import FrozenClock, bearer

_apps: list[ReusableApp] = []


@pytest.fixture
def runtime(backend: Backend, clock: FrozenClock, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime with this view's worker only, applying the log when a test reads (see ``read``).

    A running worker takes up to a second to notice it should stop, which would dominate these
    short tests; ``catch_up`` applies pages exactly as the running worker does.
    """
    settings = Settings(data_dir=tmp_path)
    built = build_runtime(
        settings, clock=clock, backend=backend, views=[PROJECTION.name], run_workers=False
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
    return create_team(client, admin)


@pytest.fixture
def me(client: TestClient, admin: Headers, team: str) -> str:
    """The member whose queue the tests read."""
    return add_member(client, admin, team, name="Ada")


# Commands and reads


def send(client: TestClient, headers: Headers, method: str, path: str, body: Any = None) -> None:
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text


def add_member(client: TestClient, headers: Headers, team_id: str, name: str) -> str:
    body = {
        "name": name,
        "email": f"{uuid.uuid4().hex[:12]}@example.com",
        "role": "member",
        "weekly_capacity": 20,
        "team_ids": [team_id],
    }
    return created(client.post("/v1/members", json=body, headers=headers))


def edit(client: TestClient, headers: Headers, issue_id: str, **fields: Any) -> None:
    send(client, headers, "PATCH", f"/v1/issues/{issue_id}", fields)


def assign(client: TestClient, headers: Headers, issue_id: str, member_id: str | None) -> None:
    send(client, headers, "POST", f"/v1/issues/{issue_id}/assign", {"assignee_id": member_id})


def depend(client: TestClient, headers: Headers, blocked_id: str, blocker_id: str) -> None:
    path = f"/v1/issues/{blocked_id}/dependencies"
    send(client, headers, "POST", path, {"blocked_by_id": blocker_id})


def watch(client: TestClient, headers: Headers, issue_id: str, member_id: str) -> None:
    send(client, headers, "POST", f"/v1/issues/{issue_id}/watchers", {"member_id": member_id})


def active_goal(client: TestClient, headers: Headers, owner_id: str, title: str) -> str:
    goal_id = create_goal(client, headers, owner_id, title=title)
    send(client, headers, "POST", f"/v1/goals/{goal_id}/activate")
    return goal_id


def settle(client: TestClient, headers: Headers, operation_id: str, day: str, how: str) -> None:
    """Completes or skips (``how``) the operation's occurrence due on ``day``."""
    send(client, headers, "POST", f"/v1/operations/{operation_id}/occurrences/{day}/{how}", {})


def read(client: TestClient, runtime: Runtime, headers: Headers, path: str, **params: Any) -> Any:
    """The view at ``path``, once it has applied every event written so far."""
    for worker in runtime.workers:
        worker.catch_up()
    query = {"min_position": runtime.store.last_position(), **params}
    response = client.get(path, params=query, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    # The answer is written without the model: it must be exactly what the model describes.
    assert QueuePage.model_validate(answer).model_dump(mode="json") == answer
    return answer


def queue(
    client: TestClient, runtime: Runtime, headers: Headers, member_id: str, **params: Any
) -> Any:
    return read(client, runtime, headers, f"/v1/views/queue/{member_id}", **params)


def titles(page: Any) -> list[str]:
    return [item["title"] for item in page["items"]]


def item(page: Any, item_id: str) -> Any:
    return next(entry for entry in page["items"] if entry["id"] == item_id)


# Who and what is in the queue


def test_given_a_member_with_no_work_then_the_queue_is_empty(
    client: TestClient, runtime: Runtime, admin: Headers, me: str
) -> None:
    page = queue(client, runtime, admin, me)

    assert page == {
        "member": {"id": me, "name": "Ada", "active": True},
        "today": "2026-03-02",
        "total": 0,
        "items": [],
        "next_cursor": None,
    }


def test_given_an_unknown_member_then_the_queue_answers_404(
    client: TestClient, admin: Headers
) -> None:
    response = client.get(f"/v1/views/queue/{unknown_id()}", headers=admin)

    assert_problem(response, 404, "not_found")


def test_given_a_token_of_a_member_then_me_is_that_members_queue(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    create_issue(client, admin, team, title="Mine", assignee_id=me)
    token = bearer(runtime.tokens.create("member", UUID(me)))

    mine = read(client, runtime, token, "/v1/views/queue/me")

    assert mine == queue(client, runtime, admin, me)
    assert titles(mine) == ["Mine"]


def test_given_a_token_acting_for_no_member_then_me_answers_404(
    client: TestClient, admin: Headers
) -> None:
    response = client.get("/v1/views/queue/me", headers=admin)

    assert_problem(response, 404, "not_found")


def test_given_issues_assigned_reassigned_and_unassigned_then_the_queue_holds_those_assigned_now(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    bob = add_member(client, admin, team, "Bob")
    create_issue(client, admin, team, title="Mine", assignee_id=me)
    create_issue(client, admin, team, title="Bob's", assignee_id=bob)
    handed_over = create_issue(client, admin, team, title="Handed over", assignee_id=bob)
    released = create_issue(client, admin, team, title="Released", assignee_id=me)
    assign(client, admin, handed_over, me)
    assign(client, admin, released, None)

    page = queue(client, runtime, admin, me)

    assert sorted(titles(page)) == ["Handed over", "Mine"]
    assert page["total"] == 2


def test_given_issues_done_or_cancelled_then_they_leave_the_queue_until_reopened(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    started = create_issue(client, admin, team, title="Started", assignee_id=me)
    done = create_issue(client, admin, team, title="Done", assignee_id=me)
    reopened = create_issue(client, admin, team, title="Reopened", assignee_id=me)
    transition(client, admin, started, "in_progress")
    transition(client, admin, done, "in_progress", "done")
    transition(client, admin, reopened, "cancelled", "todo")

    page = queue(client, runtime, admin, me)

    assert sorted(titles(page)) == ["Reopened", "Started"]
    assert item(page, started)["status"] == "in_progress"
    assert item(page, reopened)["status"] == "todo"


def test_given_issues_retitled_and_estimated_then_the_queue_shows_the_new_values(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    issue_id = create_issue(client, admin, team, "bug", title="Old", assignee_id=me)
    edit(client, admin, issue_id, title="Retry failed payouts", estimate=3)

    entry = item(queue(client, runtime, admin, me), issue_id)

    assert (entry["title"], entry["estimate"], entry["kind"]) == ("Retry failed payouts", 3, "bug")
    assert (entry["key"], entry["project"], entry["operation"]) == (None, None, None)
    assert entry["created_at"] == "2026-03-02T09:00:00Z"


def test_given_one_issue_blocked_and_one_unblocked_then_only_the_first_has_the_flag_and_reason(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    blocked = create_issue(client, admin, team, assignee_id=me)
    freed = create_issue(client, admin, team, assignee_id=me)
    send(client, admin, "POST", f"/v1/issues/{blocked}/block", {"reason": "waiting on the bank"})
    send(client, admin, "POST", f"/v1/issues/{freed}/block", {"reason": "waiting on legal"})
    send(client, admin, "POST", f"/v1/issues/{freed}/unblock")

    page = queue(client, runtime, admin, me)

    assert (item(page, blocked)["blocked"], item(page, blocked)["blocked_reason"]) == (
        True,
        "waiting on the bank",
    )
    assert (item(page, freed)["blocked"], item(page, freed)["blocked_reason"]) == (False, None)


def test_given_occurrences_scheduled_then_they_are_queued_with_their_operation_until_settled(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    operation_id = create_operation(
        client, admin, team, me, {"every": "week"}, assignee_id=me, estimate=2
    )
    send(client, admin, "POST", "/v1/operations/tick", {})
    send(
        client, admin, "POST", f"/v1/operations/{operation_id}/occurrences/2026-03-02/complete", {}
    )
    settle(client, admin, operation_id, "2026-03-09", "skip")

    page = queue(client, runtime, admin, me)

    assert len(page["items"]) == 1
    entry = page["items"][0]
    assert (entry["kind"], entry["title"], entry["due_date"]) == (
        "occurrence",
        "Reconcile the ledger",
        "2026-03-16",
    )
    assert entry["operation"] == {"id": operation_id, "title": "Reconcile the ledger"}
    assert (entry["priority"], entry["status"], entry["estimate"]) == ("none", "scheduled", 2)
    assert entry["reasons"] == ["no priority", "due 2026-03-16"]


# The order and its reasons


def test_given_issues_of_every_priority_then_they_rank_urgent_high_medium_low_none(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    for priority in ("low", "urgent", "none", "high", "medium"):
        create_issue(client, admin, team, title=priority, priority=priority, assignee_id=me)

    page = queue(client, runtime, admin, me)

    assert titles(page) == ["urgent", "high", "medium", "low", "none"]
    assert [entry["reasons"][0] for entry in page["items"]] == [
        "priority urgent",
        "priority high",
        "priority medium",
        "priority low",
        "no priority",
    ]


def test_given_a_priority_changed_then_the_issue_moves_to_its_new_rank(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    create_issue(client, admin, team, title="High", priority="high", assignee_id=me)
    raised = create_issue(client, admin, team, title="Raised", priority="low", assignee_id=me)
    edit(client, admin, raised, priority="urgent")

    page = queue(client, runtime, admin, me)

    assert titles(page) == ["Raised", "High"]
    assert item(page, raised)["priority"] == "urgent"


def test_given_an_overdue_issue_then_it_ranks_with_urgent_work_above_higher_priorities(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    create_issue(client, admin, team, title="High", priority="high", assignee_id=me)
    create_issue(
        client,
        admin,
        team,
        title="Due today",
        priority="low",
        due_date="2026-03-02",
        assignee_id=me,
    )
    create_issue(
        client, admin, team, title="Late", priority="low", due_date="2026-02-27", assignee_id=me
    )
    create_issue(client, admin, team, title="Urgent", priority="urgent", assignee_id=me)

    page = queue(client, runtime, admin, me)

    assert titles(page) == ["Urgent", "Late", "High", "Due today"]
    late = page["items"][1]
    assert late["overdue"] is True
    assert late["reasons"] == ["overdue since 2026-02-27", "priority low"]
    assert page["items"][3]["overdue"] is False


def test_given_equal_priorities_then_the_earliest_due_date_ranks_first_and_no_due_date_last(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    create_issue(client, admin, team, title="No date", priority="high", assignee_id=me)
    later = create_issue(
        client, admin, team, title="Later", priority="high", due_date="2026-03-04", assignee_id=me
    )
    create_issue(
        client, admin, team, title="Sooner", priority="high", due_date="2026-03-10", assignee_id=me
    )
    edit(client, admin, later, due_date="2026-03-20")

    page = queue(client, runtime, admin, me)

    assert titles(page) == ["Sooner", "Later", "No date"]
    assert [entry["reasons"] for entry in page["items"]] == [
        ["priority high", "due 2026-03-10"],
        ["priority high", "due 2026-03-20"],
        ["priority high", "no due date"],
    ]


def test_given_an_overdue_occurrence_then_it_ranks_first_and_says_since_when(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str, clock: FrozenClock
) -> None:
    create_operation(client, admin, team, me, {"every": "week"}, assignee_id=me)
    send(client, admin, "POST", "/v1/operations/tick", {})
    clock.advance(timedelta(days=1))
    create_issue(client, admin, team, title="High", priority="high", assignee_id=me)

    page = queue(client, runtime, admin, me)

    assert [(entry["kind"], entry["due_date"]) for entry in page["items"]] == [
        ("occurrence", "2026-03-02"),
        ("task", None),
        ("occurrence", "2026-03-09"),
        ("occurrence", "2026-03-16"),
    ]
    assert page["items"][0]["reasons"] == ["overdue since 2026-03-02", "no priority"]


def test_given_equal_rank_otherwise_then_an_item_advancing_an_active_goal_ranks_first(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str, clock: FrozenClock
) -> None:
    goal_id = active_goal(client, admin, me, "Grow revenue")
    create_issue(client, admin, team, title="Plain", assignee_id=me)
    clock.advance(timedelta(minutes=1))
    aligned = create_issue(client, admin, team, title="Aligned", assignee_id=me, goal_ids=[goal_id])

    page = queue(client, runtime, admin, me)

    assert titles(page) == ["Aligned", "Plain"]
    entry = item(page, aligned)
    assert entry["reasons"] == ["no priority", "no due date", "advances goal 'Grow revenue'"]
    assert entry["goals"] == [
        {"id": goal_id, "title": "Grow revenue", "status": "active", "via": "issue"}
    ]


def test_given_a_goal_still_draft_then_it_adds_no_impact_until_activated(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str, clock: FrozenClock
) -> None:
    goal_id = create_goal(client, admin, me, title="Grow revenue")
    create_issue(client, admin, team, title="Plain", assignee_id=me)
    clock.advance(timedelta(minutes=1))
    aligned = create_issue(client, admin, team, title="Aligned", assignee_id=me, goal_ids=[goal_id])

    draft = queue(client, runtime, admin, me)
    send(client, admin, "POST", f"/v1/goals/{goal_id}/activate")
    activated = queue(client, runtime, admin, me)

    assert titles(draft) == ["Plain", "Aligned"]
    assert item(draft, aligned)["goals"][0]["status"] == "draft"
    assert titles(activated) == ["Aligned", "Plain"]


def test_given_a_goal_closed_or_retitled_then_the_item_shows_it_and_loses_the_impact_once_closed(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    goal_id = active_goal(client, admin, me, "Grow revenue")
    aligned = create_issue(client, admin, team, title="Aligned", assignee_id=me, goal_ids=[goal_id])
    create_issue(client, admin, team, title="Plain", assignee_id=me)
    send(client, admin, "PATCH", f"/v1/goals/{goal_id}", {"title": "Grow margin"})
    retitled = queue(client, runtime, admin, me)
    send(client, admin, "POST", f"/v1/goals/{goal_id}/close", {"outcome": "achieved"})

    closed = queue(client, runtime, admin, me)

    assert item(retitled, aligned)["reasons"][-1] == "advances goal 'Grow margin'"
    assert item(closed, aligned)["goals"][0]["status"] == "achieved"
    assert item(closed, aligned)["reasons"] == ["no priority", "no due date"]


def test_given_issues_linked_to_and_affecting_goals_then_the_links_show_in_goals_and_reasons(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    revenue = active_goal(client, admin, me, "Grow revenue")
    churn = active_goal(client, admin, me, "Cut churn")
    issue_id = create_issue(client, admin, team, "bug", assignee_id=me)
    for kind, target in (("goal", revenue), ("affects", churn), ("goal", churn)):
        send(
            client,
            admin,
            "POST",
            f"/v1/issues/{issue_id}/links",
            {"kind": kind, "target_id": target},
        )
    send(client, admin, "DELETE", f"/v1/issues/{issue_id}/links/goal/{churn}")

    entry = item(queue(client, runtime, admin, me), issue_id)

    assert [(goal["title"], goal["via"]) for goal in entry["goals"]] == [
        ("Grow revenue", "issue"),
        ("Cut churn", "affects"),
    ]
    assert entry["reasons"][-2:] == ["advances goal 'Grow revenue'", "affects goal 'Cut churn'"]


def test_given_an_issue_in_a_project_then_it_carries_the_project_and_the_projects_goals(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    goal_id = active_goal(client, admin, me, "Grow revenue")
    project_id = create_project(client, admin, me, team, "PAY")
    send(client, admin, "POST", f"/v1/projects/{project_id}/goals", {"goal_id": goal_id})
    send(client, admin, "PATCH", f"/v1/projects/{project_id}", {"name": "Payouts"})
    issue_id = create_issue(client, admin, team, project_id=project_id, assignee_id=me)

    entry = item(queue(client, runtime, admin, me), issue_id)

    assert entry["key"] == "PAY-1"
    assert entry["project"] == {"id": project_id, "key": "PAY", "name": "Payouts"}
    assert entry["goals"] == [
        {"id": goal_id, "title": "Grow revenue", "status": "active", "via": "project"}
    ]
    assert entry["reasons"][-1] == "advances goal 'Grow revenue' through project PAY"


def test_given_an_item_blocking_open_issues_then_it_ranks_first_says_what_it_blocks_and_who_waits(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str, clock: FrozenClock
) -> None:
    bob = add_member(client, admin, team, "Bob")
    carol = add_member(client, admin, team, "Carol")
    project_id = create_project(client, admin, me, team, "PAY")
    create_issue(client, admin, team, title="Plain", assignee_id=me)
    clock.advance(timedelta(minutes=1))
    blocker = create_issue(
        client, admin, team, title="Blocker", project_id=project_id, assignee_id=me
    )
    waiting = create_issue(
        client, admin, team, title="Waiting", project_id=project_id, assignee_id=bob
    )
    clock.advance(timedelta(minutes=1))
    orphan = create_issue(client, admin, team, title="Unassigned waiting")
    watch(client, admin, waiting, carol)
    watch(client, admin, waiting, me)
    depend(client, admin, waiting, blocker)
    depend(client, admin, orphan, blocker)

    page = queue(client, runtime, admin, me)

    assert titles(page) == ["Blocker", "Plain"]
    entry = item(page, blocker)
    assert entry["blocks"] == [
        {"id": waiting, "key": "PAY-2", "title": "Waiting", "assignee": {"id": bob, "name": "Bob"}},
        {"id": orphan, "key": None, "title": "Unassigned waiting", "assignee": None},
    ]
    assert entry["waiting"] == [{"id": bob, "name": "Bob"}, {"id": carol, "name": "Carol"}]
    assert entry["reasons"][-2:] == ["blocks PAY-2", "blocks 'Unassigned waiting'"]


def test_given_a_dependency_removed_or_the_blocked_issue_closed_then_the_item_blocks_nothing(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    blocker = create_issue(client, admin, team, title="Blocker", assignee_id=me)
    released = create_issue(client, admin, team, title="Released")
    finished = create_issue(client, admin, team, title="Finished")
    depend(client, admin, released, blocker)
    depend(client, admin, finished, blocker)
    send(client, admin, "DELETE", f"/v1/issues/{released}/dependencies/{blocker}")
    transition(client, admin, finished, "cancelled")

    entry = item(queue(client, runtime, admin, me), blocker)

    assert (entry["blocks"], entry["waiting"]) == ([], [])
    assert entry["reasons"] == ["no priority", "no due date"]


def test_given_watchers_of_an_item_then_they_are_waiting_on_it_until_they_stop_watching(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    bob = add_member(client, admin, team, "Bob")
    carol = add_member(client, admin, team, "Carol")
    issue_id = create_issue(client, admin, team, assignee_id=me)
    for watcher in (carol, bob, me):
        watch(client, admin, issue_id, watcher)
    send(client, admin, "DELETE", f"/v1/issues/{issue_id}/watchers/{carol}")

    entry = item(queue(client, runtime, admin, me), issue_id)

    assert entry["waiting"] == [{"id": bob, "name": "Bob"}]


def test_given_members_renamed_or_deactivated_then_the_queue_names_them_as_they_are_now(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    bob = add_member(client, admin, team, "Bob")
    issue_id = create_issue(client, admin, team, assignee_id=me)
    watch(client, admin, issue_id, bob)
    send(client, admin, "PATCH", f"/v1/members/{bob}", {"name": "Robert"})
    send(client, admin, "PATCH", f"/v1/members/{me}", {"name": "Ada King"})
    send(client, admin, "POST", f"/v1/members/{me}/deactivate")
    deactivated = queue(client, runtime, admin, me)
    send(client, admin, "POST", f"/v1/members/{me}/reactivate")

    reactivated = queue(client, runtime, admin, me)

    assert deactivated["member"] == {"id": me, "name": "Ada King", "active": False}
    assert reactivated["member"]["active"] is True
    assert item(deactivated, issue_id)["waiting"] == [{"id": bob, "name": "Robert"}]


def test_given_everything_else_equal_then_the_older_item_ranks_first(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str, clock: FrozenClock
) -> None:
    create_issue(client, admin, team, title="Older", assignee_id=me)
    clock.advance(timedelta(minutes=1))
    create_issue(client, admin, team, title="Newer", assignee_id=me)

    assert titles(queue(client, runtime, admin, me)) == ["Older", "Newer"]


# Reading


def test_given_a_queue_longer_than_a_page_then_the_cursor_walks_it_in_order(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    for priority in ("low", "urgent", "none", "high", "medium"):
        create_issue(client, admin, team, title=priority, priority=priority, assignee_id=me)
    whole = titles(queue(client, runtime, admin, me))

    walked: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = queue(client, runtime, admin, me, **params)
        assert page["total"] == 5
        walked += titles(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert walked == whole == ["urgent", "high", "medium", "low", "none"]


def test_given_a_queue_walked_page_by_page_then_each_item_names_who_waits_as_in_the_whole_queue(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str
) -> None:
    bob = add_member(client, admin, team, "Bob")
    carol = add_member(client, admin, team, "Carol")
    mine = [create_issue(client, admin, team, title=f"mine {n}", assignee_id=me) for n in range(5)]
    for n, issue_id in enumerate(mine):
        waiting = create_issue(
            client, admin, team, title=f"theirs {n}", assignee_id=(bob, carol)[n % 2]
        )
        depend(client, admin, waiting, issue_id)
        watch(client, admin, issue_id if n % 2 else waiting, (carol, bob)[n % 2])
    whole = queue(client, runtime, admin, me)

    walked: list[Any] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = queue(client, runtime, admin, me, **params)
        walked += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert walked == whole["items"]
    assert all(item["waiting"] and item["blocks"] for item in walked)


@pytest.mark.parametrize("cursor", ["not-a-cursor", "WyJhIl0"])
def test_given_a_cursor_this_api_never_gave_then_the_queue_answers_400(
    client: TestClient, admin: Headers, me: str, cursor: str
) -> None:
    response = client.get(f"/v1/views/queue/{me}", params={"cursor": cursor}, headers=admin)

    assert_problem(response, 400, "validation_error", field="cursor")


def test_given_a_past_moment_then_as_of_answers_the_queue_as_it_was(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str, clock: FrozenClock
) -> None:
    bob = add_member(client, admin, team, "Bob")
    goal_id = active_goal(client, admin, me, "Grow revenue")
    first = create_issue(client, admin, team, title="First", due_date="2026-03-03", assignee_id=me)
    second = create_issue(client, admin, team, title="Second", goal_ids=[goal_id], assignee_id=me)
    blocked = create_issue(client, admin, team, title="Blocked", assignee_id=bob)
    depend(client, admin, blocked, second)
    clock.advance(timedelta(days=2))
    then = clock().isoformat()
    before = queue(client, runtime, admin, me)
    clock.advance(timedelta(hours=1))
    transition(client, admin, first, "in_progress", "done")
    edit(client, admin, second, title="Renamed", priority="urgent")
    send(client, admin, "POST", f"/v1/goals/{goal_id}/close", {"outcome": "missed"})
    transition(client, admin, blocked, "cancelled")
    send(client, admin, "PATCH", f"/v1/members/{bob}", {"name": "Robert"})
    create_issue(client, admin, team, title="New", assignee_id=me)

    as_of = queue(client, runtime, admin, me, as_of=then)

    assert as_of == before
    assert titles(as_of) == ["First", "Second"]
    assert as_of["items"][0]["reasons"][0] == "overdue since 2026-03-03"
    assert item(as_of, second)["blocks"][0]["id"] == blocked


def test_given_the_projection_rebuilt_from_zero_then_it_answers_exactly_as_the_live_one(
    client: TestClient, runtime: Runtime, admin: Headers, team: str, me: str, clock: FrozenClock
) -> None:
    bob = add_member(client, admin, team, "Bob")
    goal_id = active_goal(client, admin, me, "Grow revenue")
    project_id = create_project(client, admin, me, team, "PAY", goal_ids=[goal_id])
    first = create_issue(
        client, admin, team, project_id=project_id, priority="high", assignee_id=me
    )
    second = create_issue(client, admin, team, due_date="2026-03-01", assignee_id=me)
    waiting = create_issue(client, admin, team, project_id=project_id, assignee_id=bob)
    depend(client, admin, waiting, first)
    watch(client, admin, first, bob)
    operation_id = create_operation(client, admin, team, me, assignee_id=me, estimate=1)
    send(client, admin, "POST", "/v1/operations/tick", {})
    clock.advance(timedelta(days=1))
    send(client, admin, "POST", f"/v1/issues/{second}/block", {"reason": "vendor"})
    send(
        client, admin, "POST", f"/v1/operations/{operation_id}/occurrences/2026-03-02/complete", {}
    )
    edit(client, admin, first, estimate=5, title="Settle payouts")
    moment = clock().isoformat()
    clock.advance(timedelta(hours=2))
    send(client, admin, "POST", f"/v1/goals/{goal_id}/close", {"outcome": "achieved"})
    assign(client, admin, waiting, me)
    paths = [f"/v1/views/queue/{me}", f"/v1/views/queue/{bob}"]
    live = [read(client, runtime, admin, path) for path in paths]
    live_then = [read(client, runtime, admin, path, as_of=moment) for path in paths]
    paged = read(client, runtime, admin, paths[0], limit=3)

    rebuild(runtime.store, runtime.backend, PROJECTION)

    assert [read(client, runtime, admin, path) for path in paths] == live
    assert [read(client, runtime, admin, path, as_of=moment) for path in paths] == live_then
    assert read(client, runtime, admin, paths[0], limit=3) == paged
