"""Issues over HTTP: every command, its events, and the rules of the workflow and the graph."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from fastapi.testclient import TestClient

from domain.issue import IssueCommented, IssueCreated, IssueTransitioned
from services.app import Runtime
from tests.api.conftest import Org
from tests.api.helpers import (
    Headers,
    assert_accepted,
    assert_problem,
    assert_recorded_by,
    create_goal,
    create_issue,
    create_member,
    create_project,
    events_after,
    issue_body,
    last_position,
    log,
    set_project_status,
    stream,
    transition,
    types,
    unknown_id,
)

# Creating


def test_creating_a_task_answers_201_and_records_it_in_the_backlog_by_the_member(
    client: TestClient, runtime: Runtime, org: Org, member: Headers, now: datetime
) -> None:
    before = last_position(runtime)

    response = client.post(
        "/v1/issues",
        json=issue_body(
            org.team_id,
            description="Payouts that fail are lost",
            priority="high",
            estimate=3,
            due_date="2026-03-20",
            labels=["payments", " payouts ", "payments"],
            assignee_id=org.member_id,
        ),
        headers=member,
    )

    body = assert_accepted(response, 201)
    assert body["version"] == 1
    assert "key" not in body
    [event] = events_after(runtime, before)
    created = event.data
    assert isinstance(created, IssueCreated)
    assert created.issue_id == UUID(body["id"])
    assert (created.kind, created.status, created.priority) == ("task", "backlog", "high")
    assert created.title == "Retry failed payouts"
    assert created.description == "Payouts that fail are lost"
    assert created.team_id == UUID(org.team_id)
    assert (created.estimate, created.due_date) == (3, date(2026, 3, 20))
    assert created.labels == ("payments", "payouts")
    assert created.assignee_id == UUID(org.member_id)
    assert created.project_id is None
    assert created.key is None
    assert_recorded_by([event], org.member_id, now)


def test_unplanned_work_starts_in_triage(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    for kind in ("bug", "incident", "request"):
        issue_id = create_issue(client, admin, org.team_id, kind=kind)

        [event] = stream(runtime, issue_id)
        assert (event.data.kind, event.data.status) == (kind, "triage")


def test_an_incident_records_its_severity(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id, kind="incident", severity="sev2")

    [event] = stream(runtime, issue_id)
    assert event.data.severity == "sev2"


def test_issues_in_a_project_get_consecutive_keys_like_pay_1(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id, key="PAY")
    before = last_position(runtime)

    first = client.post(
        "/v1/issues", json=issue_body(org.team_id, project_id=project_id), headers=admin
    )
    second = client.post(
        "/v1/issues", json=issue_body(org.team_id, project_id=project_id), headers=admin
    )

    assert assert_accepted(first, 201)["key"] == "PAY-1"
    assert assert_accepted(second, 201)["key"] == "PAY-2"
    events = events_after(runtime, before)
    assert types(events) == ["ProjectIssueAdded", "IssueCreated"] * 2
    assert [e.data.number for e in events if e.type == "ProjectIssueAdded"] == [1, 2]
    assert [e.data.key for e in events if e.type == "IssueCreated"] == ["PAY-1", "PAY-2"]
    assert events[0].stream_id == UUID(project_id)
    assert events[1].data.project_id == UUID(project_id)
    assert first.json()["position"] == events[1].position


def test_an_issue_created_with_a_parent_and_goals_records_them(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    parent_id = create_issue(client, admin, org.team_id)
    goal_id = create_goal(client, admin, org.member_id)

    issue_id = create_issue(
        client, admin, org.team_id, parent_id=parent_id, goal_ids=[goal_id, goal_id]
    )

    [event] = stream(runtime, issue_id)
    assert event.data.parent_id == UUID(parent_id)
    assert event.data.goal_ids == (UUID(goal_id),)


# Changing


def test_editing_an_issue_records_one_event_per_changed_field(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org, now: datetime
) -> None:
    issue_id = create_issue(client, admin, org.team_id, kind="incident", estimate=3)
    before = last_position(runtime)

    response = client.patch(
        f"/v1/issues/{issue_id}",
        json={
            "title": "Payouts fail for EUR",
            "description": "Since the upgrade",
            "priority": "urgent",
            "severity": "sev1",
            "estimate": None,
            "due_date": "2026-03-05",
            "labels": ["eur"],
        },
        headers=admin,
    )

    body = assert_accepted(response, 200)
    assert body["version"] == 8
    events = events_after(runtime, before)
    assert types(events) == [
        "IssueRetitled",
        "IssueDescriptionChanged",
        "IssuePriorityChanged",
        "IssueSeverityChanged",
        "IssueEstimated",
        "IssueDueDateChanged",
        "IssueLabelsChanged",
    ]
    assert [e.data for e in events][4].estimate is None
    assert events[6].data.labels == ("eur",)
    assert body["position"] == events[-1].position
    assert_recorded_by(events, "system", now)


def test_an_edit_that_changes_nothing_answers_the_current_version_and_records_nothing(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    before = last_position(runtime)

    response = client.patch(
        f"/v1/issues/{issue_id}", json={"title": "Retry failed payouts"}, headers=admin
    )

    assert assert_accepted(response, 200) == {"id": issue_id, "version": 1, "position": before}
    assert events_after(runtime, before) == []


def test_moving_an_issue_under_a_parent_records_issue_parent_changed(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    parent_id = create_issue(client, admin, org.team_id)
    issue_id = create_issue(client, admin, org.team_id)
    before = last_position(runtime)

    response = client.patch(f"/v1/issues/{issue_id}", json={"parent_id": parent_id}, headers=admin)

    assert_accepted(response, 200)
    [event] = events_after(runtime, before)
    assert event.type == "IssueParentChanged"
    assert event.data.parent_id == UUID(parent_id)


def test_assigning_an_issue_records_issue_assigned(
    client: TestClient, runtime: Runtime, org: Org, member: Headers, now: datetime
) -> None:
    issue_id = create_issue(client, member, org.team_id)
    before = last_position(runtime)

    response = client.post(
        f"/v1/issues/{issue_id}/assign", json={"assignee_id": org.member_id}, headers=member
    )

    assert assert_accepted(response, 200)["version"] == 2
    events = events_after(runtime, before)
    assert types(events) == ["IssueAssigned"]
    assert events[0].data.assignee_id == UUID(org.member_id)
    assert_recorded_by(events, org.member_id, now)


def test_assigning_an_issue_to_null_unassigns_it(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id, assignee_id=org.member_id)
    before = last_position(runtime)

    response = client.post(
        f"/v1/issues/{issue_id}/assign", json={"assignee_id": None}, headers=admin
    )

    assert_accepted(response, 200)
    assert types(events_after(runtime, before)) == ["IssueUnassigned"]


def test_transitioning_an_issue_records_where_it_came_from_and_went(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org, now: datetime
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    before = last_position(runtime)

    response = client.post(
        f"/v1/issues/{issue_id}/transition", json={"status": "in_progress"}, headers=admin
    )

    assert assert_accepted(response, 200) == {"id": issue_id, "version": 2, "position": before + 1}
    [event] = events_after(runtime, before)
    assert isinstance(event.data, IssueTransitioned)
    assert (event.data.from_status, event.data.to_status) == ("backlog", "in_progress")
    assert_recorded_by([event], "system", now)


def test_an_issue_goes_through_the_whole_workflow_and_can_be_reopened(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id, kind="bug")

    transition(client, admin, issue_id, "todo", "in_progress", "in_review", "done", "todo")

    moves = [(e.data.from_status, e.data.to_status) for e in stream(runtime, issue_id)[1:]]
    assert moves == [
        ("triage", "todo"),
        ("todo", "in_progress"),
        ("in_progress", "in_review"),
        ("in_review", "done"),
        ("done", "todo"),
    ]


def test_blocking_an_issue_records_the_reason_and_unblocking_clears_it(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    before = last_position(runtime)

    blocked = client.post(
        f"/v1/issues/{issue_id}/block", json={"reason": "waiting on the bank"}, headers=admin
    )
    unblocked = client.post(f"/v1/issues/{issue_id}/unblock", headers=admin)

    assert assert_accepted(blocked, 200)["version"] == 2
    assert assert_accepted(unblocked, 200)["version"] == 3
    events = events_after(runtime, before)
    assert types(events) == ["IssueBlocked", "IssueUnblocked"]
    assert events[0].data.reason == "waiting on the bank"


def test_adding_a_dependency_records_issue_dependency_added(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    blocker_id = create_issue(client, admin, org.team_id)
    before = last_position(runtime)

    response = client.post(
        f"/v1/issues/{issue_id}/dependencies", json={"blocked_by_id": blocker_id}, headers=admin
    )

    assert assert_accepted(response, 200)["id"] == issue_id
    [event] = events_after(runtime, before)
    assert event.type == "IssueDependencyAdded"
    assert event.stream_id == UUID(issue_id)
    assert event.data.blocked_by_id == UUID(blocker_id)


def test_removing_a_dependency_records_issue_dependency_removed(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    blocker_id = create_issue(client, admin, org.team_id)
    client.post(
        f"/v1/issues/{issue_id}/dependencies", json={"blocked_by_id": blocker_id}, headers=admin
    )
    before = last_position(runtime)

    response = client.delete(f"/v1/issues/{issue_id}/dependencies/{blocker_id}", headers=admin)

    assert assert_accepted(response, 200)["version"] == 3
    [event] = events_after(runtime, before)
    assert event.type == "IssueDependencyRemoved"
    assert event.data.blocked_by_id == UUID(blocker_id)


def test_linking_an_issue_to_a_goal_and_as_affecting_a_project_records_both_links(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    goal_id = create_goal(client, admin, org.member_id)
    project_id = create_project(client, admin, org.member_id, org.team_id)
    before = last_position(runtime)

    to_goal = client.post(
        f"/v1/issues/{issue_id}/links", json={"kind": "goal", "target_id": goal_id}, headers=admin
    )
    affects = client.post(
        f"/v1/issues/{issue_id}/links",
        json={"kind": "affects", "target_id": project_id},
        headers=admin,
    )

    assert_accepted(to_goal, 200)
    assert assert_accepted(affects, 200)["version"] == 3
    events = events_after(runtime, before)
    assert [(e.type, e.data.kind, e.data.target_id, e.data.target_kind) for e in events] == [
        ("IssueLinked", "goal", UUID(goal_id), "goal"),
        ("IssueLinked", "affects", UUID(project_id), "project"),
    ]


def test_unlinking_an_issue_records_issue_unlinked(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    goal_id = create_goal(client, admin, org.member_id)
    issue_id = create_issue(client, admin, org.team_id, goal_ids=[goal_id])
    before = last_position(runtime)

    response = client.delete(f"/v1/issues/{issue_id}/links/goal/{goal_id}", headers=admin)

    assert assert_accepted(response, 200)["version"] == 2
    [event] = events_after(runtime, before)
    assert event.type == "IssueUnlinked"
    assert (event.data.kind, event.data.target_id) == ("goal", UUID(goal_id))


def test_commenting_answers_the_comment_id_and_records_the_member_as_author(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org, member: Headers
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    before = last_position(runtime)

    response = client.post(
        f"/v1/issues/{issue_id}/comments", json={"body": "  Seen it again today "}, headers=member
    )

    # The route declares 201 but answers 200: see test_openapi.py.
    assert response.status_code in (200, 201)
    body = assert_accepted(response, response.status_code)
    assert body["id"] == issue_id
    [event] = events_after(runtime, before)
    assert isinstance(event.data, IssueCommented)
    assert event.data.comment_id == UUID(body["comment_id"])
    assert event.data.author == org.member_id
    assert event.data.body == "Seen it again today"


def test_watching_and_unwatching_an_issue_records_both(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    before = last_position(runtime)

    watched = client.post(
        f"/v1/issues/{issue_id}/watchers", json={"member_id": org.member_id}, headers=admin
    )
    unwatched = client.delete(f"/v1/issues/{issue_id}/watchers/{org.member_id}", headers=admin)

    assert assert_accepted(watched, 200)["version"] == 2
    assert assert_accepted(unwatched, 200)["version"] == 3
    events = events_after(runtime, before)
    assert types(events) == ["IssueWatcherAdded", "IssueWatcherRemoved"]
    assert {e.data.member_id for e in events} == {UUID(org.member_id)}


# The workflow


def test_a_move_outside_the_workflow_is_409_invalid_transition_and_writes_nothing(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    before = last_position(runtime)

    response = client.post(
        f"/v1/issues/{issue_id}/transition", json={"status": "done"}, headers=admin
    )

    assert_problem(response, 409, "invalid_transition", field="status")
    assert events_after(runtime, before) == []


def test_a_done_issue_can_only_be_reopened_to_todo(
    client: TestClient, admin: Headers, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    transition(client, admin, issue_id, "in_progress", "done")

    for status in ("triage", "backlog", "in_progress", "in_review", "done", "cancelled"):
        response = client.post(
            f"/v1/issues/{issue_id}/transition", json={"status": status}, headers=admin
        )
        assert_problem(response, 409, "invalid_transition", field="status")


def test_a_status_that_does_not_exist_is_422_naming_status(
    client: TestClient, admin: Headers, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)

    response = client.post(
        f"/v1/issues/{issue_id}/transition", json={"status": "blocked"}, headers=admin
    )

    assert_problem(response, 422, "validation_error", field="status")


# The graph


def test_an_issue_blocked_by_itself_is_409_dependency_cycle(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    before = last_position(runtime)

    response = client.post(
        f"/v1/issues/{issue_id}/dependencies", json={"blocked_by_id": issue_id}, headers=admin
    )

    assert_problem(response, 409, "dependency_cycle", field="blocked_by_id")
    assert events_after(runtime, before) == []


def test_a_dependency_closing_a_loop_a_b_a_is_409_dependency_cycle(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    a = create_issue(client, admin, org.team_id)
    b = create_issue(client, admin, org.team_id)
    assert_accepted(
        client.post(f"/v1/issues/{a}/dependencies", json={"blocked_by_id": b}, headers=admin), 200
    )
    before = last_position(runtime)

    response = client.post(f"/v1/issues/{b}/dependencies", json={"blocked_by_id": a}, headers=admin)

    assert_problem(response, 409, "dependency_cycle", field="blocked_by_id")
    assert events_after(runtime, before) == []


def test_a_dependency_closing_a_longer_loop_is_409_dependency_cycle(
    client: TestClient, admin: Headers, org: Org
) -> None:
    a, b, c = (create_issue(client, admin, org.team_id) for _ in range(3))
    for waiter, blocker in ((a, b), (b, c)):
        response = client.post(
            f"/v1/issues/{waiter}/dependencies", json={"blocked_by_id": blocker}, headers=admin
        )
        assert_accepted(response, 200)

    response = client.post(f"/v1/issues/{c}/dependencies", json={"blocked_by_id": a}, headers=admin)

    assert_problem(response, 409, "dependency_cycle", field="blocked_by_id")


def test_a_dependency_on_an_unknown_issue_is_404_naming_blocked_by_id(
    client: TestClient, admin: Headers, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)

    response = client.post(
        f"/v1/issues/{issue_id}/dependencies", json={"blocked_by_id": unknown_id()}, headers=admin
    )

    assert_problem(response, 404, "not_found", field="blocked_by_id")


def test_removing_a_dependency_that_does_not_exist_is_404(
    client: TestClient, admin: Headers, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    other_id = create_issue(client, admin, org.team_id)

    response = client.delete(f"/v1/issues/{issue_id}/dependencies/{other_id}", headers=admin)

    assert_problem(response, 404, "not_found", field="blocked_by_id")


def test_moving_an_issue_under_its_own_sub_issue_is_409_parent_cycle(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    parent_id = create_issue(client, admin, org.team_id)
    child_id = create_issue(client, admin, org.team_id, parent_id=parent_id)
    grandchild_id = create_issue(client, admin, org.team_id, parent_id=child_id)
    before = last_position(runtime)

    response = client.patch(
        f"/v1/issues/{parent_id}", json={"parent_id": grandchild_id}, headers=admin
    )

    assert_problem(response, 409, "parent_cycle", field="parent_id")
    assert events_after(runtime, before) == []


def test_an_issue_as_its_own_parent_is_409_parent_cycle(
    client: TestClient, admin: Headers, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)

    response = client.patch(f"/v1/issues/{issue_id}", json={"parent_id": issue_id}, headers=admin)

    assert_problem(response, 409, "parent_cycle", field="parent_id")


def test_a_goal_link_to_a_project_is_422_naming_target_id(
    client: TestClient, admin: Headers, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    project_id = create_project(client, admin, org.member_id, org.team_id)

    response = client.post(
        f"/v1/issues/{issue_id}/links",
        json={"kind": "goal", "target_id": project_id},
        headers=admin,
    )

    assert_problem(response, 422, "validation_error", field="target_id")


def test_a_link_to_an_unknown_object_is_404_naming_target_id(
    client: TestClient, admin: Headers, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)

    response = client.post(
        f"/v1/issues/{issue_id}/links",
        json={"kind": "affects", "target_id": unknown_id()},
        headers=admin,
    )

    assert_problem(response, 404, "not_found", field="target_id")


def test_removing_a_link_that_does_not_exist_is_404_naming_target_id(
    client: TestClient, admin: Headers, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)

    response = client.delete(f"/v1/issues/{issue_id}/links/affects/{unknown_id()}", headers=admin)

    assert_problem(response, 404, "not_found", field="target_id")


# People and projects


def test_assigning_to_a_deactivated_member_is_409_member_deactivated_and_writes_nothing(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    gone_id = create_member(client, admin)
    client.post(f"/v1/members/{gone_id}/deactivate", headers=admin)
    before = last_position(runtime)

    response = client.post(
        f"/v1/issues/{issue_id}/assign", json={"assignee_id": gone_id}, headers=admin
    )

    assert_problem(response, 409, "member_deactivated", field="assignee_id")
    assert events_after(runtime, before) == []


def test_creating_an_issue_for_a_deactivated_member_is_409_member_deactivated(
    client: TestClient, admin: Headers, org: Org
) -> None:
    gone_id = create_member(client, admin)
    client.post(f"/v1/members/{gone_id}/deactivate", headers=admin)

    response = client.post(
        "/v1/issues", json=issue_body(org.team_id, assignee_id=gone_id), headers=admin
    )

    assert_problem(response, 409, "member_deactivated", field="assignee_id")


def test_assigning_to_an_unknown_member_is_404_naming_assignee_id(
    client: TestClient, admin: Headers, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)

    response = client.post(
        f"/v1/issues/{issue_id}/assign", json={"assignee_id": unknown_id()}, headers=admin
    )

    assert_problem(response, 404, "not_found", field="assignee_id")


def test_an_issue_in_a_completed_project_is_409_project_closed_and_writes_nothing(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)
    set_project_status(client, admin, project_id, "active", "completed")
    before = last_position(runtime)

    response = client.post(
        "/v1/issues", json=issue_body(org.team_id, project_id=project_id), headers=admin
    )

    assert_problem(response, 409, "project_closed")
    assert events_after(runtime, before) == []


def test_unknown_ids_in_the_body_of_a_new_issue_are_404_naming_the_field(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    cases = {
        "team_id": issue_body(unknown_id()),
        "project_id": issue_body(org.team_id, project_id=unknown_id()),
        "parent_id": issue_body(org.team_id, parent_id=unknown_id()),
        "goal_ids": issue_body(org.team_id, goal_ids=[unknown_id()]),
        "assignee_id": issue_body(org.team_id, assignee_id=unknown_id()),
    }
    before = last_position(runtime)

    for field, body in cases.items():
        response = client.post("/v1/issues", json=body, headers=admin)

        assert_problem(response, 404, "not_found", field=field)
    assert events_after(runtime, before) == []


def test_a_command_on_an_unknown_issue_is_404_naming_issue_id(
    client: TestClient, admin: Headers
) -> None:
    response = client.post(
        f"/v1/issues/{unknown_id()}/transition", json={"status": "todo"}, headers=admin
    )

    assert_problem(response, 404, "not_found", field="issue_id")


# Input


def test_a_negative_estimate_is_422_naming_estimate(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    before = last_position(runtime)

    created = client.post("/v1/issues", json=issue_body(org.team_id, estimate=-1), headers=admin)
    edited = client.patch(f"/v1/issues/{issue_id}", json={"estimate": -0.5}, headers=admin)

    assert_problem(created, 422, "validation_error", field="estimate")
    assert_problem(edited, 422, "validation_error", field="estimate")
    assert events_after(runtime, before) == []


def test_an_unknown_field_is_422_naming_it(client: TestClient, admin: Headers, org: Org) -> None:
    response = client.post("/v1/issues", json=issue_body(org.team_id, colour="red"), headers=admin)

    problem = assert_problem(response, 422, "validation_error", field="colour")
    assert problem["errors"] == [{"field": "colour", "message": "Extra inputs are not permitted"}]


def test_a_kind_that_does_not_exist_is_422_naming_kind(
    client: TestClient, admin: Headers, org: Org
) -> None:
    response = client.post("/v1/issues", json=issue_body(org.team_id, kind="epic"), headers=admin)

    assert_problem(response, 422, "validation_error", field="kind")


def test_a_priority_that_does_not_exist_is_422_naming_priority(
    client: TestClient, admin: Headers, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)

    response = client.patch(f"/v1/issues/{issue_id}", json={"priority": "p0"}, headers=admin)

    assert_problem(response, 422, "validation_error", field="priority")


def test_an_issue_without_a_title_or_team_is_422_naming_both(
    client: TestClient, admin: Headers
) -> None:
    response = client.post("/v1/issues", json={"kind": "task"}, headers=admin)

    problem = assert_problem(response, 422, "validation_error", field="title")
    assert {e["field"] for e in problem["errors"]} == {"title", "team_id"}


def test_a_title_over_500_characters_is_422_naming_title(
    client: TestClient, admin: Headers, org: Org
) -> None:
    response = client.post(
        "/v1/issues", json=issue_body(org.team_id, title="x" * 501), headers=admin
    )

    assert_problem(response, 422, "validation_error", field="title")


def test_more_than_50_labels_is_422_naming_labels(
    client: TestClient, admin: Headers, org: Org
) -> None:
    labels = [f"label-{n}" for n in range(51)]

    response = client.post("/v1/issues", json=issue_body(org.team_id, labels=labels), headers=admin)

    assert_problem(response, 422, "validation_error", field="labels")


def test_a_label_over_64_characters_is_422_naming_that_label(
    client: TestClient, admin: Headers, org: Org
) -> None:
    response = client.post(
        "/v1/issues", json=issue_body(org.team_id, labels=["ok", "x" * 65]), headers=admin
    )

    assert_problem(response, 422, "validation_error", field="labels.1")


def test_a_severity_on_a_task_is_422_naming_severity(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    response = client.post(
        "/v1/issues", json=issue_body(org.team_id, severity="sev1"), headers=admin
    )

    assert_problem(response, 422, "validation_error", field="severity")
    assert [e.type for e in log(runtime)].count("IssueCreated") == 0


def test_a_blank_comment_is_422_naming_body(client: TestClient, admin: Headers, org: Org) -> None:
    issue_id = create_issue(client, admin, org.team_id)

    response = client.post(f"/v1/issues/{issue_id}/comments", json={"body": "   "}, headers=admin)

    assert_problem(response, 422, "validation_error", field="body")


def test_an_issue_id_that_is_not_a_uuid_is_422_naming_issue_id(
    client: TestClient, admin: Headers
) -> None:
    response = client.post("/v1/issues/PAY-1/transition", json={"status": "todo"}, headers=admin)

    assert_problem(response, 422, "validation_error", field="issue_id")
