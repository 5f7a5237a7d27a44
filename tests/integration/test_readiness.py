"""``/readyz`` and ``workledger status`` tell the truth about a worker that is stuck or behind."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.app import Runtime, build_runtime, create_app
from services.cli import main
from services.infrastructure.codec import RecordedEvent
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from services.projections.page_writer import PageWriter
from tests.conftest import bearer, wait_until

BOUND_SECONDS = 0.3


@pytest.fixture
def runtime(backend: Backend, tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(data_dir=tmp_path, ready_max_lag_seconds=BOUND_SECONDS)
    built = build_runtime(settings, backend=backend)
    built.start()
    yield built
    built.stop()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


def write_a_team(client: TestClient, runtime: Runtime) -> int:
    answer = client.post(
        "/v1/teams", json={"name": "Payments"}, headers=bearer(runtime.tokens.create("admin"))
    )
    assert answer.status_code == 201, answer.text
    position: int = answer.json()["position"]
    return position


def readiness(client: TestClient) -> tuple[int, dict[str, Any]]:
    response = client.get("/readyz")
    body: dict[str, Any] = response.json()
    return response.status_code, body


def status_row(capsys: pytest.CaptureFixture[str], view: str) -> list[str]:
    assert main(["status"]) == 0
    out, _ = capsys.readouterr()
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if cells[0] == view:
            return cells
    raise AssertionError(f"no row for {view} in\n{out}")


@pytest.fixture
def settings_of_the_store(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WORKLEDGER_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("WORKLEDGER_DATA_DIR", str(tmp_path))
    url = getattr(backend, "url", None)
    monkeypatch.setenv("WORKLEDGER_DATABASE_URL", url if isinstance(url, str) else "")


def test_a_service_whose_views_keep_up_is_ready(client: TestClient, runtime: Runtime) -> None:
    position = write_a_team(client, runtime)
    wait_until(lambda: readiness(client)[1]["views"]["queue"]["position"] >= position)

    status, body = readiness(client)

    assert status == 200
    assert body["status"] == "ready"
    assert body["reasons"] == []
    assert set(body["views"]) == {
        "entities",
        "history",
        "insights",
        "portfolio",
        "queue",
        "workload",
    }


@pytest.mark.usefixtures("settings_of_the_store")
def test_a_worker_failing_on_an_event_makes_the_service_unready_until_it_recovers(
    client: TestClient,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    [worker] = [w for w in runtime.workers if w.name == "portfolio"]

    def broken(writer: PageWriter, event: RecordedEvent) -> None:
        raise RuntimeError("the portfolio can't take this event")

    working = worker.projection.apply
    monkeypatch.setattr(worker.projection, "apply", broken)
    position = write_a_team(client, runtime)
    wait_until(lambda: readiness(client)[0] == 503, what="/readyz turns unready")

    _, body = readiness(client)
    assert body["status"] == "unready"
    assert any(
        reason.startswith("view portfolio is failing")
        and "RuntimeError: the portfolio can't take this event" in reason
        for reason in body["reasons"]
    ), body
    row = status_row(capsys, "portfolio")
    assert int(row[5]) >= 1
    assert row[6].startswith("RuntimeError: the portfolio can't")

    monkeypatch.setattr(worker.projection, "apply", working)
    wait_until(lambda: readiness(client)[0] == 200, timeout=15, what="/readyz is ready again")
    assert readiness(client)[1]["views"]["portfolio"]["position"] >= position
    row = status_row(capsys, "portfolio")
    assert int(row[5]) >= 1
    assert row[6] == "-"


def test_a_view_further_behind_than_the_bound_makes_the_service_unready(
    client: TestClient, runtime: Runtime
) -> None:
    [worker] = [w for w in runtime.workers if w.name == "queue"]
    worker.stop()
    write_a_team(client, runtime)
    time.sleep(BOUND_SECONDS * 2)

    status, body = readiness(client)

    assert status == 503
    assert any(
        reason.startswith("view queue is ") and "behind the log" in reason
        for reason in body["reasons"]
    ), body
    worker.start()
    wait_until(lambda: readiness(client)[0] == 200, what="/readyz is ready again")
