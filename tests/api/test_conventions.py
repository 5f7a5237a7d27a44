"""The conventions every command shares: authentication, roles, bodies, If-Match, idempotency,
correlation ids, and problem documents for every refusal."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from uuid import UUID

from fastapi.testclient import TestClient

from services.app import Runtime
from tests.api.conftest import Org
from tests.api.helpers import (
    Headers,
    assert_accepted,
    assert_problem,
    create_issue,
    create_team,
    events_after,
    last_position,
    log,
    member_body,
    stream,
    types,
    unknown_id,
)
from tests.conftest import bearer


def command_routes(client: TestClient) -> Iterator[tuple[str, str]]:
    """Every command (a route that writes) the OpenAPI document lists under ``/v1``, as
    (method, path) with its path parameters filled in."""
    paths: dict[str, dict[str, object]] = client.get("/openapi.json").json()["paths"]
    for template, operations in paths.items():
        if not template.startswith("/v1/"):
            continue
        path = template.replace("{due_date}", "2026-03-02").replace("{kind}", "goal")
        path = re.sub(r"\{[a-z_]+\}", lambda _: str(uuid.uuid4()), path)
        for method in operations:
            if method in ("post", "put", "patch", "delete"):
                yield method.upper(), path


# Authentication


def test_a_command_without_a_token_is_401_with_a_bearer_challenge(
    client: TestClient, runtime: Runtime
) -> None:
    response = client.post("/v1/teams", json={"name": "Payments"})

    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert log(runtime) == []


def test_a_command_with_an_unknown_token_is_401_with_a_bearer_challenge(
    client: TestClient, runtime: Runtime
) -> None:
    response = client.post(
        "/v1/teams", json={"name": "Payments"}, headers=bearer("wl_not-a-real-token")
    )

    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert log(runtime) == []


def test_a_command_with_another_authorization_scheme_is_401(
    client: TestClient, runtime: Runtime
) -> None:
    token = runtime.tokens.create("admin")

    response = client.post(
        "/v1/teams", json={"name": "Payments"}, headers={"Authorization": f"Basic {token}"}
    )

    assert_problem(response, 401, "unauthorized")


def test_a_command_without_a_token_is_401_whatever_its_body(client: TestClient) -> None:
    response = client.post(
        "/v1/teams", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 401, "unauthorized")


# Roles


def test_a_viewer_may_run_no_command_at_all(
    client: TestClient, viewer: Headers, runtime: Runtime
) -> None:
    routes = list(command_routes(client))
    assert len(routes) >= 40

    for method, path in routes:
        response = client.request(method, path, json={}, headers=viewer)

        assert_problem(response, 403, "forbidden")
    assert log(runtime) == []


def test_every_command_route_declares_who_may_call_it_in_the_openapi_document(
    client: TestClient,
) -> None:
    paths: dict[str, dict[str, dict[str, str]]] = client.get("/openapi.json").json()["paths"]
    roles: dict[str, int] = {}
    for template, operations in paths.items():
        for method, operation in operations.items():
            if not template.startswith("/v1/") or method not in ("post", "put", "patch", "delete"):
                continue
            role = operation.get("x-workledger-role")
            assert role in ("member", "manager", "admin"), (method, template)
            assert "**Who may call it:**" in operation["description"], (method, template)
            roles[role] = roles.get(role, 0) + 1
    assert roles["member"] >= 15
    assert roles["manager"] >= 15
    assert roles["admin"] >= 4


def test_a_member_may_not_manage_a_team(
    client: TestClient, runtime: Runtime, org: Org, member: Headers
) -> None:
    before = last_position(runtime)

    response = client.patch(f"/v1/teams/{org.team_id}", json={"name": "Rogue"}, headers=member)

    problem = assert_problem(response, 403, "forbidden")
    assert "manager" in problem["detail"]
    assert events_after(runtime, before) == []


def test_a_manager_may_not_register_a_member(
    client: TestClient, runtime: Runtime, manager: Headers
) -> None:
    response = client.post("/v1/members", json=member_body(), headers=manager)

    assert_problem(response, 403, "forbidden")
    assert log(runtime) == []


def test_a_member_may_work_on_issues(client: TestClient, org: Org, member: Headers) -> None:
    issue_id = create_issue(client, member, org.team_id)

    response = client.post(
        f"/v1/issues/{issue_id}/transition", json={"status": "todo"}, headers=member
    )

    assert_accepted(response, 200)


def test_a_deactivated_members_token_writes_nothing(
    client: TestClient, org: Org, member: Headers, admin: Headers, runtime: Runtime
) -> None:
    client.post(f"/v1/members/{org.member_id}/deactivate", headers=admin)
    before = log(runtime)

    response = client.post(
        "/v1/issues", json={"title": "x", "kind": "task", "team_id": org.team_id}, headers=member
    )

    assert_problem(response, 403, "forbidden")
    assert log(runtime) == before


# Bodies


def test_a_body_that_is_not_json_is_400_malformed_json(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    response = client.post(
        "/v1/teams",
        content=b'{"name": "Payments",',
        headers={**admin, "Content-Type": "application/json"},
    )

    assert_problem(response, 400, "malformed_json")
    assert log(runtime) == []


def test_a_json_body_that_is_not_an_object_is_422(client: TestClient, admin: Headers) -> None:
    bodies: list[object] = [[], "Payments", 42, None]
    for body in bodies:
        response = client.post("/v1/teams", json=body, headers=admin)

        assert_problem(response, 422, "validation_error", field="body")


def test_a_body_sent_as_another_media_type_is_415(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = dict(admin)
        if content_type is not None:
            headers["Content-Type"] = content_type

        response = client.post("/v1/teams", content=b'{"name": "Payments"}', headers=headers)

        assert_problem(response, 415, "unsupported_media_type")
    assert log(runtime) == []


def test_a_body_of_a_json_media_type_with_parameters_is_accepted(
    client: TestClient, admin: Headers
) -> None:
    response = client.post(
        "/v1/teams",
        content=b'{"name": "Payments"}',
        headers={**admin, "Content-Type": "application/json; charset=utf-8"},
    )

    assert_accepted(response, 201)


def test_a_streamed_body_sent_as_another_media_type_is_415(
    client: TestClient, admin: Headers
) -> None:
    response = client.post(
        "/v1/teams",
        content=iter([b'{"name": ', b'"Payments"}']),
        headers={**admin, "Content-Type": "text/plain"},
    )

    assert_problem(response, 415, "unsupported_media_type")


def test_a_body_declared_over_the_limit_is_413_and_writes_nothing(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    body = json.dumps({"text": "x" * runtime.settings.max_body_bytes}).encode()
    team_id = create_team(client, admin)
    before = last_position(runtime)

    response = client.put(
        f"/v1/teams/{team_id}/working-agreement",
        content=body,
        headers={**admin, "Content-Type": "application/json"},
    )

    assert_problem(response, 413, "payload_too_large")
    assert events_after(runtime, before) == []


def test_a_body_just_under_the_limit_is_accepted(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    team_id = create_team(client, admin)
    text = "x" * 50_000  # the longest working agreement, in a body of about 50 KB
    assert len(text) + 100 < runtime.settings.max_body_bytes

    response = client.put(
        f"/v1/teams/{team_id}/working-agreement", json={"text": text}, headers=admin
    )

    assert_accepted(response, 200)
    assert stream(runtime, team_id)[-1].data.text == text


def test_a_streamed_body_over_the_limit_is_413_payload_too_large(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    team_id = create_team(client, admin)
    before = last_position(runtime)
    chunks = [b'{"text": "', *[b"x" * 8192] * (runtime.settings.max_body_bytes // 8192 + 1), b'"}']

    response = client.put(
        f"/v1/teams/{team_id}/working-agreement",
        content=iter(chunks),
        headers={**admin, "Content-Type": "application/json"},
    )

    assert "content-length" not in response.request.headers
    assert events_after(runtime, before) == []
    assert_problem(response, 413, "payload_too_large")


# If-Match


def test_a_stale_if_match_is_412_version_mismatch_and_writes_nothing(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    client.patch(f"/v1/issues/{issue_id}", json={"title": "Second"}, headers=admin)
    before = last_position(runtime)

    response = client.patch(
        f"/v1/issues/{issue_id}", json={"title": "Third"}, headers={**admin, "If-Match": '"1"'}
    )

    problem = assert_problem(response, 412, "version_mismatch")
    assert problem["current_version"] == 2
    assert response.headers["ETag"] == '"2"'
    assert events_after(runtime, before) == []


def test_the_current_if_match_is_200_and_the_new_etag_follows(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    first = client.patch(
        f"/v1/issues/{issue_id}", json={"title": "Second"}, headers={**admin, "If-Match": '"1"'}
    )

    second = client.patch(
        f"/v1/issues/{issue_id}",
        json={"title": "Third"},
        headers={**admin, "If-Match": first.headers["ETag"]},
    )

    assert assert_accepted(first, 200)["version"] == 2
    assert assert_accepted(second, 200)["version"] == 3
    assert [e.data.title for e in stream(runtime, issue_id)[1:]] == ["Second", "Third"]


def test_a_weak_or_unquoted_if_match_of_the_current_version_is_accepted(
    client: TestClient, admin: Headers, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)

    weak = client.post(
        f"/v1/issues/{issue_id}/transition",
        json={"status": "todo"},
        headers={**admin, "If-Match": 'W/"1"'},
    )
    bare = client.post(
        f"/v1/issues/{issue_id}/transition",
        json={"status": "in_progress"},
        headers={**admin, "If-Match": "2"},
    )

    assert assert_accepted(weak, 200)["version"] == 2
    assert assert_accepted(bare, 200)["version"] == 3


def test_if_match_star_needs_only_the_object_to_exist(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    client.patch(f"/v1/issues/{issue_id}", json={"title": "Second"}, headers=admin)

    changed = client.patch(
        f"/v1/issues/{issue_id}", json={"title": "Third"}, headers={**admin, "If-Match": "*"}
    )
    before = last_position(runtime)
    missing = client.patch(
        f"/v1/issues/{uuid.uuid4()}", json={"title": "Nobody"}, headers={**admin, "If-Match": "*"}
    )

    assert assert_accepted(changed, 200)["version"] == 3
    assert_problem(missing, 404, "not_found")
    assert events_after(runtime, before) == []


def test_a_malformed_if_match_is_400_naming_the_header(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    before = last_position(runtime)

    for value in ('"one"', "1.5", '"-1"', ""):
        response = client.post(
            f"/v1/issues/{issue_id}/transition",
            json={"status": "todo"},
            headers={**admin, "If-Match": value},
        )

        assert_problem(response, 400, "validation_error", field="If-Match")
    assert events_after(runtime, before) == []


def test_if_match_on_an_unknown_object_is_404(client: TestClient, admin: Headers) -> None:
    response = client.post(
        f"/v1/issues/{unknown_id()}/transition",
        json={"status": "todo"},
        headers={**admin, "If-Match": '"1"'},
    )

    assert_problem(response, 404, "not_found")


# Idempotency


def test_a_retry_with_the_same_idempotency_key_and_body_replays_the_first_answer(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    headers = {**admin, "Idempotency-Key": "create-payments-team"}
    first = client.post("/v1/teams", json={"name": "Payments"}, headers=headers)
    before = last_position(runtime)

    retry = client.post("/v1/teams", json={"name": "Payments"}, headers=headers)

    assert_accepted(first, 201)
    assert "Idempotent-Replayed" not in first.headers
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert events_after(runtime, before) == []


def test_a_retry_of_a_change_replays_it_even_after_later_changes(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    path = f"/v1/issues/{issue_id}/transition"
    headers = {**admin, "Idempotency-Key": "move-to-todo"}
    first = client.post(path, json={"status": "todo"}, headers=headers)
    client.post(path, json={"status": "in_progress"}, headers=admin)
    before = last_position(runtime)

    retry = client.post(path, json={"status": "todo"}, headers=headers)

    assert assert_accepted(retry, 200) == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert events_after(runtime, before) == []


def test_the_same_idempotency_key_with_another_body_is_422_idempotency_key_reused(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    headers = {**admin, "Idempotency-Key": "create-a-team"}
    assert_accepted(client.post("/v1/teams", json={"name": "Payments"}, headers=headers), 201)
    before = last_position(runtime)

    response = client.post("/v1/teams", json={"name": "Platform"}, headers=headers)

    assert_problem(response, 422, "idempotency_key_reused")
    assert events_after(runtime, before) == []


def test_the_same_idempotency_key_on_another_route_is_422_idempotency_key_reused(
    client: TestClient, admin: Headers, org: Org
) -> None:
    headers = {**admin, "Idempotency-Key": "one-key"}
    issue_id = create_issue(client, admin, org.team_id)
    client.post(f"/v1/issues/{issue_id}/unblock", headers=headers)

    response = client.post(
        f"/v1/issues/{create_issue(client, admin, org.team_id)}/unblock", headers=headers
    )

    assert_problem(response, 422, "idempotency_key_reused")


def test_idempotency_keys_belong_to_the_token_that_used_them(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    other = bearer(runtime.tokens.create("admin"))
    first = client.post(
        "/v1/teams", json={"name": "Payments"}, headers={**admin, "Idempotency-Key": "k-1"}
    )

    second = client.post(
        "/v1/teams", json={"name": "Payments"}, headers={**other, "Idempotency-Key": "k-1"}
    )

    assert assert_accepted(second, 201)["id"] != assert_accepted(first, 201)["id"]
    assert "Idempotent-Replayed" not in second.headers
    assert types(log(runtime)) == ["TeamCreated", "TeamCreated"]


def test_a_refused_command_does_not_use_up_its_idempotency_key(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    path = f"/v1/issues/{issue_id}/transition"
    headers = {**admin, "Idempotency-Key": "finish"}
    refused = client.post(path, json={"status": "in_review"}, headers=headers)
    client.post(path, json={"status": "in_progress"}, headers=admin)

    retry = client.post(path, json={"status": "in_review"}, headers=headers)

    assert_problem(refused, 409, "invalid_transition")
    assert assert_accepted(retry, 200)["version"] == 3
    assert "Idempotent-Replayed" not in retry.headers


def test_a_malformed_idempotency_key_is_400_naming_the_header(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    for key in ("x" * 201, "has space", "naïve"):
        headers = [(name.encode(), value.encode()) for name, value in admin.items()]
        response = client.post(
            "/v1/teams",
            json={"name": "Payments"},
            headers=[*headers, (b"Idempotency-Key", key.encode())],
        )

        assert_problem(response, 400, "validation_error", field="Idempotency-Key")
    assert log(runtime) == []


# Correlation


def test_the_correlation_and_causation_ids_of_a_request_are_recorded_on_its_events(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    correlation, causation = uuid.uuid4(), uuid.uuid4()

    response = client.post(
        "/v1/members",
        json=member_body(team_ids=[create_team(client, admin)]),
        headers={**admin, "X-Correlation-ID": str(correlation), "X-Causation-ID": str(causation)},
    )

    assert_accepted(response, 201)
    events = [e for e in log(runtime) if e.type != "TeamCreated"]
    assert types(events) == ["MemberRegistered", "TeamMemberAdded"]
    assert {e.metadata.correlation_id for e in events} == {correlation}
    assert {e.metadata.causation_id for e in events} == {causation}


def test_each_request_without_a_correlation_id_gets_a_new_one(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    create_team(client, admin)
    create_team(client, admin)

    first, second = log(runtime)
    assert isinstance(first.metadata.correlation_id, UUID)
    assert first.metadata.correlation_id != second.metadata.correlation_id


def test_a_correlation_id_that_is_not_a_uuid_is_400_naming_the_header(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    response = client.post(
        "/v1/teams", json={"name": "Payments"}, headers={**admin, "X-Correlation-ID": "abc"}
    )

    assert_problem(response, 400, "validation_error", field="x-correlation-id")
    assert log(runtime) == []


# Problems


def test_an_unknown_path_is_a_404_problem(client: TestClient, admin: Headers) -> None:
    response = client.post("/v1/sprints", json={}, headers=admin)

    assert_problem(response, 404, "not_found")


def test_a_method_the_path_does_not_take_is_a_405_problem(
    client: TestClient, admin: Headers
) -> None:
    response = client.delete("/v1/teams", headers=admin)

    assert_problem(response, 405, "method_not_allowed")


def test_no_body_however_odd_is_answered_with_a_500(
    client: TestClient, admin: Headers, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    odd_bodies: list[object] = [
        {},
        {"title": None},
        {"title": ["a"], "kind": {"a": 1}, "team_id": 7},
        {"estimate": 1e308, "title": "x", "kind": "task", "team_id": org.team_id},
        {"estimate": 10**40, "title": "x", "kind": "task", "team_id": org.team_id},
        {"due_date": "2026-02-30", "title": "x", "kind": "task", "team_id": org.team_id},
        {"labels": [None], "title": "x", "kind": "task", "team_id": org.team_id},
        {"title": "\u0000\ud7ff", "kind": "task", "team_id": org.team_id},
        {"assignee_id": "not-a-uuid"},
        {"status": 3},
        {"parent_id": org.team_id},
    ]
    paths = [
        "/v1/issues",
        f"/v1/issues/{issue_id}",
        f"/v1/issues/{issue_id}/assign",
        f"/v1/issues/{issue_id}/transition",
    ]

    for path in paths:
        method = "PATCH" if path.endswith(issue_id) else "POST"
        for body in odd_bodies:
            response = client.request(method, path, json=body, headers=admin)

            assert response.status_code < 500, (path, body, response.text)
            if response.status_code >= 400:
                assert_problem(response, response.status_code, response.json()["code"])
