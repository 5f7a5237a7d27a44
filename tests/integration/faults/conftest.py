"""The fault tests' service: ``workledger api``, ``worker`` and ``relay`` as processes of their own,
on a PostgreSQL the tests own (to stop and start) and a Kafka-protocol broker, with a fault proxy
between the API and PostgreSQL and one between the relay and the broker."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.integration.faults.processes import Stack, running_stack
from tests.integration.faults.proxy import Proxy
from tests.integration.test_outage import OwnPostgres
from tests.stream.conftest import TansuBroker, free_port, tansu_binary

__all__ = ["tansu_binary"]

# How long a request waits for PostgreSQL before answering 503 (WORKLEDGER_DATABASE_WAIT_SECONDS).
DATABASE_WAIT_SECONDS = 1.0


@dataclass
class Faulty:
    """The service on a PostgreSQL and a broker the tests own, with a fault proxy between the API
    and PostgreSQL and one between the relay (and consumers) and the broker."""

    stack: Stack
    postgres: OwnPostgres
    database_proxy: Proxy
    broker: TansuBroker
    broker_proxy: Proxy
    place: dict[str, str]

    @property
    def database(self) -> str:
        return self.postgres.url


def _own_postgres(directory: Path) -> OwnPostgres:
    try:
        return OwnPostgres(directory / "pgdata")
    except Exception as error:
        if os.environ.get("WORKLEDGER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but no embedded one could start: {error}")
        pytest.skip(f"no embedded PostgreSQL: {error}")


def _broker(binary: str, logs: Path, proxy: Proxy, port: int) -> TansuBroker:
    broker = TansuBroker(binary, port, logs / "tansu.log", advertised_port=proxy.port)
    try:
        broker.start()
    except RuntimeError as error:
        if os.environ.get("WORKLEDGER_REQUIRE_KAFKA") == "1":
            pytest.fail(f"a Kafka broker is required but tansu did not start: {error}")
        pytest.skip(f"no Kafka broker available: {error}")
    return broker


def _socket_of(url: str) -> str:
    """The Unix socket of a PostgreSQL URL whose host is a socket directory."""
    parts = conninfo_to_dict(url)
    return f"{parts['host']}/.s.PGSQL.{parts.get('port') or 5432}"


@pytest.fixture(scope="package")
def faulty(tansu_binary: str) -> Iterator[Faulty]:
    """One service for every fault test (starting one takes seconds), stopped once they are
    done: each test injects its faults, heals them, and judges its own commands and the whole
    log."""
    # Not under pytest's base temporary directory: see ``test_outage.own_postgres``.
    directory = Path(tempfile.mkdtemp(prefix="workledger-faults-"))
    with ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, directory, ignore_errors=True)
        postgres = _own_postgres(directory)
        cleanup.callback(postgres.remove)
        database_proxy = Proxy(_socket_of(postgres.url))
        cleanup.callback(database_proxy.close)
        proxied = f"postgresql://postgres@{database_proxy.address}/postgres"
        broker_port = free_port()
        broker_proxy = Proxy(("127.0.0.1", broker_port))
        cleanup.callback(broker_proxy.close)
        broker = _broker(tansu_binary, directory, broker_proxy, broker_port)
        cleanup.callback(broker.stop)
        stack = cleanup.enter_context(
            running_stack(
                postgres.url,
                directory,
                api_database=proxied,
                bootstrap_servers=broker_proxy.address,
                settings={"WORKLEDGER_DATABASE_WAIT_SECONDS": str(DATABASE_WAIT_SECONDS)},
            )
        )
        place = organisation(stack.api_url, stack.headers)
        yield Faulty(stack, postgres, database_proxy, broker, broker_proxy, place)


@pytest.fixture
def service(faulty: Faulty) -> Iterator[Faulty]:
    """The shared service, every process running and every fault healed, before and after (a
    test that failed halfway may have left its fault in place)."""
    faulty.database_proxy.heal()
    faulty.broker_proxy.heal()
    faulty.postgres.start()
    if not faulty.broker.running:
        faulty.broker.start()
    faulty.stack.ensure_running()
    yield faulty
    faulty.database_proxy.heal()
    faulty.broker_proxy.heal()


def organisation(api_url: str, headers: dict[str, str]) -> dict[str, str]:
    """A team with a member and a project, created through the API; the fields that file an
    issue in the project."""
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as client:
        team = client.post("/v1/teams", json={"name": "Payments"})
        assert team.status_code == 201, team.text
        team_id = team.json()["id"]
        member = client.post(
            "/v1/members",
            json={
                "name": "Ada",
                "email": f"ada-{uuid.uuid4().hex[:8]}@example.com",
                "role": "member",
                "weekly_capacity": 20,
                "team_ids": [team_id],
            },
        )
        assert member.status_code == 201, member.text
        project = client.post(
            "/v1/projects",
            json={
                "name": "Payments v2",
                "key": "PAY",
                "owner_id": member.json()["id"],
                "team_id": team_id,
                "start_date": "2026-03-01",
                "target_date": "2026-06-30",
            },
        )
        assert project.status_code == 201, project.text
    return {"team_id": team_id, "project_id": project.json()["id"]}
