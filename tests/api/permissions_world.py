"""The organisation the route-by-role test calls every route in: two teams, a member of each
role, a token for each caller, and fresh objects made on demand by an admin.

Every token but the anonymous caller's acts for a member, so ``/v1/views/queue/me`` answers each.
The expired and the revoked token are admins' tokens: no role outlives its token.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import orjson
from fastapi.testclient import TestClient
from httpx2 import Response

from domain.catalog import OPERATION
from services.app import Runtime
from services.command.actions import operations as operation_actions
from services.infrastructure.tokens import Role
from tests.api.helpers import Headers, goal_body, member_body, operation_body, project_body
from tests.conftest import FrozenClock, bearer

ROLES = ("admin", "lead", "manager", "member", "viewer", "none", "expired", "revoked")
UNAUTHENTICATED = frozenset({"none", "expired", "revoked"})
TODAY = "2026-03-02"
TOKEN_ROLE: dict[str, Role] = {
    "lead": "manager",
    "manager": "manager",
    "member": "member",
    "viewer": "viewer",
}


@dataclass(frozen=True)
class Call:
    """One request: what a route is sent, whoever sends it."""

    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    stream: bool = False


@dataclass
class World:
    client: TestClient
    runtime: Runtime
    tokens: dict[str, Headers]
    team: str
    """Team A, led by the ``lead`` caller's member."""
    other_team: str
    """Team B, led by the ``manager`` caller's member (who does not lead team A)."""
    ids: dict[str, str]
    counter: Iterator[int] = field(default_factory=itertools.count)

    def send(self, call: Call, role: str) -> int:
        """The status ``role``'s caller gets for ``call``."""
        headers = {**self.tokens[role], **call.headers}
        arguments: dict[str, Any] = {"headers": headers, "params": call.params}
        if call.content is not None:
            arguments["content"] = call.content
        elif call.json is not None:
            arguments["json"] = call.json
        if call.stream:
            with self.client.stream(call.method, call.path, **arguments) as response:
                return response.status_code
        return self.client.request(call.method, call.path, **arguments).status_code

    def admin(self, method: str, path: str, json: Any = None) -> dict[str, Any]:
        response: Response = self.client.request(
            method, path, json=json, headers=self.tokens["admin"]
        )
        assert response.status_code in (200, 201), response.text
        answer: dict[str, Any] = response.json()
        return answer

    def number(self) -> int:
        return next(self.counter)

    def member(self, role: str = "member", team_ids: tuple[str, ...] = ()) -> str:
        return str(
            self.admin("POST", "/v1/members", member_body(role=role, team_ids=team_ids))["id"]
        )

    def issue(self) -> str:
        body = {"title": "Retry payouts", "kind": "task", "team_id": self.team}
        return str(self.admin("POST", "/v1/issues", body)["id"])

    def project(self) -> str:
        body = project_body(self.ids["lead"], self.team, key=f"K{self.number()}")
        return str(self.admin("POST", "/v1/projects", body)["id"])

    def goal(self) -> str:
        return str(
            self.admin("POST", "/v1/goals", goal_body(self.ids["lead"], team_id=self.team))["id"]
        )

    def operation(self) -> str:
        body = operation_body(self.team, self.ids["lead"], start_date=TODAY)
        return str(self.admin("POST", "/v1/operations", body)["id"])

    def occurrence(self) -> str:
        """A fresh operation with one occurrence scheduled, due today."""
        operation_id = self.operation()
        scheduler = self.runtime.scheduler
        self.runtime.handler.execute(
            scheduler.system_context(),
            operation_actions.schedule_occurrences(UUID(operation_id), self.runtime.clock().date()),
            target=(OPERATION, UUID(operation_id)),
        )
        return operation_id

    def import_lines(self) -> Call:
        line = {
            "command": "POST /v1/teams",
            "body": {"name": "Imported"},
            "occurred_at": "2026-03-01T09:00:00+00:00",
            "actor_id": None,
        }
        return Call(
            "POST",
            "/v1/import",
            content=orjson.dumps(line) + b"\n",
            headers={"Content-Type": "application/x-ndjson", "Import-ID": f"m-{uuid.uuid4()}"},
        )


def build_world(client: TestClient, runtime: Runtime, clock: FrozenClock) -> World:
    """The organisation, every view caught up with it, and one token per caller."""
    tokens = runtime.tokens
    bootstrap = bearer(tokens.create("admin"))
    world = World(client, runtime, {"admin": bootstrap}, "", "", {})
    admin_id = world.member("admin")
    world.tokens["admin"] = bearer(tokens.create("admin", UUID(admin_id)))
    world.team = str(world.admin("POST", "/v1/teams", {"name": "Payments"})["id"])
    world.other_team = str(world.admin("POST", "/v1/teams", {"name": "Risk"})["id"])
    people = {
        "lead": world.member("manager", (world.team,)),
        "manager": world.member("manager", (world.other_team,)),
        "member": world.member("member", (world.team,)),
        "viewer": world.member("viewer"),
    }
    world.ids.update(people)
    world.admin("POST", f"/v1/teams/{world.team}/leads", {"member_id": people["lead"]})
    world.admin("POST", f"/v1/teams/{world.other_team}/leads", {"member_id": people["manager"]})
    for role, member_id in people.items():
        world.tokens[role] = bearer(tokens.create(TOKEN_ROLE[role], UUID(member_id)))
    world.tokens["none"] = {}
    expiring = clock() + timedelta(minutes=1)
    world.tokens["expired"] = bearer(tokens.create("admin", UUID(admin_id), expires_at=expiring))
    revoked = tokens.issue("admin", UUID(admin_id))
    world.tokens["revoked"] = bearer(revoked.secret)
    tokens.revoke(revoked.record.id)
    goal = world.goal()
    key_result = {"title": "Payouts a day", "unit": "number", "start": 0, "target": 10}
    kr = world.admin("POST", f"/v1/goals/{goal}/key-results", key_result)["key_result_id"]
    issue = world.issue()
    world.admin("POST", f"/v1/issues/{issue}/comments", {"body": "Seen"})
    world.ids.update(
        goal=goal, kr=str(kr), project=world.project(), issue=issue, operation=world.operation()
    )
    call = world.import_lines()
    world.ids["import"] = call.headers["Import-ID"]
    assert world.send(call, "admin") == 200
    clock.advance(timedelta(minutes=2))
    return world
