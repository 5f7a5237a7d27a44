"""A database that goes silent (its connections open, no answer coming) holds no request longer
than the wait: a round trip waits at most the limit its work set, the group committer withdraws
a command it has not taken within the wait, and the API answers ``503`` meanwhile."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import psycopg
import pytest
from eventsourcing.persistence import OperationalError
from psycopg.conninfo import conninfo_to_dict

from services.app import Runtime, build_runtime, create_app, make_codec
from services.infrastructure.answer_limit import answers_within
from services.infrastructure.committer import CommandNotTaken, GroupCommitter
from services.infrastructure.postgres import PostgresBackend
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend, EventStore
from tests.conftest import FrozenClock, bearer, empty_postgres, serving
from tests.integration.faults.proxy import Proxy
from tests.integration.test_store import Gate, command, committed, create_team, log

# Timed, so run with the fault tests, by themselves.
pytestmark = [
    pytest.mark.faults,
    pytest.mark.filterwarnings("ignore::platformdirs.api.RuntimeDirWarning"),
]

WAIT_SECONDS = 0.5
# What an answer may take beyond the wait: the request's own work on a busy machine.
MARGIN_SECONDS = 0.5
HEALED_AFTER_SECONDS = 5.0


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[Proxy]:
    """A fault proxy in front of the suite's PostgreSQL, and the URL through it."""
    empty_postgres(postgres_url)
    parts = conninfo_to_dict(postgres_url)
    started = Proxy((str(parts.get("host") or "127.0.0.1"), int(parts.get("port") or 5432)))
    yield started
    started.close()


def through(proxy: Proxy, postgres_url: str) -> str:
    parts = conninfo_to_dict(postgres_url)
    return f"postgresql://{parts.get('user') or 'postgres'}@{proxy.address}/{parts['dbname']}"


@pytest.mark.postgres
def test_a_round_trip_waits_no_longer_than_the_limit_then_the_connection_is_replaced(
    proxy: Proxy, postgres_url: str
) -> None:
    backend = PostgresBackend.from_url(through(proxy, postgres_url), pool_size=1, max_overflow=1)
    try:
        assert backend.fetchall("SELECT 1") == [(1,)]
        proxy.black_hole(HEALED_AFTER_SECONDS)
        started = time.monotonic()
        with answers_within(WAIT_SECONDS), pytest.raises((OperationalError, psycopg.Error)):
            backend.fetchall("SELECT 1")
        assert time.monotonic() - started < WAIT_SECONDS + MARGIN_SECONDS
        proxy.heal()
        with answers_within(WAIT_SECONDS):
            assert backend.fetchall("SELECT 2") == [(2,)]
    finally:
        proxy.heal()
        backend.close()


def test_a_command_not_taken_within_the_wait_is_withdrawn_and_one_taken_is_answered(
    sqlite_backend: Backend,
) -> None:
    store = EventStore(sqlite_backend, make_codec(), FrozenClock())
    committer = GroupCommitter(store, wait_seconds=0.2)
    committer.start()
    gate = Gate()
    withdrawn = uuid4()
    try:
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(committer.submit, gate.hold(command(create_team(uuid4()))))
            assert gate.entered.wait(10)
            started = time.monotonic()
            with pytest.raises(CommandNotTaken):
                committer.submit(command(create_team(withdrawn)))
            assert time.monotonic() - started < 1
            gate.release.set()
            # Taken into its batch before the wait ran out, it is answered whatever it took.
            committed(held.result(10))
    finally:
        gate.release.set()
        committer.stop()
    assert withdrawn not in {stream for _, stream, _, _ in log(store)}


@dataclass
class Served:
    runtime: Runtime
    url: str
    headers: dict[str, str]


@pytest.fixture
def served(proxy: Proxy, postgres_url: str, tmp_path: Path) -> Iterator[Served]:
    """The API on PostgreSQL through the proxy, as ``workledger api`` builds it."""
    url = through(proxy, postgres_url)
    settings = Settings(data_dir=tmp_path, database_url=url, database_wait_seconds=WAIT_SECONDS)
    runtime = build_runtime(settings, run_workers=False)
    runtime.start()
    try:
        with serving(create_app(runtime), log_level="critical") as base:
            yield Served(runtime, base, bearer(runtime.tokens.create("admin")))
    finally:
        proxy.heal()
        runtime.close()


@pytest.mark.postgres
def test_while_postgresql_is_silent_queries_and_commands_are_answered_503_within_the_wait(
    served: Served, proxy: Proxy
) -> None:
    with httpx.Client(base_url=served.url, headers=served.headers, timeout=30) as client:
        team = client.post("/v1/teams", json={"name": "Payments"}).json()["id"]
        issue = client.post("/v1/issues", json={"title": "Busy", "kind": "task", "team_id": team})
        comments = f"/v1/issues/{issue.json()['id']}/comments"
        # The command side now knows the issue, so commenting reads nothing before its commit.
        assert client.post(comments, json={"body": "First"}).status_code == 201
        proxy.black_hole(HEALED_AFTER_SECONDS)
        answers = []
        for method, path, body in [
            ("GET", "/v1/issues", None),
            ("POST", comments, {"body": "Second"}),
            ("POST", comments, {"body": "Third"}),
        ]:
            started = time.monotonic()
            answer = client.request(method, path, json=body)
            answers.append((answer, time.monotonic() - started))
        proxy.heal()

    for answer, seconds in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "1"
        assert seconds < WAIT_SECONDS + MARGIN_SECONDS, f"answered in {seconds:.2f} s"
