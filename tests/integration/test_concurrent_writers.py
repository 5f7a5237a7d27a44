"""Many clients writing to one shared stream at once, over real HTTP, on SQLite and PostgreSQL.

Each client keeps a ledger of what it asked and what it was answered. Commands that don't
contradict each other must all succeed, however they overlap: none may answer ``409 conflict``,
and every answered command must be in the log exactly once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx2
import pytest

from services.app import Runtime, build_runtime, create_app
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from tests.conftest import bearer, serving

CLIENTS = 8
COMMANDS_PER_CLIENT = 30


@dataclass(frozen=True)
class Answer:
    """One line of a client's ledger: what it sent (a tag unique to the request) and the reply."""

    tag: str
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Served:
    runtime: Runtime
    url: str
    headers: dict[str, str]


@pytest.fixture
def served(backend: Backend, tmp_path: Path) -> Iterator[Served]:
    runtime = build_runtime(Settings(data_dir=tmp_path), backend=backend)
    runtime.start()
    try:
        with serving(create_app(runtime)) as url:
            yield Served(runtime, url, bearer(runtime.tokens.create("admin")))
    finally:
        runtime.stop()


def post(client: httpx2.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


def setting(served: Served) -> tuple[httpx2.Client, str, str]:
    """A client, a team and a member of it."""
    client = httpx2.Client(base_url=served.url, headers=served.headers, timeout=30)
    team_id = post(client, "/v1/teams", {"name": "Payments"})["id"]
    member_id = post(
        client,
        "/v1/members",
        {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "role": "member",
            "weekly_capacity": 20,
            "team_ids": [team_id],
        },
    )["id"]
    return client, team_id, member_id


def run_clients(
    served: Served, send: Callable[[httpx2.Client, str], httpx2.Response]
) -> list[Answer]:
    """Every client sends its commands one after another, all clients at once; the ledger."""
    barrier = threading.Barrier(CLIENTS)

    def client_run(number: int) -> list[Answer]:
        ledger: list[Answer] = []
        with httpx2.Client(base_url=served.url, headers=served.headers, timeout=30) as client:
            barrier.wait(timeout=30)
            for sent in range(COMMANDS_PER_CLIENT):
                tag = f"client {number} command {sent}"
                response = send(client, tag)
                ledger.append(Answer(tag, response.status_code, response.json()))
        return ledger

    with ThreadPoolExecutor(CLIENTS) as pool:
        ledgers = list(pool.map(client_run, range(CLIENTS)))
    return [answer for ledger in ledgers for answer in ledger]


def assert_all_accepted(answers: list[Answer], status: int) -> None:
    statuses = Counter(answer.status for answer in answers)
    refused = [answer for answer in answers if answer.status != status]
    assert statuses == {status: CLIENTS * COMMANDS_PER_CLIENT}, refused[:5]


def test_eight_clients_creating_issues_in_one_project_all_succeed_with_gap_free_keys(
    served: Served,
) -> None:
    client, team_id, member_id = setting(served)
    project_id = post(
        client,
        "/v1/projects",
        {
            "name": "Payments v2",
            "key": "PAY",
            "owner_id": member_id,
            "team_id": team_id,
            "start_date": "2026-03-01",
            "target_date": "2026-06-30",
        },
    )["id"]

    answers = run_clients(
        served,
        lambda c, tag: c.post(
            "/v1/issues",
            json={"title": tag, "kind": "task", "team_id": team_id, "project_id": project_id},
        ),
    )

    assert_all_accepted(answers, 201)
    created = [e for e in served.runtime.store.read(0, 100_000) if e.type == "IssueCreated"]
    assert Counter(e.data.title for e in created) == Counter(a.tag for a in answers)
    assert {str(e.stream_id): e.data.title for e in created} == {
        a.body["id"]: a.tag for a in answers
    }
    numbers = sorted(int(a.body["key"].split("-")[1]) for a in answers)
    assert numbers == list(range(1, len(answers) + 1))
    added = [
        e for e in served.runtime.store.load(UUID(project_id)) if e.type == "ProjectIssueAdded"
    ]
    assert sorted(e.data.number for e in added) == numbers


def test_eight_clients_commenting_on_one_issue_each_comment_is_recorded_once(
    served: Served,
) -> None:
    client, team_id, _ = setting(served)
    issue_id = post(client, "/v1/issues", {"title": "Busy", "kind": "task", "team_id": team_id})[
        "id"
    ]

    answers = run_clients(
        served, lambda c, tag: c.post(f"/v1/issues/{issue_id}/comments", json={"body": tag})
    )

    assert_all_accepted(answers, 201)
    events = served.runtime.store.load(UUID(issue_id))
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    comments = [e.data.body for e in events if e.type == "IssueCommented"]
    assert Counter(comments) == Counter(a.tag for a in answers)
    assert sorted(a.body["version"] for a in answers) == list(range(2, len(events) + 1))
    assert_occurred_in_order(events)


def test_eight_clients_checking_in_on_one_key_result_each_check_in_is_recorded_once(
    served: Served,
) -> None:
    client, _, member_id = setting(served)
    goal_id = post(
        client,
        "/v1/goals",
        {
            "title": "Make payments boring",
            "owner_id": member_id,
            "period_start": "2026-01-01",
            "period_end": "2026-03-31",
        },
    )["id"]
    kr_id = post(
        client,
        f"/v1/goals/{goal_id}/key-results",
        {"title": "Payout success rate", "unit": "percent", "start": 90, "target": 99},
    )["key_result_id"]

    answers = run_clients(
        served,
        lambda c, tag: c.post(
            f"/v1/goals/{goal_id}/key-results/{kr_id}/check-ins",
            json={"value": 95, "note": tag},
        ),
    )

    assert_all_accepted(answers, 200)
    events = served.runtime.store.load(UUID(goal_id))
    notes = [e.data.note for e in events if e.type == "KeyResultCheckedIn"]
    assert Counter(notes) == Counter(a.tag for a in answers)
    assert_occurred_in_order(events)


def assert_occurred_in_order(events: list[Any]) -> None:
    """Live commands take their time where their order is decided: it never goes back."""
    times = [e.metadata.occurred_at for e in events]
    assert times == sorted(times)
