"""The team workload view over HTTP: given these commands (and so these events), then this view.

The clock is frozen at Monday 2026-03-02 09:00 UTC (ISO week 2026-W10), so "today" is
2026-03-02, upcoming occurrences are those due 2026-03-02 to 2026-03-15, and throughput covers
the ISO weeks 2026-W03 to 2026-W10. A scheduler tick schedules occurrences up to 2026-03-16.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contracts.views.workload import TeamWorkloadDetail, WorkloadPage
from services.app import Runtime, build_runtime
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from services.projections.runner import rebuild
from services.projections.views.workload import PROJECTION
from tests.api.conftest import ReusableApp
from tests.api.helpers import (
    Headers,
    assert_problem,
    create_issue,
    create_operation,
    create_team,
    created,
    transition,
    unknown_id,
)
from tests.conftest import FrozenClock

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


# Commands and reads


def send(client: TestClient, headers: Headers, method: str, path: str, body: Any = None) -> None:
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text


def add_member(
    client: TestClient,
    headers: Headers,
    *team_ids: str,
    capacity: float = 20,
    name: str = "Ada Lovelace",
    role: str = "member",
) -> str:
    body = {
        "name": name,
        "email": f"{uuid.uuid4().hex[:12]}@example.com",
        "role": role,
        "weekly_capacity": capacity,
        "team_ids": list(team_ids),
    }
    return created(client.post("/v1/members", json=body, headers=headers))


def assign(client: TestClient, headers: Headers, issue_id: str, member_id: str | None) -> None:
    send(client, headers, "POST", f"/v1/issues/{issue_id}/assign", {"assignee_id": member_id})


def tick(client: TestClient, headers: Headers) -> None:
    send(client, headers, "POST", "/v1/operations/tick", {})


def settle(client: TestClient, headers: Headers, operation_id: str, day: str, how: str) -> None:
    """Completes or skips (``how``) the operation's occurrence due on ``day``."""
    send(client, headers, "POST", f"/v1/operations/{operation_id}/occurrences/{day}/{how}", {})


def caught_up(runtime: Runtime) -> int:
    """Applies every event written so far to the view; the last position."""
    for worker in runtime.workers:
        worker.catch_up()
    return runtime.store.last_position()


def read(client: TestClient, runtime: Runtime, headers: Headers, path: str, **params: Any) -> Any:
    """The view at ``path``, once it has applied every event written so far."""
    caught_up(runtime)
    query = {"min_position": runtime.store.last_position(), **params}
    response = client.get(path, params=query, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    # The answer is written without the model: it must be exactly what the model describes.
    model = WorkloadPage if path == "/v1/views/workload" else TeamWorkloadDetail
    assert model.model_validate(answer).model_dump(mode="json") == answer
    return answer


def summary(client: TestClient, runtime: Runtime, headers: Headers, **params: Any) -> Any:
    return read(client, runtime, headers, "/v1/views/workload", **params)


def team_view(
    client: TestClient, runtime: Runtime, headers: Headers, team_id: str, **params: Any
) -> Any:
    return read(client, runtime, headers, f"/v1/views/workload/{team_id}", **params)


def member_in(team: Any, member_id: str) -> Any:
    return next(member for member in team["members"] if member["id"] == member_id)


def total(count: int, estimate: float) -> dict[str, Any]:
    return {"count": count, "estimate": estimate}


NOTHING = total(0, 0.0)


def weeks(team_or_member: Any) -> dict[str, tuple[int, float]]:
    """The weeks with any completed work: ISO week -> (completed, estimate)."""
    return {
        week["week"]: (week["completed"], week["estimate"])
        for week in team_or_member["throughput"]
        if week["completed"]
    }


# Teams and members


def test_given_a_new_team_then_it_has_no_work_no_members_and_no_capacity(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin, "Payments")

    team = team_view(client, runtime, admin, team_id)

    assert team["name"] == "Payments"
    assert team["members"] == []
    assert team["weekly_capacity"] == 0
    assert team["capacity_source"] == "members"
    assert team["load_ratio"] is None
    assert team["open_assigned"] == NOTHING
    assert team["today"] == "2026-03-02"
    assert [week["week"] for week in team["throughput"]] == [f"2026-W{n:02d}" for n in range(3, 11)]
    assert team["throughput"][0]["week_start"] == "2026-01-12"


def test_given_members_joining_a_team_then_its_capacity_is_the_sum_of_theirs(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id, capacity=20, name="Ada", role="manager")
    grace = add_member(client, admin, capacity=12.5, name="Grace")
    send(client, admin, "POST", f"/v1/teams/{team_id}/members", {"member_id": grace})

    team = team_view(client, runtime, admin, team_id)

    assert team["weekly_capacity"] == 32.5
    assert team["capacity_source"] == "members"
    assert (team["member_count"], team["active_member_count"]) == (2, 2)
    assert [
        (m["id"], m["name"], m["role"], m["weekly_capacity"], m["active"]) for m in team["members"]
    ] == [
        (ada, "Ada", "manager", 20, True),
        (grace, "Grace", "member", 12.5, True),
    ]


def test_given_a_team_capacity_set_then_it_overrides_the_members_until_cleared(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    add_member(client, admin, team_id, capacity=20)
    send(client, admin, "PATCH", f"/v1/teams/{team_id}", {"weekly_capacity": 50})

    own = team_view(client, runtime, admin, team_id)
    send(client, admin, "PATCH", f"/v1/teams/{team_id}", {"weekly_capacity": None})
    cleared = team_view(client, runtime, admin, team_id)

    assert (own["weekly_capacity"], own["capacity_source"]) == (50, "team")
    assert (cleared["weekly_capacity"], cleared["capacity_source"]) == (20, "members")


def test_given_a_team_renamed_then_the_summary_lists_it_under_its_new_name(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin, "Payments")
    create_team(client, admin, "Billing")
    send(client, admin, "PATCH", f"/v1/teams/{team_id}", {"name": "Acquiring"})

    teams = summary(client, runtime, admin)["items"]

    assert [team["name"] for team in teams] == ["Acquiring", "Billing"]
    assert teams[0]["id"] == team_id


def test_given_a_member_removed_from_a_team_then_it_is_no_longer_listed_or_counted(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    stays = add_member(client, admin, team_id, capacity=20)
    leaves = add_member(client, admin, team_id, capacity=10)
    send(client, admin, "DELETE", f"/v1/teams/{team_id}/members/{leaves}")

    team = team_view(client, runtime, admin, team_id)

    assert [member["id"] for member in team["members"]] == [stays]
    assert team["weekly_capacity"] == 20
    assert team["member_count"] == 1


def test_given_a_member_deactivated_then_it_is_flagged_and_its_capacity_leaves_the_team(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    add_member(client, admin, team_id, capacity=20, name="Ada")
    gone = add_member(client, admin, team_id, capacity=10, name="Bob")
    send(client, admin, "POST", f"/v1/members/{gone}/deactivate")

    deactivated = team_view(client, runtime, admin, team_id)
    send(client, admin, "POST", f"/v1/members/{gone}/reactivate")
    reactivated = team_view(client, runtime, admin, team_id)

    assert member_in(deactivated, gone)["active"] is False
    assert (deactivated["weekly_capacity"], deactivated["active_member_count"]) == (20, 1)
    assert deactivated["member_count"] == 2
    assert member_in(reactivated, gone)["active"] is True
    assert reactivated["weekly_capacity"] == 30


def test_given_a_member_renamed_given_a_new_role_and_capacity_then_the_team_shows_them(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    member_id = add_member(client, admin, team_id, capacity=20, name="Ada")
    send(
        client,
        admin,
        "PATCH",
        f"/v1/members/{member_id}",
        {"name": "Ada King", "role": "manager", "weekly_capacity": 16},
    )

    team = team_view(client, runtime, admin, team_id)

    member = member_in(team, member_id)
    assert (member["name"], member["role"], member["weekly_capacity"]) == (
        "Ada King",
        "manager",
        16,
    )
    assert team["weekly_capacity"] == 16


# Open work


def test_given_assigned_issues_then_team_and_member_show_open_work_estimate_and_load_ratio(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id, capacity=20)
    create_issue(client, admin, team_id, assignee_id=ada, estimate=3)
    create_issue(client, admin, team_id, assignee_id=ada, estimate=5)
    create_issue(client, admin, team_id, assignee_id=ada)

    team = team_view(client, runtime, admin, team_id)

    member = member_in(team, ada)
    assert member["open_assigned"] == total(3, 8)
    assert member["unestimated"] == 1
    assert member["load_ratio"] == 0.4
    assert team["open_assigned"] == total(3, 8)
    assert team["unestimated"] == 1
    assert team["load_ratio"] == 0.4


def test_given_a_member_with_no_capacity_then_the_load_ratio_is_null(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id, capacity=0)
    create_issue(client, admin, team_id, assignee_id=ada, estimate=3)

    team = team_view(client, runtime, admin, team_id)

    assert member_in(team, ada)["load_ratio"] is None
    assert team["load_ratio"] is None


def test_given_the_summary_and_one_team_in_full_then_they_agree_on_the_teams_figures(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id, capacity=20)
    gone = add_member(client, admin, team_id, capacity=10)
    left = add_member(client, admin, team_id, capacity=5)
    send(client, admin, "POST", f"/v1/members/{gone}/deactivate")
    send(client, admin, "DELETE", f"/v1/teams/{team_id}/members/{left}")
    create_issue(client, admin, team_id, assignee_id=ada, estimate=3, due_date="2026-02-20")
    create_issue(client, admin, team_id, "bug", estimate=2)
    create_operation(client, admin, team_id, ada, assignee_id=ada, estimate=1)
    tick(client, admin)

    listed = summary(client, runtime, admin)["items"][0]
    full = team_view(client, runtime, admin, team_id)

    assert listed == {name: full[name] for name in listed}
    assert listed["open_assigned"] == total(16, 18)
    assert (listed["weekly_capacity"], listed["member_count"]) == (20, 2)


def test_given_work_of_another_team_then_the_member_counts_it_but_this_team_does_not(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    payments = create_team(client, admin, "Payments")
    billing = create_team(client, admin, "Billing")
    ada = add_member(client, admin, payments, billing, capacity=20)
    create_issue(client, admin, payments, assignee_id=ada, estimate=3)
    create_issue(client, admin, billing, assignee_id=ada, estimate=5)

    team = team_view(client, runtime, admin, payments)

    assert team["open_assigned"] == total(1, 3)
    assert member_in(team, ada)["open_assigned"] == total(2, 8)


def test_given_an_unassigned_issue_then_it_is_team_backlog_until_assigned_and_again_when_unassigned(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id)
    issue_id = create_issue(client, admin, team_id, estimate=2)

    unassigned = team_view(client, runtime, admin, team_id)
    assign(client, admin, issue_id, ada)
    assigned = team_view(client, runtime, admin, team_id)
    assign(client, admin, issue_id, None)
    released = team_view(client, runtime, admin, team_id)

    assert (unassigned["unassigned_backlog"], unassigned["open_assigned"]) == (total(1, 2), NOTHING)
    assert (assigned["unassigned_backlog"], assigned["open_assigned"]) == (NOTHING, total(1, 2))
    assert member_in(assigned, ada)["open_assigned"] == total(1, 2)
    assert released["unassigned_backlog"] == total(1, 2)
    assert member_in(released, ada)["open_assigned"] == NOTHING


def test_given_an_issue_estimated_then_its_points_replace_the_old_ones(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id)
    issue_id = create_issue(client, admin, team_id, assignee_id=ada)
    send(client, admin, "PATCH", f"/v1/issues/{issue_id}", {"estimate": 0.5})
    create_issue(client, admin, team_id, assignee_id=ada, estimate=0.25)

    team = team_view(client, runtime, admin, team_id)

    assert team["open_assigned"] == total(2, 0.75)
    assert team["unestimated"] == 0
    assert member_in(team, ada)["open_assigned"] == total(2, 0.75)


def test_given_issues_moving_through_the_workflow_then_wip_is_progress_and_review_and_done_closes(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id)
    in_progress = create_issue(client, admin, team_id, assignee_id=ada, estimate=1)
    in_review = create_issue(client, admin, team_id, assignee_id=ada, estimate=2)
    done = create_issue(client, admin, team_id, assignee_id=ada, estimate=4)
    cancelled = create_issue(client, admin, team_id, assignee_id=ada, estimate=8)
    transition(client, admin, in_progress, "in_progress")
    transition(client, admin, in_review, "in_progress", "in_review")
    transition(client, admin, done, "in_progress", "done")
    transition(client, admin, cancelled, "cancelled")

    team = team_view(client, runtime, admin, team_id)

    assert team["work_in_progress"] == 2
    assert team["open_assigned"] == total(2, 3)
    assert member_in(team, ada)["work_in_progress"] == 2
    assert member_in(team, ada)["open_assigned"] == total(2, 3)


def test_given_a_reopened_issue_then_it_is_open_work_again(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id)
    issue_id = create_issue(client, admin, team_id, assignee_id=ada, estimate=3)
    transition(client, admin, issue_id, "cancelled", "todo")

    team = team_view(client, runtime, admin, team_id)

    assert team["open_assigned"] == total(1, 3)


def test_given_unplanned_issues_then_those_in_triage_are_untriaged_until_moved_on(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    create_issue(client, admin, team_id, "bug")
    create_issue(client, admin, team_id, "incident")
    triaged = create_issue(client, admin, team_id, "request")
    create_issue(client, admin, team_id, "task")
    transition(client, admin, triaged, "backlog")

    team = team_view(client, runtime, admin, team_id)

    assert team["untriaged"] == 2
    assert team["unassigned_backlog"]["count"] == 4


def test_given_due_dates_then_open_items_due_before_today_are_overdue(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id)
    create_issue(client, admin, team_id, assignee_id=ada, estimate=1, due_date="2026-03-01")
    create_issue(client, admin, team_id, estimate=2, due_date="2026-02-01")
    create_issue(client, admin, team_id, assignee_id=ada, estimate=4, due_date="2026-03-02")
    closed = create_issue(client, admin, team_id, assignee_id=ada, due_date="2026-02-01")
    transition(client, admin, closed, "cancelled")
    create_issue(client, admin, team_id, assignee_id=ada, estimate=8)

    team = team_view(client, runtime, admin, team_id)

    assert team["overdue"] == total(2, 3)
    assert member_in(team, ada)["overdue"] == total(1, 1)


def test_given_a_due_date_changed_then_overdue_follows_the_new_date(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id)
    slipped = create_issue(client, admin, team_id, assignee_id=ada, estimate=1)
    rescued = create_issue(client, admin, team_id, assignee_id=ada, due_date="2026-02-01")
    send(client, admin, "PATCH", f"/v1/issues/{slipped}", {"due_date": "2026-02-27"})
    send(client, admin, "PATCH", f"/v1/issues/{rescued}", {"due_date": None})

    team = team_view(client, runtime, admin, team_id)

    assert team["overdue"] == total(1, 1)
    assert member_in(team, ada)["overdue"] == total(1, 1)


def test_given_issues_blocked_and_unblocked_then_only_the_still_blocked_count(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id)
    blocked = create_issue(client, admin, team_id, assignee_id=ada)
    freed = create_issue(client, admin, team_id, assignee_id=ada)
    create_issue(client, admin, team_id)
    for issue_id in (blocked, freed):
        send(client, admin, "POST", f"/v1/issues/{issue_id}/block", {"reason": "vendor"})
    send(client, admin, "POST", f"/v1/issues/{freed}/unblock")

    team = team_view(client, runtime, admin, team_id)

    assert team["blocked"] == 1
    assert member_in(team, ada)["blocked"] == 1


# Operation occurrences


def test_given_occurrences_scheduled_then_they_are_open_work_and_the_next_14_days_are_upcoming(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id, capacity=20)
    create_operation(client, admin, team_id, ada, assignee_id=ada, estimate=0.5)
    create_operation(client, admin, team_id, ada, {"every": "week"}, estimate=2)
    tick(client, admin)

    team = team_view(client, runtime, admin, team_id)

    member = member_in(team, ada)
    assert member["open_assigned"] == total(15, 7.5)
    assert member["upcoming_occurrences"] == total(14, 7)
    assert member["load_ratio"] == 0.375
    assert team["upcoming_occurrences"] == total(16, 11)
    assert team["unassigned_backlog"] == total(3, 6)


def test_given_an_occurrence_past_its_due_date_then_it_is_overdue(
    client: TestClient, runtime: Runtime, admin: Headers, clock: FrozenClock
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id)
    create_operation(client, admin, team_id, ada, {"every": "week"}, assignee_id=ada, estimate=2)
    tick(client, admin)
    clock.advance(timedelta(days=8))

    team = team_view(client, runtime, admin, team_id)

    assert team["today"] == "2026-03-10"
    assert member_in(team, ada)["overdue"] == total(2, 4)
    assert team["overdue"] == total(2, 4)


def test_given_occurrences_completed_and_skipped_then_they_leave_open_work_and_completed_ones_count(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id)
    operation_id = create_operation(
        client, admin, team_id, ada, {"every": "week"}, assignee_id=ada, estimate=2
    )
    tick(client, admin)
    send(
        client, admin, "POST", f"/v1/operations/{operation_id}/occurrences/2026-03-02/complete", {}
    )
    settle(client, admin, operation_id, "2026-03-09", "skip")

    team = team_view(client, runtime, admin, team_id)

    assert team["open_assigned"] == total(1, 2)
    assert weeks(team) == {"2026-W10": (1, 2)}
    assert weeks(member_in(team, ada)) == {"2026-W10": (1, 2)}


# Throughput


def test_given_issues_done_in_different_weeks_then_throughput_counts_each_in_its_iso_week(
    client: TestClient, runtime: Runtime, admin: Headers, clock: FrozenClock
) -> None:
    team_id = create_team(client, admin)
    ada = add_member(client, admin, team_id)
    first = create_issue(client, admin, team_id, assignee_id=ada, estimate=3)
    second = create_issue(client, admin, team_id, assignee_id=ada, estimate=5)
    unassigned = create_issue(client, admin, team_id)
    transition(client, admin, first, "in_progress", "done")
    clock.advance(timedelta(days=7))
    transition(client, admin, second, "in_progress", "in_review", "done")
    transition(client, admin, unassigned, "in_progress", "done")
    cancelled = create_issue(client, admin, team_id, assignee_id=ada, estimate=1)
    transition(client, admin, cancelled, "cancelled")

    team = team_view(client, runtime, admin, team_id)

    assert weeks(team) == {"2026-W10": (1, 3), "2026-W11": (2, 5)}
    assert weeks(member_in(team, ada)) == {"2026-W10": (1, 3), "2026-W11": (1, 5)}
    assert team["throughput"][-1]["week"] == "2026-W11"


def test_given_work_done_more_than_8_weeks_ago_then_it_is_outside_the_throughput(
    client: TestClient, runtime: Runtime, admin: Headers, clock: FrozenClock
) -> None:
    team_id = create_team(client, admin)
    issue_id = create_issue(client, admin, team_id, estimate=3)
    transition(client, admin, issue_id, "in_progress", "done")
    clock.advance(timedelta(weeks=7))
    within = team_view(client, runtime, admin, team_id)
    clock.advance(timedelta(weeks=1))

    beyond = team_view(client, runtime, admin, team_id)

    assert weeks(within) == {"2026-W10": (1, 3)}
    assert weeks(beyond) == {}


# Reading


def test_given_an_unknown_team_then_the_view_answers_404(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    response = client.get(f"/v1/views/workload/{unknown_id()}", headers=admin)

    assert_problem(response, 404, "not_found")


def test_given_more_teams_than_a_page_then_the_cursor_walks_them_all_by_name(
    client: TestClient, runtime: Runtime, admin: Headers
) -> None:
    for name in ("Delta", "Alpha", "Charlie", "Bravo", "Echo"):
        create_team(client, admin, name)

    names: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = summary(client, runtime, admin, **params)
        names += [team["name"] for team in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert names == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]


@pytest.mark.parametrize("cursor", ["not-a-cursor", "WzFd"])
def test_given_a_cursor_this_api_never_gave_then_the_summary_answers_400(
    client: TestClient, admin: Headers, cursor: str
) -> None:
    response = client.get("/v1/views/workload", params={"cursor": cursor}, headers=admin)

    assert_problem(response, 400, "validation_error", field="cursor")


def test_given_a_past_moment_then_as_of_answers_the_workload_as_it_was(
    client: TestClient, runtime: Runtime, admin: Headers, clock: FrozenClock
) -> None:
    team_id = create_team(client, admin, "Payments")
    ada = add_member(client, admin, team_id, capacity=20, name="Ada")
    issue_id = create_issue(
        client, admin, team_id, assignee_id=ada, estimate=4, due_date="2026-03-04"
    )
    clock.advance(timedelta(days=3))
    then = clock().isoformat()
    before = team_view(client, runtime, admin, team_id)
    clock.advance(timedelta(hours=1))
    send(
        client, admin, "PATCH", f"/v1/teams/{team_id}", {"name": "Acquiring", "weekly_capacity": 8}
    )
    send(client, admin, "POST", f"/v1/members/{ada}/deactivate")
    transition(client, admin, issue_id, "in_progress", "done")
    create_issue(client, admin, team_id, estimate=1)

    as_of = team_view(client, runtime, admin, team_id, as_of=then)
    listed = summary(client, runtime, admin, as_of=then)["items"]

    assert as_of == before
    assert as_of["name"] == "Payments"
    assert as_of["open_assigned"] == total(1, 4)
    assert as_of["overdue"] == total(1, 4)
    assert weeks(as_of) == {}
    assert listed == [{name: before[name] for name in listed[0]}]


def test_given_a_moment_before_the_team_existed_then_as_of_answers_404(
    client: TestClient, runtime: Runtime, admin: Headers, clock: FrozenClock
) -> None:
    then = clock().isoformat()
    clock.advance(timedelta(minutes=1))
    team_id = create_team(client, admin)

    response = client.get(
        f"/v1/views/workload/{team_id}",
        params={"as_of": then, "min_position": caught_up(runtime)},
        headers=admin,
    )

    assert_problem(response, 404, "not_found")


def test_given_the_projection_rebuilt_from_zero_then_it_answers_exactly_as_the_live_one(
    client: TestClient, runtime: Runtime, admin: Headers, clock: FrozenClock
) -> None:
    team_id = create_team(client, admin)
    other_team = create_team(client, admin, "Billing")
    ada = add_member(client, admin, team_id, other_team, capacity=20)
    bob = add_member(client, admin, team_id, capacity=10)
    first = create_issue(client, admin, team_id, assignee_id=ada, estimate=3, due_date="2026-03-01")
    second = create_issue(client, admin, team_id, "bug", estimate=2)
    create_issue(client, admin, other_team, assignee_id=ada, estimate=1)
    operation_id = create_operation(client, admin, team_id, bob, assignee_id=bob, estimate=1)
    tick(client, admin)
    clock.advance(timedelta(days=1))
    transition(client, admin, first, "in_progress", "done")
    assign(client, admin, second, bob)
    send(client, admin, "POST", f"/v1/issues/{second}/block", {"reason": "vendor"})
    send(
        client, admin, "POST", f"/v1/operations/{operation_id}/occurrences/2026-03-02/complete", {}
    )
    send(client, admin, "POST", f"/v1/members/{bob}/deactivate")
    moment = clock().isoformat()
    clock.advance(timedelta(hours=2))
    send(client, admin, "PATCH", f"/v1/issues/{second}", {"estimate": 5})
    paths = [
        "/v1/views/workload",
        f"/v1/views/workload/{team_id}",
        f"/v1/views/workload/{other_team}",
    ]
    live = [read(client, runtime, admin, path) for path in paths]
    live_then = [read(client, runtime, admin, path, as_of=moment) for path in paths]

    rebuild(runtime.store, runtime.backend, PROJECTION)

    assert [read(client, runtime, admin, path) for path in paths] == live
    assert [read(client, runtime, admin, path, as_of=moment) for path in paths] == live_then
