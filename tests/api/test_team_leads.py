"""Team leads, and what a manager may change: the teams they lead and the work in them.

Given commands over HTTP, then these events (or this refusal, with nothing written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from contracts import commands as body
from domain.team import TeamLeadAdded, TeamLeadRemoved
from services.app import Runtime
from services.command.actions import teams as team_actions
from services.command.authority import NotLed, leading
from services.command.handler import CommandContext, Reply, Session
from tests.api.helpers import (
    Headers,
    assert_accepted,
    assert_problem,
    create_goal,
    create_issue,
    create_member,
    create_operation,
    create_project,
    create_team,
    events_after,
    goal_body,
    last_position,
    operation_body,
    project_body,
    stream,
    types,
)
from tests.conftest import FrozenClock, bearer


@dataclass(frozen=True)
class Teams:
    """Two teams: ``led`` led by the manager acting for ``manager_id``, ``other`` not."""

    led: str
    other: str
    manager_id: str
    manager: Headers


def add_lead(client: TestClient, admin: Headers, team_id: str, member_id: str) -> None:
    response = client.post(
        f"/v1/teams/{team_id}/leads", json={"member_id": member_id}, headers=admin
    )
    assert response.status_code == 200, response.text


@pytest.fixture
def teams(client: TestClient, admin: Headers, runtime: Runtime) -> Teams:
    led = create_team(client, admin, "Payments")
    other = create_team(client, admin, "Risk")
    manager_id = create_member(client, admin, role="manager", team_ids=[led])
    add_lead(client, admin, led, manager_id)
    manager = bearer(runtime.tokens.create("manager", UUID(manager_id)))
    return Teams(led, other, manager_id, manager)


# Leads


def test_an_admin_names_a_lead_and_ends_the_lead(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    team_id = create_team(client, admin)
    ada = create_member(client, admin)
    before = last_position(runtime)

    added = client.post(f"/v1/teams/{team_id}/leads", json={"member_id": ada}, headers=admin)
    again = client.post(f"/v1/teams/{team_id}/leads", json={"member_id": ada}, headers=admin)
    removed = client.delete(f"/v1/teams/{team_id}/leads/{ada}", headers=admin)

    assert assert_accepted(added, 200)["version"] == 2
    assert assert_accepted(again, 200)["version"] == 2
    assert assert_accepted(removed, 200)["version"] == 3
    events = events_after(runtime, before)
    assert [event.data for event in events] == [
        TeamLeadAdded(UUID(ada)),
        TeamLeadRemoved(UUID(ada)),
    ]


def test_a_lead_must_be_an_active_member_and_only_a_lead_steps_down(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    team_id = create_team(client, admin)
    ada = create_member(client, admin)
    client.post(f"/v1/members/{ada}/deactivate", headers=admin)
    before = last_position(runtime)

    deactivated = client.post(f"/v1/teams/{team_id}/leads", json={"member_id": ada}, headers=admin)
    unknown = client.post(
        f"/v1/teams/{team_id}/leads", json={"member_id": str(UUID(int=7))}, headers=admin
    )
    not_a_lead = client.delete(f"/v1/teams/{team_id}/leads/{ada}", headers=admin)

    assert_problem(deactivated, 409, "member_deactivated", field="member_id")
    assert_problem(unknown, 404, "not_found", field="member_id")
    assert_problem(not_a_lead, 404, "not_found", field="member_id")
    assert events_after(runtime, before) == []


def test_only_an_admin_names_leads_or_creates_teams(
    client: TestClient, admin: Headers, runtime: Runtime, teams: Teams
) -> None:
    before = last_position(runtime)
    lead = {"member_id": teams.manager_id}

    for response in (
        client.post(f"/v1/teams/{teams.other}/leads", json=lead, headers=teams.manager),
        client.delete(f"/v1/teams/{teams.led}/leads/{teams.manager_id}", headers=teams.manager),
        client.post("/v1/teams", json={"name": "Mine"}, headers=teams.manager),
    ):
        problem = assert_problem(response, 403, "forbidden")
        assert "admin" in problem["detail"]
    assert events_after(runtime, before) == []


# A lead manages their team and its work


def test_a_lead_manages_the_team_and_its_projects_goals_and_operations(
    client: TestClient, admin: Headers, runtime: Runtime, teams: Teams
) -> None:
    m = teams.manager
    renamed = client.patch(f"/v1/teams/{teams.led}", json={"name": "Payouts"}, headers=m)
    project = create_project(client, m, teams.manager_id, teams.led)
    goal = create_goal(client, m, teams.manager_id, team_id=teams.led)
    operation = create_operation(client, m, teams.led, teams.manager_id)

    assert_accepted(renamed, 200)
    for path, payload in (
        (f"/v1/projects/{project}/status", {"status": "active"}),
        (f"/v1/projects/{project}/goals", {"goal_id": goal}),
        (f"/v1/goals/{goal}/activate", None),
        (f"/v1/operations/{operation}/pause", None),
    ):
        assert_accepted(client.post(path, json=payload, headers=m), 200)
    actors = {event.metadata.actor for event in stream(runtime, project)}
    assert actors == {teams.manager_id}


def test_a_manager_changes_nothing_of_a_team_they_do_not_lead(
    client: TestClient, admin: Headers, runtime: Runtime, teams: Teams
) -> None:
    owner = create_member(client, admin)
    project = create_project(client, admin, owner, teams.other)
    goal = create_goal(client, admin, owner, team_id=teams.other)
    operation = create_operation(client, admin, teams.other, owner)
    m = teams.manager
    before = last_position(runtime)

    refused = [
        client.patch(f"/v1/teams/{teams.other}", json={"name": "Mine"}, headers=m),
        client.post(f"/v1/teams/{teams.other}/members", json={"member_id": owner}, headers=m),
        client.post("/v1/projects", json=project_body(owner, teams.other), headers=m),
        client.post(f"/v1/projects/{project}/status", json={"status": "active"}, headers=m),
        # A move the rules would refuse anyway: the manager hears that they may not.
        client.post(f"/v1/projects/{project}/status", json={"status": "completed"}, headers=m),
        client.post("/v1/goals", json=goal_body(owner, team_id=teams.other), headers=m),
        client.post(f"/v1/goals/{goal}/activate", headers=m),
        client.post("/v1/operations", json=operation_body(teams.other, owner), headers=m),
        client.post(f"/v1/operations/{operation}/pause", headers=m),
    ]

    for response in refused:
        problem = assert_problem(response, 403, "forbidden")
        assert "lead" in problem["detail"], response.request.url
    assert events_after(runtime, before) == []


def test_goals_of_no_team_are_an_admin_s(
    client: TestClient, admin: Headers, runtime: Runtime, teams: Teams
) -> None:
    company = create_goal(client, admin, teams.manager_id)
    before = last_position(runtime)

    created = client.post("/v1/goals", json=goal_body(teams.manager_id), headers=teams.manager)
    activated = client.post(f"/v1/goals/{company}/activate", headers=teams.manager)

    assert_problem(created, 403, "forbidden")
    assert_problem(activated, 403, "forbidden")
    assert events_after(runtime, before) == []


def test_a_manager_of_no_team_creates_nothing_bound_to_a_team(
    client: TestClient, admin: Headers, runtime: Runtime, teams: Teams
) -> None:
    unbound = bearer(runtime.tokens.create("manager"))
    idle_id = create_member(client, admin, role="manager")
    idle = bearer(runtime.tokens.create("manager", UUID(idle_id)))
    before = last_position(runtime)

    for headers in (unbound, idle):
        response = client.post(
            "/v1/projects", json=project_body(idle_id, teams.led), headers=headers
        )
        assert_problem(response, 403, "forbidden")
    assert events_after(runtime, before) == []


def test_a_manager_works_on_any_team_s_issues_as_any_member_does(
    client: TestClient, admin: Headers, runtime: Runtime, teams: Teams
) -> None:
    issue = create_issue(client, teams.manager, teams.other)

    moved = client.post(
        f"/v1/issues/{issue}/transition", json={"status": "todo"}, headers=teams.manager
    )

    assert_accepted(moved, 200)
    assert types(stream(runtime, issue)) == ["IssueCreated", "IssueTransitioned"]


def test_a_lead_who_steps_down_is_refused_from_then_on(
    client: TestClient, admin: Headers, runtime: Runtime, teams: Teams
) -> None:
    first = client.patch(f"/v1/teams/{teams.led}", json={"name": "A"}, headers=teams.manager)
    client.delete(f"/v1/teams/{teams.led}/leads/{teams.manager_id}", headers=admin)

    second = client.patch(f"/v1/teams/{teams.led}", json={"name": "B"}, headers=teams.manager)

    assert_accepted(first, 200)
    assert_problem(second, 403, "forbidden")


def test_a_command_decided_before_its_lead_ended_is_decided_again_and_refused(
    client: TestClient, admin: Headers, runtime: Runtime, teams: Teams
) -> None:
    # The lead is read from the team's stream, whose version the commit checks: a command that
    # read the lead before it ended can't commit on it.
    seen_lead: list[int] = []
    context = CommandContext(
        actor=teams.manager_id,
        principal="test",
        now=runtime.clock(),
        correlation_id=UUID(int=1),
        causation_id=UUID(int=2),
        authority=leading(UUID(teams.manager_id)),
    )
    rename = team_actions.update_team(UUID(teams.led), body.UpdateTeam(name="Late"))

    def rename_after_the_lead_ends(session: Session) -> Reply:
        reply = rename(session)
        if not seen_lead:
            seen_lead.append(1)
            client.delete(f"/v1/teams/{teams.led}/leads/{teams.manager_id}", headers=admin)
        return reply

    before = last_position(runtime)
    with pytest.raises(NotLed, match="does not lead"):
        runtime.handler.execute(context, rename_after_the_lead_ends)

    assert types(events_after(runtime, before)) == ["TeamLeadRemoved"]


def test_a_manager_s_tick_schedules_the_operations_of_the_teams_they_lead(
    client: TestClient, admin: Headers, runtime: Runtime, teams: Teams, clock: FrozenClock
) -> None:
    mine = create_operation(client, admin, teams.led, teams.manager_id)
    theirs = create_operation(client, admin, teams.other, teams.manager_id)
    until = (clock() + timedelta(days=2)).date().isoformat()

    answer = client.post("/v1/operations/tick", json={"until": until}, headers=teams.manager)

    assert answer.status_code == 200, answer.text
    assert answer.json()["operations"] == 1
    assert "OccurrenceScheduled" in types(stream(runtime, mine))
    assert "OccurrenceScheduled" not in types(stream(runtime, theirs))
