"""The OpenAPI document and the interactive docs describe the command API of api.md."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import Org
from tests.api.helpers import Headers, create_goal, create_issue, create_project

# Every command of ../shared/spec/api.md, as method and path (parameters named as the app names
# them).
COMMANDS = [
    ("post", "/v1/teams"),
    ("post", "/v1/teams/{team_id}/members"),
    ("put", "/v1/teams/{team_id}/working-agreement"),
    ("post", "/v1/members"),
    ("post", "/v1/members/{member_id}/deactivate"),
    ("post", "/v1/goals"),
    ("post", "/v1/goals/{goal_id}/activate"),
    ("post", "/v1/goals/{goal_id}/close"),
    ("post", "/v1/goals/{goal_id}/key-results"),
    ("post", "/v1/goals/{goal_id}/key-results/{kr_id}/check-ins"),
    ("post", "/v1/projects"),
    ("post", "/v1/projects/{project_id}/status"),
    ("post", "/v1/projects/{project_id}/health"),
    ("post", "/v1/projects/{project_id}/milestones"),
    ("post", "/v1/issues"),
    ("patch", "/v1/issues/{issue_id}"),
    ("post", "/v1/issues/{issue_id}/assign"),
    ("post", "/v1/issues/{issue_id}/transition"),
    ("post", "/v1/issues/{issue_id}/block"),
    ("post", "/v1/issues/{issue_id}/unblock"),
    ("post", "/v1/issues/{issue_id}/dependencies"),
    ("delete", "/v1/issues/{issue_id}/dependencies/{blocked_by_id}"),
    ("post", "/v1/issues/{issue_id}/links"),
    ("post", "/v1/issues/{issue_id}/comments"),
    ("post", "/v1/operations"),
    ("put", "/v1/operations/{operation_id}/cadence"),
    ("post", "/v1/operations/{operation_id}/pause"),
    ("post", "/v1/operations/{operation_id}/resume"),
    ("post", "/v1/operations/{operation_id}/retire"),
    ("post", "/v1/operations/tick"),
    ("post", "/v1/operations/{operation_id}/occurrences/{due_date}/complete"),
    ("post", "/v1/operations/{operation_id}/occurrences/{due_date}/skip"),
    ("post", "/v1/teams/{team_id}/leads"),
    ("delete", "/v1/teams/{team_id}/leads/{member_id}"),
    ("post", "/v1/tokens"),
]


def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_the_openapi_document_is_served_without_a_token(client: TestClient) -> None:
    document = openapi(client)

    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "workledger"


def test_the_openapi_document_lists_every_command_of_the_api_spec(client: TestClient) -> None:
    paths = openapi(client)["paths"]

    missing = [(m, p) for m, p in COMMANDS if m not in paths.get(p, {})]
    assert missing == []


def test_every_command_documents_its_problem_answers_as_problem_json(client: TestClient) -> None:
    paths = openapi(client)["paths"]

    for method, path in COMMANDS:
        responses = paths[path][method]["responses"]
        for status in ("400", "401", "403", "404", "409", "422"):
            assert "application/problem+json" in responses[status]["content"], (path, status)


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        if path.startswith("/v1/")
        for method, operation in item.items()
    ]


def test_every_error_answer_of_every_operation_is_documented_as_problem_json_alone(
    client: TestClient,
) -> None:
    document = openapi(client)
    schemas = document["components"]["schemas"]
    assert "Problem" in schemas
    assert "HTTPValidationError" not in schemas, "a validation error the app never sends"
    for method, path, operation in _operations(document):
        parameters = {parameter["name"] for parameter in operation.get("parameters", ())}
        expected = {"401", "422", "503"}
        if "min_position" in parameters:
            expected.add("409")  # the view has not applied it yet
        responses = operation["responses"]
        assert expected <= set(responses), (method, path, sorted(expected - set(responses)))
        for status, response in responses.items():
            if not status.startswith("2"):
                assert response.get("content") == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, (method, path, status)


def test_every_command_documents_the_body_fields_of_the_api_spec(client: TestClient) -> None:
    document = openapi(client)
    schemas = document["components"]["schemas"]
    expected = {
        ("post", "/v1/teams"): {"name", "weekly_capacity"},
        ("post", "/v1/members"): {"name", "email", "role", "weekly_capacity", "team_ids"},
        ("post", "/v1/goals"): {
            "title",
            "owner_id",
            "team_id",
            "period_start",
            "period_end",
            "parent_id",
        },
        ("post", "/v1/projects"): {
            "name",
            "key",
            "owner_id",
            "team_id",
            "start_date",
            "target_date",
            "goal_ids",
        },
        ("post", "/v1/operations"): {
            "title",
            "team_id",
            "owner_id",
            "assignee_id",
            "cadence",
            "start_date",
            "end_date",
            "runbook",
            "estimate",
        },
    }

    for (method, path), fields in expected.items():
        body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
        name = body["schema"]["$ref"].rsplit("/", 1)[-1]
        assert set(schemas[name]["properties"]) == fields, path
        assert schemas[name]["additionalProperties"] is False


def test_the_interactive_docs_are_served(client: TestClient) -> None:
    response = client.get("/docs")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def test_commands_that_create_a_child_answer_the_status_their_openapi_operation_declares(
    client: TestClient, admin: Headers, org: Org
) -> None:
    paths = openapi(client)["paths"]
    goal_id = create_goal(client, admin, org.member_id)
    project_id = create_project(client, admin, org.member_id, org.team_id)
    issue_id = create_issue(client, admin, org.team_id)
    calls = [
        (
            "/v1/goals/{goal_id}/key-results",
            f"/v1/goals/{goal_id}/key-results",
            {"title": "Uptime", "unit": "percent", "start": 99, "target": 99.9},
        ),
        (
            "/v1/projects/{project_id}/milestones",
            f"/v1/projects/{project_id}/milestones",
            {"name": "Beta", "due_date": "2026-04-15"},
        ),
        ("/v1/issues/{issue_id}/comments", f"/v1/issues/{issue_id}/comments", {"body": "Seen"}),
    ]

    answered = {}
    for template, path, body in calls:
        declared = [s for s in paths[template]["post"]["responses"] if s.startswith("2")]
        answered[template] = (
            declared,
            str(client.post(path, json=body, headers=admin).status_code),
        )

    assert all([status] == declared for declared, status in answered.values()), answered


def test_the_docs_page_and_every_asset_it_loads_are_served_from_here(client: TestClient) -> None:
    page = client.get("/docs")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    loaded = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"} <= set(loaded)
    for url in loaded:
        assert url.startswith("/"), f"{url} would leave the machine"
        assert client.get(url).status_code == 200, url
    assert "'/openapi.json'" in page.text or '"/openapi.json"' in page.text
