"""Small helpers of the HTTP API tests: objects created through the API, the log, problems."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from fastapi.testclient import TestClient
from httpx2 import Response

from services.app import Runtime
from services.infrastructure.codec import RecordedEvent

Headers = dict[str, str]
T = TypeVar("T")

PROBLEM_JSON = "application/problem+json"
LOG_PAGE = 100_000


# Answers


def assert_accepted(response: Response, status: int) -> dict[str, Any]:
    """A command's acknowledgement: ``{id, version, position}`` and an ``ETag`` of the version."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    UUID(body["id"])
    assert isinstance(body["version"], int)
    assert body["version"] >= 1
    assert isinstance(body["position"], int)
    assert body["position"] >= 1
    assert response.headers["ETag"] == f'"{body["version"]}"'
    return body


def assert_problem(
    response: Response, status: int, code: str, *, field: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem document with a stable code, naming ``field`` when given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str), body
        assert body[member], body
    assert body["status"] == status
    assert body["code"] == code, body
    if field is not None:
        fields = [error["field"] for error in body.get("errors", [])]
        assert field in fields, body
        for error in body["errors"]:
            assert isinstance(error["message"], str)
            assert error["message"]
    return body


# The log


def log(runtime: Runtime) -> list[RecordedEvent]:
    """Every event of the log, in position order."""
    return runtime.store.read(after=0, limit=LOG_PAGE)


def last_position(runtime: Runtime) -> int:
    return runtime.store.last_position()


def events_after(runtime: Runtime, position: int) -> list[RecordedEvent]:
    """The events recorded after ``position``."""
    return runtime.store.read(after=position, limit=LOG_PAGE)


def stream(runtime: Runtime, stream_id: str) -> list[RecordedEvent]:
    """The events of one object, oldest first."""
    return runtime.store.load(UUID(stream_id))


def types(events: Iterable[RecordedEvent]) -> list[str]:
    return [event.type for event in events]


def of_type(events: Iterable[RecordedEvent], type_name: str) -> list[RecordedEvent]:
    return [event for event in events if event.type == type_name]


def assert_recorded_by(events: Sequence[RecordedEvent], actor: str, occurred_at: datetime) -> None:
    """Every event names its actor, the time it occurred, and one correlation id."""
    assert events
    correlations = {event.metadata.correlation_id for event in events}
    assert len(correlations) == 1
    for event in events:
        assert event.metadata.actor == actor
        assert event.metadata.occurred_at == occurred_at
        assert isinstance(event.metadata.correlation_id, UUID)
        assert isinstance(event.metadata.causation_id, UUID)
        assert isinstance(event.metadata.event_id, UUID)


# Objects made through the API


def unknown_id() -> str:
    return str(uuid.uuid4())


def created(response: Response) -> str:
    assert response.status_code == 201, response.text
    identifier: str = response.json()["id"]
    return identifier


def create_team(client: TestClient, headers: Headers, name: str = "Payments") -> str:
    return created(client.post("/v1/teams", json={"name": name}, headers=headers))


def member_body(
    email: str | None = None, *, role: str = "member", team_ids: Sequence[str] = ()
) -> dict[str, Any]:
    return {
        "name": "Ada Lovelace",
        "email": email or f"{uuid.uuid4().hex[:12]}@example.com",
        "role": role,
        "weekly_capacity": 20,
        "team_ids": list(team_ids),
    }


def create_member(
    client: TestClient,
    headers: Headers,
    email: str | None = None,
    *,
    role: str = "member",
    team_ids: Sequence[str] = (),
) -> str:
    body = member_body(email, role=role, team_ids=team_ids)
    return created(client.post("/v1/members", json=body, headers=headers))


def goal_body(owner_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "title": "Make payments boring",
        "owner_id": owner_id,
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        **fields,
    }


def create_goal(client: TestClient, headers: Headers, owner_id: str, **fields: Any) -> str:
    return created(client.post("/v1/goals", json=goal_body(owner_id, **fields), headers=headers))


def project_body(owner_id: str, team_id: str, key: str = "PAY", **fields: Any) -> dict[str, Any]:
    return {
        "name": "Payments v2",
        "key": key,
        "owner_id": owner_id,
        "team_id": team_id,
        "start_date": "2026-03-01",
        "target_date": "2026-06-30",
        **fields,
    }


def create_project(
    client: TestClient,
    headers: Headers,
    owner_id: str,
    team_id: str,
    key: str = "PAY",
    **fields: Any,
) -> str:
    body = project_body(owner_id, team_id, key, **fields)
    return created(client.post("/v1/projects", json=body, headers=headers))


def set_project_status(
    client: TestClient, headers: Headers, project_id: str, *statuses: str
) -> None:
    for status in statuses:
        response = client.post(
            f"/v1/projects/{project_id}/status", json={"status": status}, headers=headers
        )
        assert response.status_code == 200, response.text


def issue_body(team_id: str, kind: str = "task", **fields: Any) -> dict[str, Any]:
    return {"title": "Retry failed payouts", "kind": kind, "team_id": team_id, **fields}


def create_issue(
    client: TestClient, headers: Headers, team_id: str, kind: str = "task", **fields: Any
) -> str:
    body = issue_body(team_id, kind, **fields)
    return created(client.post("/v1/issues", json=body, headers=headers))


def transition(client: TestClient, headers: Headers, issue_id: str, *statuses: str) -> None:
    for status in statuses:
        response = client.post(
            f"/v1/issues/{issue_id}/transition", json={"status": status}, headers=headers
        )
        assert response.status_code == 200, response.text


def operation_body(
    team_id: str, owner_id: str, cadence: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    return {
        "title": "Reconcile the ledger",
        "team_id": team_id,
        "owner_id": owner_id,
        "cadence": cadence or {"every": "day"},
        "start_date": "2026-03-02",
        **fields,
    }


def create_operation(
    client: TestClient,
    headers: Headers,
    team_id: str,
    owner_id: str,
    cadence: dict[str, Any] | None = None,
    **fields: Any,
) -> str:
    body = operation_body(team_id, owner_id, cadence, **fields)
    return created(client.post("/v1/operations", json=body, headers=headers))


# Concurrency


def concurrently(count: int, call: Callable[[int], T]) -> list[T]:
    """Runs ``call(0) ... call(count - 1)`` on ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)

    def worker(index: int) -> T:
        barrier.wait(timeout=30)
        return call(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))
