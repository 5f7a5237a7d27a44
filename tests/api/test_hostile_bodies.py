"""Hostile command bodies and headers, class by class: deep, huge, not UTF-8, the wrong JSON
types, NUL characters, repeated headers, on SQLite and PostgreSQL.

Each is refused with a problem document that says what is wrong, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.app import Runtime
from services.infrastructure.screening import MAX_JSON_DEPTH
from tests.api.conftest import Org
from tests.api.helpers import (
    Headers,
    create_goal,
    create_issue,
    create_operation,
    create_project,
    member_body,
    operation_body,
    project_body,
)
from tests.api.hostile import SENT, held

UUID = "6fe8ac86-f457-4fca-b008-3bf6f57fadc6"
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Objects:
    """One of each object a command may change, beside the organisation's team and member."""

    org: Org
    project: str
    issue: str
    goal: str
    operation: str


@pytest.fixture
def objects(client: TestClient, admin: Headers, org: Org) -> Objects:
    return Objects(
        org,
        create_project(client, admin, org.member_id, org.team_id),
        create_issue(client, admin, org.team_id),
        create_goal(client, admin, org.member_id),
        create_operation(client, admin, org.team_id, org.member_id),
    )


@pytest.fixture(scope="module", autouse=True)
def tally() -> Iterator[None]:
    yield
    print(f"\nhostile requests: {sum(SENT.values())} so far, by class {dict(SENT)}")


class Refusals:
    """Sends hostile requests and gathers what is wrong with their answers."""

    def __init__(self, client: TestClient, runtime: Runtime) -> None:
        self.client = client
        self.runtime = runtime
        self.found: list[str] = []

    def send(self, method: str, path: str, status: int, code: str, **request: Any) -> None:
        before = self.runtime.store.last_position()
        response = self.client.request(method, path, **request)
        log = (before, self.runtime.store.last_position())
        self.found += held(response, allowed=(status,), code=code, log=log)


@pytest.fixture
def refusals(client: TestClient, runtime: Runtime) -> Iterator[Refusals]:
    checked = Refusals(client, runtime)
    yield checked
    assert checked.found == []


def _nested(depth: int) -> bytes:
    return b'{"name": ' + b"[" * depth + b"]" * depth + b"}"


def test_json_nested_deeper_than_the_bound_is_malformed(refusals: Refusals, admin: Headers) -> None:
    for depth in (MAX_JSON_DEPTH + 1, 100, 1_000, 20_000):
        for body in (_nested(depth), b"[" * depth + b"]" * depth):
            refusals.send(
                "POST", "/v1/teams", 400, "malformed_json", content=body, headers={**admin, **JSON}
            )


def test_brackets_inside_text_are_not_nesting(client: TestClient, admin: Headers, org: Org) -> None:
    text = {"text": "[{" * 10_000}
    response = client.put(f"/v1/teams/{org.team_id}/working-agreement", json=text, headers=admin)

    assert response.status_code == 200, response.text


def test_a_body_that_is_not_json_as_rfc_8259_writes_it_is_malformed(
    refusals: Refusals, admin: Headers
) -> None:
    bodies = [
        b'{"name": "\xff"}',
        b'{"name": "\xc0\xaf"}',
        b'{"name": "\xed\xa0\x80"}',
        b'{"name": "\\ud800"}',
        b'{"name": "x\\udc00"}',
        b'\xef\xbb\xbf{"name": "Payments"}',
        b'{"name": "Payments", "weekly_capacity": NaN}',
        b'{"name": "Payments", "weekly_capacity": Infinity}',
        b'{"name": "Payments", "weekly_capacity": 1e400}',
        b'{"name": "Payments"} trailing',
        b'{"name": "Payments"',
        b"{'name': 'Payments'}",
        b"\x00",
    ]
    for body in bodies:
        refusals.send(
            "POST", "/v1/teams", 400, "malformed_json", content=body, headers={**admin, **JSON}
        )


def test_a_body_over_the_limit_is_refused_whether_declared_or_streamed(
    refusals: Refusals, admin: Headers, runtime: Runtime
) -> None:
    limit = runtime.settings.max_body_bytes
    oversized = b'{"name": "' + b"x" * limit + b'"}'
    headers = {**admin, **JSON}
    refusals.send("POST", "/v1/teams", 413, "payload_too_large", content=oversized, headers=headers)
    refusals.send(
        "POST", "/v1/teams", 413, "payload_too_large", content=iter([oversized]), headers=headers
    )
    within = {"name": "x" * (limit - 100)}
    refusals.send("POST", "/v1/teams", 422, "validation_error", json=within, headers=admin)
    labels = {"title": "Many labels", "kind": "task", "team_id": UUID, "labels": ["x"] * 1000}
    refusals.send("POST", "/v1/issues", 422, "validation_error", json=labels, headers=admin)


def test_a_value_of_the_wrong_json_type_is_refused(
    refusals: Refusals, admin: Headers, objects: Objects
) -> None:
    org = objects.org
    member = member_body(team_ids=[org.team_id])
    project = project_body(org.member_id, org.team_id, "HOST")
    operation = operation_body(org.team_id, org.member_id)
    wrong = [
        ("/v1/teams", {"name": "T", "weekly_capacity": "10"}),
        ("/v1/teams", {"name": "T", "weekly_capacity": True}),
        ("/v1/teams", {"name": "T", "weekly_capacity": [10]}),
        ("/v1/teams", {"name": 10}),
        ("/v1/teams", {"name": ["T"]}),
        ("/v1/members", {**member, "weekly_capacity": "20"}),
        ("/v1/members", {**member, "team_ids": [f"urn:uuid:{org.team_id}"]}),
        ("/v1/members", {**member, "team_ids": [f"{{{org.team_id}}}"]}),
        ("/v1/members", {**member, "team_ids": [org.team_id.replace("-", "")]}),
        ("/v1/projects", {**project, "start_date": "2026-03-01T00:00:00Z"}),
        ("/v1/projects", {**project, "start_date": "2026-03-01T00:00"}),
        ("/v1/projects", {**project, "start_date": 1772323200}),
        ("/v1/projects", {**project, "start_date": "20260301"}),
        ("/v1/projects", {**project, "start_date": "2026-W09-1"}),
        ("/v1/projects", {**project, "owner_id": f"urn:uuid:{org.member_id}"}),
        ("/v1/operations", {**operation, "cadence": {"every": "day", "interval": "2"}}),
        ("/v1/operations", {**operation, "cadence": {"every": "day", "interval": 2.0}}),
        ("/v1/operations", {**operation, "cadence": {"every": "day", "interval": True}}),
        ("/v1/operations", {**operation, "cadence": {"every": "month", "day_of_month": "1"}}),
        ("/v1/operations", {**operation, "estimate": "1"}),
        ("/v1/operations", {**operation, "start_date": "0001-01-01"}),
        ("/v1/operations/tick", {"until": "2026-03-03T00:00:00Z"}),
        (f"/v1/goals/{objects.goal}/key-results/{UUID}/check-ins", {"value": "1"}),
        (f"/v1/issues/{objects.issue}/assign", {"assignee_id": f"{{{org.member_id}}}"}),
        ("/v1/teams", []),
        ("/v1/teams", "Payments"),
        ("/v1/teams", 10),
        ("/v1/teams", None),
    ]
    for path, body in wrong:
        refusals.send("POST", path, 422, "validation_error", json=body, headers=admin)


def test_a_field_a_change_keeps_is_left_out_not_sent_as_null(
    refusals: Refusals, admin: Headers, objects: Objects
) -> None:
    kept = [
        (f"/v1/teams/{objects.org.team_id}", ["name"]),
        (f"/v1/members/{objects.org.member_id}", ["name", "role", "weekly_capacity"]),
        (f"/v1/goals/{objects.goal}", ["title"]),
        (f"/v1/projects/{objects.project}", ["name", "start_date", "target_date"]),
        (f"/v1/issues/{objects.issue}", ["title", "priority", "labels"]),
        (f"/v1/operations/{objects.operation}", ["runbook"]),
    ]
    for path, fields in kept:
        for field in fields:
            refusals.send("PATCH", path, 422, "validation_error", json={field: None}, headers=admin)


def test_a_nul_character_is_refused_in_every_text_and_header(
    refusals: Refusals, admin: Headers, objects: Objects
) -> None:
    org = objects.org
    texts = [
        ("POST", "/v1/teams", {"name": "Pay\x00ments"}),
        ("POST", "/v1/members", member_body(f"a\x00b{UUID[:8]}@example.com")),
        ("POST", "/v1/issues", {"title": "x\x00", "kind": "task", "team_id": org.team_id}),
        (
            "POST",
            "/v1/issues",
            {"title": "x", "kind": "task", "team_id": org.team_id, "labels": ["ok", "n\x00"]},
        ),
        ("PATCH", f"/v1/issues/{objects.issue}", {"description": "\x00"}),
        ("POST", f"/v1/issues/{objects.issue}/comments", {"body": "\x00"}),
        ("POST", f"/v1/issues/{objects.issue}/block", {"reason": "a\x00"}),
        ("PUT", f"/v1/teams/{org.team_id}/working-agreement", {"text": "\x00"}),
        ("PUT", f"/v1/teams/{org.team_id}/definition-of-done", {"items": ["\x00"]}),
        ("PATCH", f"/v1/operations/{objects.operation}", {"runbook": ["\x00"]}),
        ("POST", "/v1/teams", {"name": "Payments", "x\x00": 1}),
    ]
    for method, path, body in texts:
        refusals.send(method, path, 422, "validation_error", json=body, headers=admin)
    for name in ("Idempotency-Key", "If-Match", "X-Correlation-ID", "X-Causation-ID", "Import-ID"):
        headers = {**admin, name: "1\x00"}
        refusals.send(
            "POST", "/v1/teams", 400, "validation_error", json={"name": "T"}, headers=headers
        )
    refusals.send(
        "POST",
        "/v1/teams",
        400,
        "validation_error",
        json={"name": "T"},
        headers={"Authorization": admin["Authorization"] + "\x00"},
    )
    refusals.send("GET", "/v1/import/a%00b", 400, "validation_error", headers=admin)


def test_a_header_read_as_one_value_is_refused_when_repeated(
    refusals: Refusals, admin: Headers
) -> None:
    token = ("Authorization", admin["Authorization"])
    json = ("Content-Type", "application/json")
    repeated = [
        [token, token, json],
        [token, ("Authorization", "Bearer someone-else"), json],
        [token, ("If-Match", '"1"'), ("If-Match", '"2"'), json],
        [token, ("Idempotency-Key", "a"), ("Idempotency-Key", "b"), json],
        [token, ("X-Correlation-ID", UUID), ("X-Correlation-ID", UUID), json],
        [token, json, ("Content-Type", "text/plain")],
    ]
    for headers in repeated:
        refusals.send(
            "POST", "/v1/teams", 400, "validation_error", content=b'{"name": "T"}', headers=headers
        )
    refusals.send("GET", "/v1/teams", 400, "validation_error", headers=[token, token])


def test_a_header_id_is_a_uuid_in_its_canonical_form(refusals: Refusals, admin: Headers) -> None:
    for value in (f"urn:uuid:{UUID}", f"{{{UUID}}}", UUID.replace("-", ""), "1"):
        for name in ("X-Correlation-ID", "X-Causation-ID"):
            refusals.send(
                "POST",
                "/v1/teams",
                400,
                "validation_error",
                json={"name": "T"},
                headers={**admin, name: value},
            )


def test_a_body_sent_as_something_other_than_json_is_unsupported(
    refusals: Refusals, admin: Headers
) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "", "application/xml"):
        refusals.send(
            "POST",
            "/v1/teams",
            415,
            "unsupported_media_type",
            content=b'{"name": "T"}',
            headers={**admin, "Content-Type": content_type},
        )
