"""Connections to PostgreSQL cut around commits, under load: no answer contradicts the log.

A fault proxy between the service and the database cuts some of the commits that write events:
before the ``COMMIT`` is delivered, after it is delivered but before its reply comes back, and
after the reply. Clients keep a ledger of what they were answered. Every command answered with
success must be in the log exactly once, every command answered with an error must not be in it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx2
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from services.app import Runtime, build_runtime, create_app
from services.infrastructure.postgres import PostgresBackend
from services.infrastructure.settings import Settings
from tests.conftest import bearer, empty_postgres, serving
from tests.integration.faultproxy import MOMENTS, FaultProxy

pytestmark = pytest.mark.postgres

CLIENTS = 6
COMMANDS_PER_CLIENT = 40


@dataclass(frozen=True)
class Answer:
    tag: str
    kind: str
    status: int
    body: dict[str, Any]


@dataclass
class Setup:
    runtime: Runtime
    proxy: FaultProxy
    url: str
    headers: dict[str, str]


@pytest.fixture
def behind_proxy(postgres_url: str, tmp_path: Path) -> Iterator[Setup]:
    empty_postgres(postgres_url)
    parts = conninfo_to_dict(postgres_url)
    proxy = FaultProxy((str(parts.get("host") or "127.0.0.1"), int(parts.get("port") or 5432)))
    parts.update(host="127.0.0.1", port=str(proxy.port))
    proxied = make_conninfo("", **{k: str(v) for k, v in parts.items() if v is not None})
    backend = PostgresBackend.from_url(proxied, pool_size=4, max_overflow=8)
    runtime = build_runtime(Settings(data_dir=tmp_path), backend=backend, run_workers=False)
    runtime.start()
    try:
        with serving(create_app(runtime), log_level="critical") as url:
            yield Setup(runtime, proxy, url, bearer(runtime.tokens.create("admin")))
    finally:
        runtime.stop()
        proxy.close()


def send(
    client: httpx2.Client, path: str, body: dict[str, Any], key: str | None
) -> httpx2.Response:
    headers = {"Idempotency-Key": key} if key else {}
    response = client.post(path, json=body, headers=headers)
    # A client with an Idempotency-Key may retry an outage safely; without one it may not.
    for _ in range(20):
        if key is None or response.status_code != 503:
            break
        time.sleep(0.05)
        response = client.post(path, json=body, headers=headers)
    return response


def test_commits_cut_at_every_moment_under_load_leave_no_answer_that_contradicts_the_log(
    behind_proxy: Setup,
) -> None:
    setup = behind_proxy
    with httpx2.Client(base_url=setup.url, headers=setup.headers, timeout=30) as client:
        team_id = client.post("/v1/teams", json={"name": "Payments"}).json()["id"]
        issue_id = client.post(
            "/v1/issues", json={"title": "Busy", "kind": "task", "team_id": team_id}
        ).json()["id"]
        member_id = client.post(
            "/v1/members",
            json={
                "name": "Ada",
                "email": "ada@example.com",
                "role": "member",
                "weekly_capacity": 20,
                "team_ids": [team_id],
            },
        ).json()["id"]
        project_id = client.post(
            "/v1/projects",
            json={
                "name": "Payments v2",
                "key": "PAY",
                "owner_id": member_id,
                "team_id": team_id,
                "start_date": "2026-03-01",
                "target_date": "2026-06-30",
            },
        ).json()["id"]
    setup.proxy.cut_commits(every=2)
    barrier = threading.Barrier(CLIENTS)

    def client_run(number: int) -> list[Answer]:
        ledger: list[Answer] = []
        with httpx2.Client(base_url=setup.url, headers=setup.headers, timeout=60) as client:
            barrier.wait(timeout=30)
            for sent in range(COMMANDS_PER_CLIENT):
                tag = f"client {number} command {sent}"
                key = tag.replace(" ", "-") if sent % 2 else None
                if sent % 3 == 0:
                    kind, path = "comment", f"/v1/issues/{issue_id}/comments"
                    body: dict[str, Any] = {"body": tag}
                else:
                    kind, path = "create", "/v1/issues"
                    body = {"title": tag, "kind": "task", "team_id": team_id}
                    body["project_id"] = project_id
                response = send(client, path, body, key)
                ledger.append(Answer(tag, kind, response.status_code, response.json()))
        return ledger

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = [a for ledger in pool.map(client_run, range(CLIENTS)) for a in ledger]
    setup.proxy.cut_commits(every=0)

    assert all(setup.proxy.cuts[moment] >= 3 for moment in MOMENTS), setup.proxy.cuts
    statuses = Counter(a.status for a in answers)
    assert set(statuses) <= {200, 201, 503}, [a for a in answers if a.status not in (201, 503)]
    log = setup.runtime.store.read(0, 100_000)
    titles = Counter(e.data.title for e in log if e.type == "IssueCreated")
    comments = Counter(e.data.body for e in log if e.type == "IssueCommented")
    for answer in answers:
        recorded = (titles if answer.kind == "create" else comments)[answer.tag]
        if answer.status in (200, 201):
            assert recorded == 1, answer
        else:
            assert recorded == 0, answer
            assert answer.body["code"] in ("unavailable", "outcome_unknown"), answer
    created = [a for a in answers if a.kind == "create" and a.status == 201]
    for answer in created:
        assert UUID(answer.body["id"]) in {e.stream_id for e in log if e.type == "IssueCreated"}
    numbers = sorted(int(a.body["key"].split("-")[1]) for a in created)
    assert numbers == list(range(1, len(created) + 1))
    print(f"\nledger: {dict(statuses)}; cuts: {dict(setup.proxy.cuts)}")
