"""What the hostile-input tables share: an API with every view running over a small
organisation, and the promise each hostile request is held to.

Whatever a request holds, the API answers no 5xx; an error is ``application/problem+json`` with a
stable code; and a refused request writes nothing to the log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from services.app import Runtime, build_runtime, create_app
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from tests.api.helpers import PROBLEM_JSON, create_member, create_project, created
from tests.conftest import FrozenClock, bearer, wait_until

# Hostile requests sent, and what came back, over a run: docs/reliability.md gives them.
SENT: Counter[str] = Counter()


@dataclass(frozen=True)
class Org:
    """The objects of a small organisation, by kind, as the API names them."""

    team: str
    member: str
    project: str
    issue: str
    goal: str
    operation: str


@dataclass(frozen=True)
class Api:
    runtime: Runtime
    client: TestClient
    admin: dict[str, str]
    org: Org

    def last_position(self) -> int:
        return self.runtime.store.last_position()


@contextmanager
def hostile_api(
    backend: Backend, clock: FrozenClock, data_dir: Path, **settings: Any
) -> Iterator[Api]:
    """The API with every view's worker running, over an organisation with one of each object,
    every view caught up with it."""
    runtime = build_runtime(Settings(data_dir=data_dir, **settings), clock=clock, backend=backend)
    # A min_position ahead of the log answers 409 at once rather than after 5 s.
    runtime.read_models.max_wait = 0.01
    runtime.start()
    try:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
            admin = bearer(runtime.tokens.create("admin"))
            org = _organisation(client, admin)
            position = runtime.store.last_position()
            wait_until(
                lambda: all(worker.position() >= position for worker in runtime.workers),
                what="every view has applied the organisation",
            )
            yield Api(runtime, client, admin, org)
    finally:
        runtime.stop()


def _organisation(client: TestClient, admin: dict[str, str]) -> Org:
    team = created(client.post("/v1/teams", json={"name": "Payments"}, headers=admin))
    member = create_member(client, admin, team_ids=[team])
    project = create_project(client, admin, member, team)
    issue = created(
        client.post(
            "/v1/issues",
            json={"title": "Retry payouts", "kind": "bug", "team_id": team, "project_id": project},
            headers=admin,
        )
    )
    goal = created(
        client.post(
            "/v1/goals",
            json={
                "title": "Boring payments",
                "owner_id": member,
                "period_start": "2026-01-01",
                "period_end": "2026-06-30",
            },
            headers=admin,
        )
    )
    operation = created(
        client.post(
            "/v1/operations",
            json={
                "title": "Rotate keys",
                "team_id": team,
                "owner_id": member,
                "cadence": {"every": "week"},
                "start_date": "2026-03-02",
            },
            headers=admin,
        )
    )
    _first_and_last_days(client, admin, team, member)
    return Org(team, member, project, issue, goal, operation)


def _first_and_last_days(client: TestClient, admin: dict[str, str], team: str, member: str) -> None:
    """Work on the calendar's first and last days, which every view must place at any moment
    asked about."""
    first, last = "0001-01-01", "9999-12-31"
    project = create_project(
        client, admin, member, team, "EDGE", start_date=first, target_date=last
    )
    for due in (first, last):
        body = {"title": "Edge", "kind": "task", "team_id": team, "project_id": project}
        created(client.post("/v1/issues", json={**body, "due_date": due}, headers=admin))
        milestone = {"name": "Edge", "due_date": due}
        response = client.post(f"/v1/projects/{project}/milestones", json=milestone, headers=admin)
        assert response.status_code == 201, response.text
    goal = {"title": "Forever", "owner_id": member, "period_start": first, "period_end": last}
    created(client.post("/v1/goals", json=goal, headers=admin))


def held(
    response: Response,
    *,
    allowed: Sequence[int] = (),
    code: str | None = None,
    log: tuple[int, int] | None = None,
) -> list[str]:
    """What is wrong with ``response`` to a hostile request (nothing: ``[]``). It must not be a
    5xx; an error must be a problem document; with ``allowed``, its status must be one of them;
    with ``code``, the problem's code must be it; with ``log``, the log's last position before
    and after the request, a refused request must have left the log where it was."""
    SENT[f"{response.status_code // 100}xx"] += 1
    request = response.request
    what = f"{request.method} {request.url.raw_path.decode('latin-1')[:160]}"
    status = response.status_code
    found: list[str] = []
    if status >= 500:
        found.append(f"{what}: {status} {response.text[:200]}")
    if allowed and status not in allowed:
        found.append(f"{what}: {status}, not one of {list(allowed)}: {response.text[:200]}")
    if status >= 400:
        found.extend(f"{what}: {problem}" for problem in _problem_faults(response, code))
        if log is not None and log[0] != log[1]:
            found.append(f"{what}: refused with {status} but wrote to the log")
    return found


def _problem_faults(response: Response, code: str | None) -> list[str]:
    if not response.headers.get("content-type", "").startswith(PROBLEM_JSON):
        return [f"answered {response.headers.get('content-type')}, not {PROBLEM_JSON}"]
    body: Mapping[str, Any] = response.json()
    faults = [
        f"the problem has no {member}"
        for member in ("type", "title", "detail", "code")
        if not isinstance(body.get(member), str) or not body[member]
    ]
    if body.get("status") != response.status_code:
        faults.append(f"the problem's status is {body.get('status')}")
    if code is not None and body.get("code") != code:
        faults.append(f"code {body.get('code')!r}, not {code!r}")
    return faults
