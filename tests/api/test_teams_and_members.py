"""Teams and members over HTTP: every command, its events, and the rules it enforces."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi.testclient import TestClient

from domain.member import MemberRegistered
from domain.team import TeamCreated, TeamMemberAdded, WorkingAgreementUpdated
from services.app import Runtime
from tests.api.conftest import Org
from tests.api.helpers import (
    Headers,
    assert_accepted,
    assert_problem,
    assert_recorded_by,
    create_member,
    create_team,
    events_after,
    last_position,
    log,
    member_body,
    types,
    unknown_id,
)
from tests.conftest import bearer

# Teams


def test_creating_a_team_answers_201_and_records_team_created_by_system(
    client: TestClient, admin: Headers, runtime: Runtime, now: datetime
) -> None:
    response = client.post(
        "/v1/teams", json={"name": "  Payments ", "weekly_capacity": 40}, headers=admin
    )

    body = assert_accepted(response, 201)
    assert body["version"] == 1
    [event] = log(runtime)
    assert isinstance(event.data, TeamCreated)
    assert event.data.team_id == UUID(body["id"])
    assert event.data.name == "Payments"
    assert event.data.weekly_capacity == 40
    assert event.position == body["position"]
    assert_recorded_by([event], "system", now)


def test_a_command_by_a_member_bound_token_records_the_member_as_actor(
    client: TestClient, admin: Headers, runtime: Runtime, now: datetime
) -> None:
    team_id = create_team(client, admin)
    manager_id = create_member(client, admin, role="manager")
    lead = {"member_id": manager_id}
    assert client.post(f"/v1/teams/{team_id}/leads", json=lead, headers=admin).status_code == 200
    headers = bearer(runtime.tokens.create("manager", UUID(manager_id)))
    before = last_position(runtime)

    response = client.patch(f"/v1/teams/{team_id}", json={"name": "Platform"}, headers=headers)

    assert_accepted(response, 200)
    events = events_after(runtime, before)
    assert types(events) == ["TeamRenamed"]
    assert_recorded_by(events, manager_id, now)


def test_updating_a_team_renames_it_and_sets_its_capacity(
    client: TestClient, admin: Headers, runtime: Runtime, now: datetime
) -> None:
    team_id = create_team(client, admin)
    before = last_position(runtime)

    response = client.patch(
        f"/v1/teams/{team_id}", json={"name": "Payouts", "weekly_capacity": 30}, headers=admin
    )

    body = assert_accepted(response, 200)
    assert body == {"id": team_id, "version": 3, "position": body["position"]}
    events = events_after(runtime, before)
    assert types(events) == ["TeamRenamed", "TeamCapacitySet"]
    assert events[0].data.name == "Payouts"
    assert events[1].data.weekly_capacity == 30
    assert_recorded_by(events, "system", now)


def test_adding_a_member_to_a_team_records_team_member_added(
    client: TestClient, admin: Headers, runtime: Runtime, now: datetime
) -> None:
    team_id = create_team(client, admin)
    member_id = create_member(client, admin)
    before = last_position(runtime)

    response = client.post(
        f"/v1/teams/{team_id}/members", json={"member_id": member_id}, headers=admin
    )

    body = assert_accepted(response, 200)
    assert body["id"] == team_id
    assert body["version"] == 2
    [event] = events_after(runtime, before)
    assert isinstance(event.data, TeamMemberAdded)
    assert event.data.member_id == UUID(member_id)
    assert event.stream_id == UUID(team_id)
    assert_recorded_by([event], "system", now)


def test_removing_a_member_from_a_team_records_team_member_removed(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    before = last_position(runtime)

    response = client.delete(f"/v1/teams/{org.team_id}/members/{org.member_id}", headers=admin)

    assert_accepted(response, 200)
    [event] = events_after(runtime, before)
    assert event.type == "TeamMemberRemoved"
    assert event.data.member_id == UUID(org.member_id)


def test_setting_the_working_agreement_records_a_new_revision(
    client: TestClient, admin: Headers, runtime: Runtime, now: datetime
) -> None:
    team_id = create_team(client, admin)
    before = last_position(runtime)

    first = client.put(
        f"/v1/teams/{team_id}/working-agreement",
        json={"text": "Reviews within a day"},
        headers=admin,
    )
    second = client.put(
        f"/v1/teams/{team_id}/working-agreement",
        json={"text": "Reviews within hours"},
        headers=admin,
    )

    assert assert_accepted(first, 200)["version"] == 2
    assert assert_accepted(second, 200)["version"] == 3
    events = events_after(runtime, before)
    assert all(isinstance(event.data, WorkingAgreementUpdated) for event in events)
    assert [(e.data.text, e.data.revision) for e in events] == [
        ("Reviews within a day", 1),
        ("Reviews within hours", 2),
    ]
    assert_recorded_by(events[:1], "system", now)


def test_setting_the_definition_of_done_records_its_checklist(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    team_id = create_team(client, admin)
    before = last_position(runtime)

    response = client.put(
        f"/v1/teams/{team_id}/definition-of-done",
        json={"items": ["Tested", "Documented"]},
        headers=admin,
    )

    assert_accepted(response, 200)
    [event] = events_after(runtime, before)
    assert event.type == "DefinitionOfDoneUpdated"
    assert event.data.items == ("Tested", "Documented")


def test_a_command_on_an_unknown_team_is_404_naming_the_team(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    response = client.put(
        f"/v1/teams/{unknown_id()}/working-agreement", json={"text": "x"}, headers=admin
    )

    assert_problem(response, 404, "not_found", field="team_id")
    assert log(runtime) == []


def test_adding_an_unknown_member_to_a_team_is_404_naming_member_id(
    client: TestClient, admin: Headers
) -> None:
    team_id = create_team(client, admin)

    response = client.post(
        f"/v1/teams/{team_id}/members", json={"member_id": unknown_id()}, headers=admin
    )

    assert_problem(response, 404, "not_found", field="member_id")


def test_adding_a_deactivated_member_to_a_team_is_409_member_deactivated(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    team_id = create_team(client, admin)
    member_id = create_member(client, admin)
    assert client.post(f"/v1/members/{member_id}/deactivate", headers=admin).status_code == 200
    before = last_position(runtime)

    response = client.post(
        f"/v1/teams/{team_id}/members", json={"member_id": member_id}, headers=admin
    )

    assert_problem(response, 409, "member_deactivated", field="member_id")
    assert events_after(runtime, before) == []


def test_removing_someone_who_is_not_in_the_team_is_404_not_found(
    client: TestClient, admin: Headers
) -> None:
    team_id = create_team(client, admin)
    member_id = create_member(client, admin)

    response = client.delete(f"/v1/teams/{team_id}/members/{member_id}", headers=admin)

    assert_problem(response, 404, "not_found", field="member_id")


def test_a_negative_team_capacity_is_422_naming_weekly_capacity(
    client: TestClient, admin: Headers
) -> None:
    response = client.post(
        "/v1/teams", json={"name": "Payments", "weekly_capacity": -1}, headers=admin
    )

    assert_problem(response, 422, "validation_error", field="weekly_capacity")


def test_a_blank_team_name_is_422_naming_name(client: TestClient, admin: Headers) -> None:
    response = client.post("/v1/teams", json={"name": "   "}, headers=admin)

    assert_problem(response, 422, "validation_error", field="name")


# Members


def test_creating_a_member_registers_them_with_a_lowercased_email_and_joins_their_teams(
    client: TestClient, admin: Headers, runtime: Runtime, now: datetime
) -> None:
    team_id = create_team(client, admin)
    before = last_position(runtime)

    response = client.post(
        "/v1/members",
        json=member_body("Ada@Example.COM", role="manager", team_ids=[team_id]),
        headers=admin,
    )

    body = assert_accepted(response, 201)
    events = events_after(runtime, before)
    assert types(events) == ["MemberRegistered", "TeamMemberAdded"]
    registered = events[0].data
    assert isinstance(registered, MemberRegistered)
    assert registered.member_id == UUID(body["id"])
    assert registered.email == "ada@example.com"
    assert registered.role == "manager"
    assert registered.weekly_capacity == 20
    assert events[1].stream_id == UUID(team_id)
    assert events[1].data.member_id == UUID(body["id"])
    assert body["position"] == events[-1].position
    assert_recorded_by(events, "system", now)


def test_updating_a_member_renames_them_changes_their_role_and_capacity(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    member_id = create_member(client, admin)
    before = last_position(runtime)

    response = client.patch(
        f"/v1/members/{member_id}",
        json={"name": "Ada King", "role": "manager", "weekly_capacity": 12},
        headers=admin,
    )

    assert assert_accepted(response, 200)["version"] == 4
    events = events_after(runtime, before)
    assert types(events) == ["MemberRenamed", "MemberRoleChanged", "MemberCapacitySet"]
    assert [events[0].data.name, events[1].data.role, events[2].data.weekly_capacity] == [
        "Ada King",
        "manager",
        12,
    ]


def test_deactivating_a_member_records_member_deactivated(
    client: TestClient, admin: Headers, runtime: Runtime, now: datetime
) -> None:
    member_id = create_member(client, admin)
    before = last_position(runtime)

    response = client.post(f"/v1/members/{member_id}/deactivate", headers=admin)

    assert assert_accepted(response, 200) == {
        "id": member_id,
        "version": 2,
        "position": before + 1,
    }
    events = events_after(runtime, before)
    assert types(events) == ["MemberDeactivated"]
    assert_recorded_by(events, "system", now)


def test_reactivating_a_deactivated_member_records_member_reactivated(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    member_id = create_member(client, admin)
    client.post(f"/v1/members/{member_id}/deactivate", headers=admin)
    before = last_position(runtime)

    response = client.post(f"/v1/members/{member_id}/reactivate", headers=admin)

    assert assert_accepted(response, 200)["version"] == 3
    assert types(events_after(runtime, before)) == ["MemberReactivated"]


def test_deactivating_a_member_twice_is_409_invalid_transition(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    member_id = create_member(client, admin)
    client.post(f"/v1/members/{member_id}/deactivate", headers=admin)
    before = last_position(runtime)

    response = client.post(f"/v1/members/{member_id}/deactivate", headers=admin)

    assert_problem(response, 409, "invalid_transition")
    assert events_after(runtime, before) == []


def test_a_second_member_with_the_same_email_in_other_case_is_409_already_exists(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    create_member(client, admin, "grace@example.com")
    before = last_position(runtime)

    response = client.post("/v1/members", json=member_body("GRACE@Example.com"), headers=admin)

    assert_problem(response, 409, "already_exists", field="email")
    assert events_after(runtime, before) == []


def test_deactivating_an_unknown_member_is_404_naming_member_id(
    client: TestClient, admin: Headers
) -> None:
    response = client.post(f"/v1/members/{unknown_id()}/deactivate", headers=admin)

    assert_problem(response, 404, "not_found", field="member_id")


def test_a_member_joining_an_unknown_team_is_404_naming_team_ids_and_writes_nothing(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    response = client.post("/v1/members", json=member_body(team_ids=[unknown_id()]), headers=admin)

    assert_problem(response, 404, "not_found", field="team_ids")
    assert log(runtime) == []


def test_a_member_with_a_malformed_email_is_422_naming_email(
    client: TestClient, admin: Headers
) -> None:
    response = client.post("/v1/members", json=member_body("not-an-address"), headers=admin)

    assert_problem(response, 422, "validation_error", field="email")


def test_a_member_with_an_unknown_role_is_422_naming_role(
    client: TestClient, admin: Headers
) -> None:
    response = client.post("/v1/members", json=member_body(role="owner"), headers=admin)

    assert_problem(response, 422, "validation_error", field="role")


def test_a_member_without_a_weekly_capacity_is_422_naming_the_missing_field(
    client: TestClient, admin: Headers
) -> None:
    body = member_body()
    del body["weekly_capacity"]

    response = client.post("/v1/members", json=body, headers=admin)

    problem = assert_problem(response, 422, "validation_error", field="weekly_capacity")
    assert problem["errors"][0]["message"] == "Field required"
