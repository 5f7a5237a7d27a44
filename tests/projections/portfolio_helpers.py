"""Helpers of the portfolio view's specifications: commands over HTTP, and reading the view."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from services.app import Runtime
from tests.api.helpers import (
    Headers,
    create_goal,
    create_issue,
    create_member,
    create_operation,
    create_project,
    create_team,
    set_project_status,
    transition,
)
from tests.conftest import FrozenClock

PORTFOLIO = "/v1/views/portfolio"


def send(client: TestClient, headers: Headers, path: str, body: Any = None) -> dict[str, Any]:
    """Posts a command and answers its acknowledgement; any refusal fails the test."""
    response = client.post(path, json=body if body is not None else {}, headers=headers)
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


def patch(client: TestClient, headers: Headers, path: str, body: Any) -> None:
    response = client.patch(path, json=body, headers=headers)
    assert response.status_code == 200, response.text


def delete(client: TestClient, headers: Headers, path: str) -> None:
    response = client.delete(path, headers=headers)
    assert response.status_code == 200, response.text


def catch_up(runtime: Runtime) -> None:
    """Applies every event logged so far, as the workers' threads would."""
    for worker in runtime.workers:
        worker.catch_up()


def portfolio(
    client: TestClient, headers: Headers, runtime: Runtime, **params: Any
) -> dict[str, Any]:
    """The portfolio once it has applied every command so far."""
    catch_up(runtime)
    query = {"min_position": runtime.store.last_position(), **params}
    response = client.get(PORTFOLIO, params=query, headers=headers)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def entry(view: dict[str, Any], project_id: str) -> dict[str, Any]:
    """The project's entry in the view's page of projects."""
    found: list[dict[str, Any]] = [item for item in view["items"] if item["id"] == project_id]
    assert len(found) == 1, f"project {project_id} is not in the page once"
    return found[0]


def nodes(tree: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for node in tree:
        yield node
        yield from nodes(node["children"])


def goal_node(view: dict[str, Any], goal_id: str) -> dict[str, Any]:
    """The goal's node, wherever it hangs in the goal tree."""
    found = [node for node in nodes(view["goal_tree"]) if node["id"] == goal_id]
    assert len(found) == 1, f"goal {goal_id} is not in the tree once"
    return found[0]


def kind_totals(view: dict[str, Any], kind: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [row for row in view["totals"]["issues"] if row["kind"] == kind]
    assert len(found) == 1, f"no totals of {kind}"
    return found[0]


def organisation(
    client: TestClient,
    admin: Headers,
    clock: FrozenClock,
    midway: Callable[[], None] = lambda: None,
) -> None:
    """A small organisation whose history has every event the portfolio follows, over days.

    ``midway`` is called an hour after the first day's commands, before the next day's.
    """
    payments = create_team(client, admin, "Payments")
    platform = create_team(client, admin, "Platform")
    ada = create_member(client, admin, team_ids=[payments])
    grace = create_member(client, admin, team_ids=[platform])
    company = create_goal(client, admin, ada, title="Grow revenue")
    send(client, admin, f"/v1/goals/{company}/activate")
    reliable = create_goal(client, admin, grace, title="Reliable payouts", parent_id=company)
    kr = send(
        client,
        admin,
        f"/v1/goals/{company}/key-results",
        {"title": "Revenue", "unit": "currency", "start": 0, "target": 100},
    )["key_result_id"]
    pay = create_project(client, admin, ada, payments, "PAY", goal_ids=[company])
    ops = create_project(client, admin, grace, platform, "OPS")
    set_project_status(client, admin, pay, "active")
    milestone = send(
        client, admin, f"/v1/projects/{pay}/milestones", {"name": "Beta", "due_date": "2026-03-04"}
    )["milestone_id"]
    payout = create_issue(client, admin, payments, project_id=pay, estimate=5, priority="high")
    ledger = create_issue(
        client, admin, payments, project_id=pay, estimate=3, due_date="2026-03-03"
    )
    outage = create_issue(client, admin, platform, "incident", project_id=ops, estimate=2)
    create_issue(client, admin, platform, "bug", goal_ids=[reliable], estimate=1)
    operation = create_operation(client, admin, platform, grace)
    send(client, admin, "/v1/operations/tick", {"until": "2026-03-04"})
    clock.advance(timedelta(hours=1))
    midway()
    clock.advance(timedelta(days=1))
    transition(client, admin, payout, "in_progress", "done")
    send(client, admin, f"/v1/issues/{ledger}/dependencies", {"blocked_by_id": outage})
    send(client, admin, f"/v1/issues/{outage}/block", {"reason": "vendor"})
    send(client, admin, f"/v1/issues/{ledger}/links", {"kind": "goal", "target_id": reliable})
    send(client, admin, f"/v1/goals/{company}/key-results/{kr}/check-ins", {"value": 40})
    send(client, admin, f"/v1/projects/{pay}/health", {"health": "at_risk", "note": "vendor"})
    send(client, admin, f"/v1/operations/{operation}/occurrences/2026-03-02/complete")
    clock.advance(timedelta(days=2))
    transition(client, admin, outage, "backlog", "in_progress", "done")
    send(client, admin, f"/v1/issues/{outage}/unblock")
    send(client, admin, f"/v1/projects/{pay}/milestones/{milestone}/complete")
    patch(client, admin, f"/v1/issues/{ledger}", {"estimate": 8, "priority": "urgent"})
    patch(client, admin, f"/v1/projects/{ops}", {"name": "Platform ops"})
    patch(client, admin, f"/v1/goals/{reliable}", {"title": "Boring payouts"})
    send(client, admin, f"/v1/operations/{operation}/occurrences/2026-03-03/skip")
    send(client, admin, f"/v1/operations/{operation}/pause")
    transition(client, admin, payout, "todo")
