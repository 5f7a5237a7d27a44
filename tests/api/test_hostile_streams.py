"""Hostile input that arrives over time: an import's lines, and bodies that stop arriving.

A hostile line of an import is refused as a live command's body would be, and nothing of it is
written; a body that stalls is answered ``408`` within the body timeout and its connection
closed, so it can't hold a worker.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from services.app import Runtime, build_runtime, create_app
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from tests.api.conftest import Org
from tests.api.helpers import Headers
from tests.api.hostile import SENT, held
from tests.conftest import FrozenClock, serving

TEAM = {"command": "POST /v1/teams", "body": {"name": "Imported"}, "actor_id": None}
AT = "2026-03-01T09:00:00Z"
BODY_TIMEOUT = 0.5


@pytest.fixture(scope="module", autouse=True)
def tally() -> Iterator[None]:
    yield
    print(f"\nhostile requests: {sum(SENT.values())} so far, by class {dict(SENT)}")


def _line(**fields: Any) -> bytes:
    return orjson.dumps({**TEAM, "occurred_at": AT, **fields})


def _nested(depth: int) -> bytes:
    """A line whose body nests ``depth`` objects deep: more than orjson writes or pydantic
    reads."""
    name = b'{"a": ' * depth + b"1" + b"}" * depth
    return _line().replace(b'"Imported"', name)


def _import(client: TestClient, admin: Headers, content: bytes) -> Any:
    headers = {
        **admin,
        "Content-Type": "application/x-ndjson",
        "Import-ID": f"hostile-{uuid.uuid4().hex[:8]}",
    }
    return client.post("/v1/import", content=content, headers=headers)


def test_a_hostile_line_of_an_import_is_refused_and_nothing_of_it_is_written(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    operation = {
        "title": "Since the dawn of time",
        "team_id": org.team_id,
        "owner_id": org.member_id,
        "cadence": {"every": "day"},
        "start_date": "0001-01-01",
    }
    lines = [
        *(_nested(depth) for depth in (40, 300, 1000)),
        b'{"command": "POST /v1/teams", "body": {"name": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
        b'{"command": "POST /v1/teams", "body": {"name": "\xff"}, "occurred_at": "' + AT.encode(),
        b'{"command": "POST /v1/teams", "body": {"name": "\\ud800"}, "occurred_at": "x"}',
        _line(body={"name": "Pay\x00ments"}),
        _line(body={"name": "Payments", "weekly_capacity": "5"}),
        _line(body=["Payments"]),
        _line(id=f"urn:uuid:{uuid.uuid4()}"),
        _line(id=f"{{{uuid.uuid4()}}}"),
        _line(actor_id=org.member_id.replace("-", "")),
        *(
            _line(occurred_at=moment)
            for moment in (
                "0001-01-01T00:00:00+14:00",
                "0001-01-01T00:00:00Z",
                "1899-12-31T23:59:59Z",
                "2026-03-01",
                "2026-03-01T09:00:00",
                "9999-12-31T23:59:59Z",
                "2026-W09-1T09:00:00Z",
            )
        ),
        _line(command="POST /v1/operations", body=operation),
        _line(body={"name": "x" * runtime.settings.max_body_bytes}),
    ]
    found: list[str] = []
    for line in lines:
        before = runtime.store.last_position()
        response = _import(client, admin, line + b"\n")
        found += held(
            response, allowed=(400, 413, 422), log=(before, runtime.store.last_position())
        )
        if response.status_code in (400, 413, 422):
            assert response.json()["line"] == 1, response.text
            assert response.json()["import"]["lines_done"] == 0, response.text
    assert found == []


@pytest.fixture
def slow_api(backend: Backend, clock: FrozenClock, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real server whose bodies must arrive within ``BODY_TIMEOUT``; its address and an
    admin's token."""
    settings = Settings(data_dir=tmp_path, body_timeout_seconds=BODY_TIMEOUT)
    runtime = build_runtime(settings, clock=clock, backend=backend, run_workers=False, views=())
    runtime.start()
    try:
        with serving(create_app(runtime)) as url:
            yield url.removeprefix("http://"), runtime.tokens.create("admin")
    finally:
        runtime.stop()


def _stall(address: str, head: str, part: bytes) -> tuple[bytes, float]:
    """Sends a request's head and the first part of its body, then nothing: the answer, read
    until the server closes the connection, and how long that took."""
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        started = time.monotonic()
        connection.sendall(head.encode() + b"\r\n" + part)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer, time.monotonic() - started


def test_a_body_that_stops_arriving_is_answered_408_and_its_connection_closed(
    slow_api: tuple[str, str],
) -> None:
    address, token = slow_api
    head = (
        "POST /v1/teams HTTP/1.1\r\n"
        f"Host: {address}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 100\r\n"
    )
    answer, waited = _stall(address, head, b'{"name": ')

    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"application/problem+json" in answer
    assert b'"code":"request_timeout"' in answer
    assert BODY_TIMEOUT <= waited < BODY_TIMEOUT + 5


def test_an_import_whose_stream_stalls_is_answered_408_and_its_connection_closed(
    slow_api: tuple[str, str],
) -> None:
    address, token = slow_api
    head = (
        "POST /v1/import HTTP/1.1\r\n"
        f"Host: {address}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/x-ndjson\r\n"
        "Import-ID: stalled\r\n"
        "Transfer-Encoding: chunked\r\n"
    )
    part = b'{"command": "POST /v1/teams"'
    answer, waited = _stall(address, head, b"%x\r\n%s\r\n" % (len(part), part))

    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b'"code":"request_timeout"' in answer
    assert BODY_TIMEOUT <= waited < BODY_TIMEOUT + 5
