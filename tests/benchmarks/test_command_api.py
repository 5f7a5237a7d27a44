"""Command API throughput and latency on PostgreSQL, beside two baselines from the same run.

Two kinds of load: closed loop (each connection sends its next command when the last is
answered, at several concurrency levels: the most the API does), and paced (open loop: commands
leave at a fixed rate whatever the server does, and each latency runs from the moment its command
was due, so queueing counts). The target, 1,000 commands/s sustained with p99 <= 50 ms, is a
paced figure: a closed loop at high concurrency measures mostly its own queue.

Baselines: the same number of single-row insert transactions through raw psycopg (the ceiling of
one fsync per transaction), and the same number of aggregates saved one per transaction through
the eventsourcing library's ``Application.save``.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import orjson
import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg.conninfo import conninfo_to_dict

from services.infrastructure.postgres import PostgresBackend
from services.infrastructure.tokens import TokenStore
from tests.benchmarks.loadgen import LoadResult, Request, run_load, run_paced
from tests.conftest import empty_postgres

pytestmark = pytest.mark.benchmark

CONCURRENCY = (8, 32, 64)
WORKERS = (1, 2)
PACED_RATES = (500, 750, 1000)
PACED_CONNECTIONS = 64
TARGET_RATE = 1000
TARGET_P99_MS = 50.0
SECONDS = float(os.environ.get("WORKLEDGER_BENCH_SECONDS", "6"))
ISSUES_PER_CONNECTION = 8
CYCLE = ("todo", "in_progress", "in_review", "done", "todo")


@dataclass(frozen=True)
class Workload:
    team_id: str
    member_ids: list[str]
    issues: list[list[str]]


def _requests(workload: Workload, connection: int) -> Iterator[Request]:
    """A realistic mix on the connection's own issues: every request is a valid command."""
    issue_ids = workload.issues[connection]
    members = workload.member_ids
    step = dict.fromkeys(issue_ids, 0)
    edits = dict.fromkeys(issue_ids, 0)
    for turn in itertools.count():
        issue_id = issue_ids[turn % len(issue_ids)]
        kind = turn % 5
        if kind == 0:
            status = CYCLE[step[issue_id] % len(CYCLE)]
            step[issue_id] += 1
            if step[issue_id] % len(CYCLE) == 0:
                step[issue_id] = 1
            yield "POST", f"/v1/issues/{issue_id}/transition", orjson.dumps({"status": status})
        elif kind == 1:
            body = {"body": f"progress note {turn}"}
            yield "POST", f"/v1/issues/{issue_id}/comments", orjson.dumps(body)
        elif kind == 2:
            edits[issue_id] += 1
            priority = ("high", "low")[edits[issue_id] % 2]
            yield "PATCH", f"/v1/issues/{issue_id}", orjson.dumps({"priority": priority})
        elif kind == 3:
            member = members[(turn + connection) % len(members)]
            yield "POST", f"/v1/issues/{issue_id}/assign", orjson.dumps({"assignee_id": member})
        else:
            body = {"title": f"Follow-up {turn}", "kind": "bug", "team_id": workload.team_id}
            yield "POST", "/v1/issues", orjson.dumps(body)


def _drive(
    port: int, token: str, workload: Workload, connections: int, rate: float | None = None
) -> dict[str, Any]:
    """Closed loop, or paced at ``rate`` commands/s when given."""

    def source(connection: int) -> Iterator[Request]:
        return _requests(workload, connection)

    result: LoadResult
    if rate is None:
        result = run_load("127.0.0.1", port, token, source, connections, SECONDS)
    else:
        result = run_paced("127.0.0.1", port, token, source, connections, rate, SECONDS)
    return {
        "count": result.count,
        "rate": result.rate,
        "p50": result.percentile(0.50) * 1000,
        "p99": result.percentile(0.99) * 1000,
        "statuses": dict(result.statuses),
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _seed(base: str, token: str, connections: int) -> Workload:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        team_id = http.post("/v1/teams", json={"name": "Bench"}).json()["id"]
        member_ids = [
            http.post(
                "/v1/members",
                json={
                    "name": f"Member {n}",
                    "email": f"member{n}-{uuid4().hex[:6]}@example.com",
                    "role": "member",
                    "weekly_capacity": 10,
                    "team_ids": [team_id],
                },
            ).json()["id"]
            for n in range(16)
        ]

    def issues_for(connection: int) -> list[str]:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            return [
                http.post(
                    "/v1/issues",
                    json={"title": f"Issue {connection}.{n}", "kind": "task", "team_id": team_id},
                ).json()["id"]
                for n in range(ISSUES_PER_CONNECTION)
            ]

    with ThreadPoolExecutor(16) as pool:
        issues = list(pool.map(issues_for, range(connections)))
    return Workload(team_id, member_ids, issues)


def _raw_inserts(url: str, total: int, connections: int) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_rows")
        conn.execute("CREATE TABLE bench_rows (id bigserial PRIMARY KEY, body bytea)")
    payload = b"x" * 600
    share = [
        total // connections + (1 if n < total % connections else 0) for n in range(connections)
    ]

    def insert(count: int) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            for _ in range(count):
                conn.execute("INSERT INTO bench_rows (body) VALUES (%s)", (payload,))

    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(insert, share))
    return total / (time.perf_counter() - started)


class Ticket(Aggregate):
    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title


def _library_saves(url: str, total: int, connections: int) -> float:
    parts = conninfo_to_dict(url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parts["dbname"]),
        "POSTGRES_HOST": str(parts.get("host") or "127.0.0.1"),
        "POSTGRES_PORT": str(parts.get("port") or 5432),
        "POSTGRES_USER": str(parts.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(parts.get("password") or ""),
        "POSTGRES_POOL_SIZE": str(connections),
    }
    app = Application[Any](env=env)
    share = [
        total // connections + (1 if n < total % connections else 0) for n in range(connections)
    ]

    def save(count: int) -> None:
        for n in range(count):
            app.save(Ticket(f"ticket {n}"))

    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(save, share))
    rate = total / (time.perf_counter() - started)
    app.close()
    return rate


@dataclass(frozen=True)
class Level:
    """One load: ``connections`` closed-loop connections, or paced at ``rate`` commands/s."""

    connections: int
    rate: float | None = None


def _measure_api(postgres_url: str, workers: int) -> dict[Level, dict[str, Any]]:
    """Runs the API in its own process(es) and drives it at each closed and paced level."""
    empty_postgres(postgres_url)
    port = _free_port()
    env = {
        **os.environ,
        "WORKLEDGER_DATABASE_URL": postgres_url,
        "WORKLEDGER_DB_POOL_SIZE": "16",
        "WORKLEDGER_WORKERS": str(workers),
    }
    backend = PostgresBackend.from_url(postgres_url, pool_size=1, max_overflow=1)
    token = TokenStore(backend).create("admin")
    server = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "api", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    levels = [Level(c) for c in CONCURRENCY] + [Level(PACED_CONNECTIONS, r) for r in PACED_RATES]
    results: dict[Level, dict[str, Any]] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        for level in levels:
            # Fresh issues for each level, so every generated transition is valid.
            workload = _seed(base, token, level.connections)
            before = backend.max_position()
            with ProcessPoolExecutor(1) as pool:
                drive = pool.submit(_drive, port, token, workload, level.connections, level.rate)
                api = drive.result()
            written = backend.max_position() - before
            assert set(api["statuses"]) <= {200, 201}, api["statuses"]
            assert written >= api["count"], "every command must have written an event"
            results[level] = api
    finally:
        server.terminate()
        server.wait(10)
        backend.close()
    return results


def test_command_api_throughput_and_latency(postgres_url: str) -> None:
    by_workers = {workers: _measure_api(postgres_url, workers) for workers in WORKERS}
    lines = []
    for connections in CONCURRENCY:
        total = max(by_workers[w][Level(connections)]["count"] for w in WORKERS)
        raw = _raw_inserts(postgres_url, total, connections)
        library = _library_saves(postgres_url, total, connections)
        for workers in WORKERS:
            api = by_workers[workers][Level(connections)]
            lines.append(
                f"{workers:>7} {connections:>5} {api['count']:>8} {api['rate']:>7.0f} "
                f"{api['p50']:>6.1f} {api['p99']:>6.1f} {raw:>10.0f} {library:>10.0f}"
            )
    print()
    print("command API over HTTP on PostgreSQL (target: >= 1,000 commands/s with p99 <= 50 ms)")
    print("baselines: the same number of single-row insert transactions (raw psycopg), and of")
    print("aggregates saved one per transaction with the library's Application.save")
    print("closed loop: each connection sends its next command when the last is answered")
    print("workers conns commands   cmd/s p50 ms p99 ms  raw tx/s  library/s")
    for line in lines:
        print(line)
    print(
        f"paced: commands leave at a fixed rate over {PACED_CONNECTIONS} connections; each "
        "latency runs from the moment its command was due"
    )
    print("workers  rate/s commands answered/s p50 ms p99 ms  target")
    for workers in WORKERS:
        for rate in PACED_RATES:
            api = by_workers[workers][Level(PACED_CONNECTIONS, rate)]
            verdict = (
                ("met" if api["p99"] <= TARGET_P99_MS else "MISSED") if rate == TARGET_RATE else ""
            )
            print(
                f"{workers:>7} {rate:>7,.0f} {api['count']:>8} {api['rate']:>10.0f} "
                f"{api['p50']:>6.1f} {api['p99']:>6.1f}  {verdict}"
            )
