"""The metrics of real processes on PostgreSQL: ``workledger api --workers 2`` counts both of its
processes in one scrape, and ``workledger worker`` serves its own on ``WORKLEDGER_METRICS_PORT``;
each writes its log as JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client.multiprocess import MultiProcessCollector

from services.app import build_runtime, create_app
from services.infrastructure.postgres import PostgresBackend
from services.infrastructure.settings import Settings
from services.infrastructure.tokens import TokenStore
from tests.benchmarks.loadgen import send_all
from tests.conftest import bearer, create_database, drop_database, wait_until
from tests.integration.scraped import Scrape
from tests.stream.conftest import free_port

pytestmark = pytest.mark.postgres

START_SECONDS = 60.0
REQUESTS_PER_ROUND = 48
ROUNDS = 10


@pytest.fixture
def database(postgres_server_url: str) -> Iterator[str]:
    """A fresh database of this test's own."""
    url = create_database(postgres_server_url, "workledger_metrics")
    yield url
    drop_database(postgres_server_url, url)


def admin_token(url: str) -> str:
    backend = PostgresBackend.from_url(url, pool_size=1, max_overflow=1)
    try:
        return TokenStore(backend).create("admin")
    finally:
        backend.close()


@contextmanager
def running(arguments: list[str], settings: dict[str, str], port: int, logs: Path) -> Iterator[str]:
    """``workledger <arguments>`` in a process of its own, once it answers ``/healthz`` on
    ``port``; its base URL. Its standard error is kept in ``logs/stderr``."""
    environment = {name: value for name, value in os.environ.items() if "WORKLEDGER_" not in name}
    environment |= settings
    with (logs / "stdout").open("wb") as out, (logs / "stderr").open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", *arguments],
            env=environment,
            stdout=out,
            stderr=err,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (logs / "stderr").read_text()[-3000:]
            assert time.monotonic() < deadline, f"workledger {arguments[0]} did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def assert_json_lines(path: Path) -> None:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    assert lines, f"nothing was logged to {path}"
    for line in lines:
        written = json.loads(line)
        assert {"time", "level", "logger", "message"} <= written.keys(), line


def create_teams(base: str, token: str, count: int) -> int:
    """Creates ``count`` teams at once, each on a connection of its own (so that whichever
    process accepts it answers); how many were created."""

    def create(number: int) -> int:
        answer = httpx.post(
            f"{base}/v1/teams", json={"name": f"Team {number}"}, headers=bearer(token)
        )
        return answer.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(create, range(count)))
    assert set(statuses) == {201}, statuses
    return len(statuses)


def commands_by_process(shared: Path) -> dict[str, float]:
    """The commands each process answered, from its own counter file in ``shared``."""
    counted: dict[str, float] = {}
    for counters in shared.glob("counter_*.db"):
        merged = MultiProcessCollector.merge([str(counters)])  # type: ignore[no-untyped-call]
        counted[counters.stem.removeprefix("counter_")] = sum(
            sample.value
            for family in merged
            for sample in family.samples
            if sample.name == "workledger_commands_total"
        )
    return counted


def processes_that_counted_commands(shared: Path) -> set[str]:
    """The processes whose own counter file in ``shared`` holds answered commands."""
    return {pid for pid, count in commands_by_process(shared).items() if count > 0}


@contextmanager
def two_api_processes(database: str, shared: Path, port: int, logs: Path) -> Iterator[str]:
    """``workledger api --workers 2`` counting its metrics in ``shared``; its base URL."""
    settings = {"WORKLEDGER_DATABASE_URL": database, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    with running(["api", "--workers", "2", "--port", str(port)], settings, port, logs) as base:
        yield base


def until_both_answered(base: str, token: str, shared: Path, per_round: int) -> int:
    """Creates teams, ``per_round`` at once, until both processes have answered one (or
    ``ROUNDS`` rounds have passed); how many were created."""
    sent = 0
    for _ in range(ROUNDS):
        sent += create_teams(base, token, per_round)
        if len(processes_that_counted_commands(shared)) == 2:
            break
    return sent


def test_one_scrape_of_api_with_two_workers_counts_both_processes(
    database: str, tmp_path: Path
) -> None:
    token = admin_token(database)
    port = free_port()
    shared = tmp_path / "metrics"

    with two_api_processes(database, shared, port, tmp_path) as base:
        sent = until_both_answered(base, token, shared, REQUESTS_PER_ROUND)
        both = processes_that_counted_commands(shared)
        scraped = Scrape.of(httpx.get(f"{base}/metrics").text)

    assert len(both) == 2, "one process answered every request"
    commands = scraped.value("workledger_commands_total", command="create_team", outcome="accepted")
    assert commands == sent
    timed = "workledger_http_request_duration_seconds_count"
    assert scraped.value(timed, method="POST", route="/v1/teams", status_class="2xx") == sent
    assert scraped.value("workledger_committer_batch_size_sum") == sent
    assert scraped.value("workledger_log_position") == sent
    assert scraped.label_values("workledger_view_position", "view") >= {"history", "queue"}
    assert_json_lines(tmp_path / "stderr")


def create_a_team(url: str) -> int:
    """A team created through the API of a process in this test; the log's position after it."""
    runtime = build_runtime(Settings(database_url=url), run_workers=False, views=())
    try:
        with TestClient(create_app(runtime)) as client:
            answer = client.post(
                "/v1/teams",
                json={"name": "Payments"},
                headers=bearer(runtime.tokens.create("admin")),
            )
        assert answer.status_code == 201, answer.text
        position: int = answer.json()["position"]
        return position
    finally:
        runtime.close()


def test_a_worker_serves_its_metrics_on_the_metrics_port(database: str, tmp_path: Path) -> None:
    port = free_port()
    settings = {
        "WORKLEDGER_DATABASE_URL": database,
        "WORKLEDGER_METRICS_PORT": str(port),
        "WORKLEDGER_METRICS_TOKEN": "scrape-me",
    }
    arguments = ["worker", "--view", "history", "--no-scheduler"]

    with running(arguments, settings, port, tmp_path) as base:

        def scrape() -> Scrape:
            answer = httpx.get(f"{base}/metrics", headers=bearer("scrape-me"))
            assert answer.status_code == 200, answer.text
            return Scrape.of(answer.text)

        position = create_a_team(database)
        wait_until(
            lambda: scrape().value("workledger_view_position", view="history") >= position,
            timeout=30,
            what="the worker applied the team",
        )
        scraped = scrape()
        anonymous = httpx.get(f"{base}/metrics")

    assert anonymous.status_code == 401
    assert scraped.label_values("workledger_view_position", "view") == {"history"}
    assert scraped.value("workledger_view_pages_applied_total", view="history") >= 1
    assert scraped.value("workledger_view_events_applied_total", view="history") == 1
    assert scraped.value("workledger_view_lag_events", view="history") == 0
    assert scraped.has("workledger_db_pool_connections_in_use")
    assert_json_lines(tmp_path / "stderr")


BURST = 32


def test_connections_opened_at_once_are_spread_over_the_api_processes(
    database: str, tmp_path: Path
) -> None:
    """Each process listens on a socket of its own (``services/api_processes.py``): a burst of
    new connections, kept alive, does not all land in the process that woke first."""
    token = admin_token(database)
    port = free_port()
    shared = tmp_path / "metrics"

    with two_api_processes(database, shared, port, tmp_path) as base:
        # Both processes listen before the burst (the first to listen answers /healthz alone).
        until_both_answered(base, token, shared, 8)
        before = commands_by_process(shared)
        # As a client pool starts (the load generator of `make soak`): every connection opened
        # in the same instant, then each keeps sending on its own.
        batches = [
            [("POST", "/v1/teams", orjson.dumps({"name": f"T{n}.{i}"})) for i in range(2)]
            for n in range(BURST)
        ]
        answers = send_all("127.0.0.1", port, token, batches)
        # A command is counted once its answer is on its way: the last may still be counting.
        expected = sum(before.values()) + 2 * BURST
        wait_until(lambda: sum(commands_by_process(shared).values()) >= expected, 10, "every count")
        after = commands_by_process(shared)
        counted = {pid: after[pid] - before.get(pid, 0) for pid in after if after[pid]}

    assert {status for batch in answers for status, _ in batch} == {201}
    assert sum(counted.values()) == 2 * BURST
    assert len(counted) == 2, counted
    # Spread by the kernel's hash of each connection's address: all 32 in one process has a
    # chance of 2 in 4 billion; fewer than 4 in one, about 1 in 100,000.
    assert min(counted.values()) >= 2 * 4, counted
