"""Projects over HTTP: every command, its events, and the rules it enforces."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from fastapi.testclient import TestClient

from domain.project import MilestoneAdded, ProjectCreated
from services.app import Runtime
from tests.api.conftest import Org
from tests.api.helpers import (
    Headers,
    assert_accepted,
    assert_problem,
    assert_recorded_by,
    create_goal,
    create_member,
    create_project,
    events_after,
    last_position,
    project_body,
    set_project_status,
    types,
    unknown_id,
)


def test_creating_a_project_answers_201_and_records_its_upper_cased_key(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org, now: datetime
) -> None:
    before = last_position(runtime)

    response = client.post(
        "/v1/projects", json=project_body(org.member_id, org.team_id, key=" pay "), headers=admin
    )

    body = assert_accepted(response, 201)
    assert body["version"] == 1
    [event] = events_after(runtime, before)
    assert isinstance(event.data, ProjectCreated)
    assert event.data.project_id == UUID(body["id"])
    assert event.data.key == "PAY"
    assert event.data.name == "Payments v2"
    assert event.data.owner_id == UUID(org.member_id)
    assert event.data.team_id == UUID(org.team_id)
    assert (event.data.start_date, event.data.target_date) == (
        date(2026, 3, 1),
        date(2026, 6, 30),
    )
    assert_recorded_by([event], "system", now)


def test_a_project_created_with_goals_records_a_link_to_each(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    goal_id = create_goal(client, admin, org.member_id)
    before = last_position(runtime)

    response = client.post(
        "/v1/projects",
        json=project_body(org.member_id, org.team_id, goal_ids=[goal_id, goal_id]),
        headers=admin,
    )

    assert assert_accepted(response, 201)["version"] == 2
    events = events_after(runtime, before)
    assert types(events) == ["ProjectCreated", "ProjectGoalLinked"]
    assert events[1].data.goal_id == UUID(goal_id)


def test_updating_a_project_renames_and_reschedules_it(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)
    before = last_position(runtime)

    response = client.patch(
        f"/v1/projects/{project_id}",
        json={"name": "Payouts", "target_date": "2026-07-31"},
        headers=admin,
    )

    assert assert_accepted(response, 200)["version"] == 3
    events = events_after(runtime, before)
    assert types(events) == ["ProjectRenamed", "ProjectRescheduled"]
    assert events[0].data.name == "Payouts"
    assert (events[1].data.start_date, events[1].data.target_date) == (
        date(2026, 3, 1),
        date(2026, 7, 31),
    )


def test_changing_a_project_status_records_project_status_changed(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org, now: datetime
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)
    before = last_position(runtime)

    response = client.post(
        f"/v1/projects/{project_id}/status", json={"status": "active"}, headers=admin
    )

    assert assert_accepted(response, 200) == {
        "id": project_id,
        "version": 2,
        "position": before + 1,
    }
    events = events_after(runtime, before)
    assert types(events) == ["ProjectStatusChanged"]
    assert events[0].data.status == "active"
    assert_recorded_by(events, "system", now)


def test_posting_project_health_records_it_with_its_note_by_the_member(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org, member: Headers
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)
    before = last_position(runtime)

    response = client.post(
        f"/v1/projects/{project_id}/health",
        json={"health": "at_risk", "note": "vendor is late"},
        headers=member,
    )

    assert_accepted(response, 200)
    [event] = events_after(runtime, before)
    assert event.type == "ProjectHealthPosted"
    assert (event.data.health, event.data.note) == ("at_risk", "vendor is late")
    assert event.metadata.actor == org.member_id


def test_adding_a_milestone_answers_its_id_and_records_milestone_added(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)
    before = last_position(runtime)

    response = client.post(
        f"/v1/projects/{project_id}/milestones",
        json={"name": "Beta", "due_date": "2026-04-15"},
        headers=admin,
    )

    # The route declares 201 but answers 200: see test_openapi.py.
    assert response.status_code in (200, 201)
    body = assert_accepted(response, response.status_code)
    assert body["id"] == project_id
    [event] = events_after(runtime, before)
    assert isinstance(event.data, MilestoneAdded)
    assert event.data.milestone_id == UUID(body["milestone_id"])
    assert (event.data.name, event.data.due_date) == ("Beta", date(2026, 4, 15))


def test_completing_a_milestone_records_milestone_completed(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)
    added = client.post(
        f"/v1/projects/{project_id}/milestones",
        json={"name": "Beta", "due_date": "2026-04-15"},
        headers=admin,
    )
    milestone_id = added.json()["milestone_id"]
    before = last_position(runtime)

    response = client.post(
        f"/v1/projects/{project_id}/milestones/{milestone_id}/complete", headers=admin
    )

    assert assert_accepted(response, 200)["version"] == 3
    [event] = events_after(runtime, before)
    assert event.type == "MilestoneCompleted"
    assert event.data.milestone_id == UUID(milestone_id)


def test_linking_a_project_to_a_goal_records_project_goal_linked(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)
    goal_id = create_goal(client, admin, org.member_id)
    before = last_position(runtime)

    response = client.post(
        f"/v1/projects/{project_id}/goals", json={"goal_id": goal_id}, headers=admin
    )

    assert_accepted(response, 200)
    [event] = events_after(runtime, before)
    assert event.type == "ProjectGoalLinked"
    assert event.data.goal_id == UUID(goal_id)


def test_a_second_project_with_the_same_key_in_other_case_is_409_already_exists(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    create_project(client, admin, org.member_id, org.team_id, key="PAY")
    before = last_position(runtime)

    response = client.post(
        "/v1/projects", json=project_body(org.member_id, org.team_id, key="pay"), headers=admin
    )

    assert_problem(response, 409, "already_exists", field="key")
    assert events_after(runtime, before) == []


def test_a_project_key_that_is_not_2_to_10_letters_or_digits_is_422_naming_key(
    client: TestClient, admin: Headers, org: Org
) -> None:
    for key in ("P", "1PAY", "PAY-1", "ABCDEFGHIJK", ""):
        body = project_body(org.member_id, org.team_id, key=key)

        response = client.post("/v1/projects", json=body, headers=admin)

        assert_problem(response, 422, "validation_error", field="key")


def test_a_project_whose_target_is_before_its_start_is_422_naming_target_date(
    client: TestClient, admin: Headers, org: Org
) -> None:
    body = project_body(org.member_id, org.team_id, target_date="2026-02-01")

    response = client.post("/v1/projects", json=body, headers=admin)

    assert_problem(response, 422, "validation_error", field="target_date")


def test_a_project_of_an_unknown_team_is_404_naming_team_id(
    client: TestClient, admin: Headers, org: Org
) -> None:
    response = client.post(
        "/v1/projects", json=project_body(org.member_id, unknown_id()), headers=admin
    )

    assert_problem(response, 404, "not_found", field="team_id")


def test_a_project_owned_by_an_unknown_member_is_404_naming_owner_id(
    client: TestClient, admin: Headers, org: Org
) -> None:
    response = client.post(
        "/v1/projects", json=project_body(unknown_id(), org.team_id), headers=admin
    )

    assert_problem(response, 404, "not_found", field="owner_id")


def test_a_project_owned_by_a_deactivated_member_is_409_member_deactivated(
    client: TestClient, admin: Headers, org: Org
) -> None:
    owner_id = create_member(client, admin)
    client.post(f"/v1/members/{owner_id}/deactivate", headers=admin)

    response = client.post("/v1/projects", json=project_body(owner_id, org.team_id), headers=admin)

    assert_problem(response, 409, "member_deactivated", field="owner_id")


def test_a_project_created_with_an_unknown_goal_is_404_naming_goal_ids(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    body = project_body(org.member_id, org.team_id, goal_ids=[unknown_id()])

    response = client.post("/v1/projects", json=body, headers=admin)

    assert_problem(response, 404, "not_found", field="goal_ids")


def test_linking_a_project_to_an_unknown_goal_is_404_naming_goal_id(
    client: TestClient, admin: Headers, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)

    response = client.post(
        f"/v1/projects/{project_id}/goals", json={"goal_id": unknown_id()}, headers=admin
    )

    assert_problem(response, 404, "not_found", field="goal_id")


def test_a_command_on_an_unknown_project_is_404_naming_project_id(
    client: TestClient, admin: Headers
) -> None:
    response = client.post(
        f"/v1/projects/{unknown_id()}/status", json={"status": "active"}, headers=admin
    )

    assert_problem(response, 404, "not_found", field="project_id")


def test_completing_a_proposed_project_is_409_invalid_transition(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)
    before = last_position(runtime)

    response = client.post(
        f"/v1/projects/{project_id}/status", json={"status": "completed"}, headers=admin
    )

    assert_problem(response, 409, "invalid_transition")
    assert events_after(runtime, before) == []


def test_reopening_a_completed_project_is_409_invalid_transition(
    client: TestClient, admin: Headers, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)
    set_project_status(client, admin, project_id, "active", "completed")

    response = client.post(
        f"/v1/projects/{project_id}/status", json={"status": "active"}, headers=admin
    )

    assert_problem(response, 409, "invalid_transition")


def test_a_project_status_outside_the_lifecycle_is_422_naming_status(
    client: TestClient, admin: Headers, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)

    response = client.post(
        f"/v1/projects/{project_id}/status", json={"status": "done"}, headers=admin
    )

    assert_problem(response, 422, "validation_error", field="status")


def test_a_milestone_in_a_cancelled_project_is_409_project_closed(
    client: TestClient, admin: Headers, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)
    set_project_status(client, admin, project_id, "cancelled")

    response = client.post(
        f"/v1/projects/{project_id}/milestones",
        json={"name": "Beta", "due_date": "2026-04-15"},
        headers=admin,
    )

    assert_problem(response, 409, "project_closed")


def test_completing_an_unknown_milestone_is_404_naming_milestone_id(
    client: TestClient, admin: Headers, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)

    response = client.post(
        f"/v1/projects/{project_id}/milestones/{unknown_id()}/complete", headers=admin
    )

    assert_problem(response, 404, "not_found", field="milestone_id")


def test_a_health_outside_the_scale_is_422_naming_health(
    client: TestClient, admin: Headers, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)

    response = client.post(
        f"/v1/projects/{project_id}/health", json={"health": "green"}, headers=admin
    )

    assert_problem(response, 422, "validation_error", field="health")
