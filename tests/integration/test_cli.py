"""The command line: rebuild (one at a time, while the service runs), status, tokens."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from services.app import Runtime
from services.cli import main
from services.infrastructure.store import Backend
from services.projections.runner import read_state
from tests.conftest import bearer, wait_until
from tests.stream.conftest import free_port

VIEWS = ("entities", "history", "insights", "portfolio", "queue", "workload")


@pytest.fixture
def settings_of_the_store(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``WORKLEDGER_*`` settings naming the test's store, as an operator's shell would."""
    monkeypatch.delenv("WORKLEDGER_DATABASE_URL", raising=False)
    monkeypatch.delenv("WORKLEDGER_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("WORKLEDGER_DATA_DIR", str(tmp_path))
    url = getattr(backend, "url", None)
    if backend.name == "postgresql":
        assert isinstance(url, str)
        monkeypatch.setenv("WORKLEDGER_DATABASE_URL", url)


def _written_and_applied(client: TestClient, runtime: Runtime) -> int:
    """Writes three teams through the API and waits until every view has applied them; the
    log position of the last."""
    headers = bearer(runtime.tokens.create("admin"))
    last = 0
    for name in ("Payments", "Platform", "Growth"):
        answer = client.post("/v1/teams", json={"name": name}, headers=headers)
        assert answer.status_code == 201, answer.text
        last = answer.json()["position"]

    def caught_up() -> bool:
        states = [read_state(runtime.backend, view) for view in VIEWS]
        return all(state is not None and state.position >= last for state in states)

    wait_until(caught_up, what="every view has applied the writes")
    return last


@pytest.mark.usefixtures("settings_of_the_store")
def test_rebuild_fills_a_new_generation_while_the_service_runs_and_status_shows_no_lag(
    client: TestClient, runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    last = _written_and_applied(client, runtime)
    before = read_state(runtime.backend, "history")
    assert before is not None

    assert main(["rebuild", "history"]) == 0

    out, err = capsys.readouterr()
    assert f"rebuilt history from the log up to position {last}" in out
    assert "100%" in err
    after = read_state(runtime.backend, "history")
    assert after is not None
    assert (after.generation, after.position) == (before.generation + 1, last)

    assert main(["status"]) == 0
    out, _ = capsys.readouterr()
    assert f"log: {last:,} events" in out
    cells = [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in out.splitlines()
        if line.startswith("│")
    ]
    rows = {row[0]: row[1:] for row in cells}
    assert set(rows) == set(VIEWS)
    assert all(row[:2] == [f"{last:,}", "0"] for row in rows.values()), rows
    assert all(row[4:6] == ["0", "-"] for row in rows.values()), rows


@pytest.mark.usefixtures("settings_of_the_store")
def test_a_second_rebuild_of_a_view_is_refused_while_one_runs_and_changes_nothing(
    client: TestClient, runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    _written_and_applied(client, runtime)
    before = read_state(runtime.backend, "queue")
    # Held as a rebuild in another process holds it.
    running = runtime.backend.try_lock("workledger-rebuild:queue")
    assert running is not None
    try:
        assert main(["rebuild", "queue"]) == 1
    finally:
        running.release()

    _, err = capsys.readouterr()
    assert "a rebuild of the queue view is already running; nothing was changed" in err
    assert read_state(runtime.backend, "queue") == before
    assert main(["rebuild", "queue"]) == 0


@pytest.mark.usefixtures("settings_of_the_store")
def test_rebuild_of_an_unknown_view_names_the_views_there_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rebuild", "burndown"]) == 2
    _, err = capsys.readouterr()
    assert "no view 'burndown'" in err
    assert all(view in err for view in VIEWS)


@pytest.mark.usefixtures("settings_of_the_store")
def test_token_create_prints_the_new_token_alone_and_it_authenticates_with_its_role(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "create", "--role", "manager"]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 1
    principal = runtime.tokens.authenticate(lines[0])
    assert principal is not None
    assert principal.role == "manager"


@pytest.mark.usefixtures("settings_of_the_store")
def test_token_create_takes_an_expiry_and_names_the_token_s_id_apart_from_the_secret(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    before = datetime.now(UTC)

    assert main(["token", "create", "--role", "viewer", "--expires-in", "12h"]) == 0

    out, err = capsys.readouterr()
    principal = runtime.tokens.authenticate(out.strip())
    assert principal is not None
    record = runtime.tokens.get(principal.token_id)
    assert record is not None
    assert record.expires_at is not None
    assert (
        before + timedelta(hours=12) <= record.expires_at <= datetime.now(UTC) + timedelta(hours=12)
    )
    assert str(principal.token_id) in err
    assert out.strip() not in err


@pytest.mark.usefixtures("settings_of_the_store")
def test_token_list_shows_every_token_and_revoke_makes_it_refused(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = runtime.tokens.issue("viewer")
    gone = runtime.tokens.issue("admin")

    assert main(["token", "revoke", str(gone.record.id)]) == 0
    assert main(["token", "list"]) == 0

    out, _ = capsys.readouterr()
    assert runtime.tokens.authenticate(gone.secret) is None
    assert runtime.tokens.authenticate(kept.secret) is not None
    rows = {
        line.split()[1]: line
        for line in out.splitlines()
        if str(kept.record.id) in line or str(gone.record.id) in line
    }
    assert "revoked" in rows[str(gone.record.id)]
    assert "active" in rows[str(kept.record.id)]
    assert kept.secret not in out


@pytest.mark.usefixtures("settings_of_the_store")
def test_token_commands_refuse_what_names_no_token_or_member(
    capsys: pytest.CaptureFixture[str],
) -> None:
    unknown = "00000000-0000-4000-8000-000000000001"

    assert main(["token", "revoke", unknown]) == 1
    assert main(["token", "revoke", "tok"]) == 2
    assert main(["token", "create", "--role", "member", "--member", unknown]) == 1
    with pytest.raises(SystemExit):
        main(["token", "create", "--role", "member", "--expires-in", "soon"])

    _, err = capsys.readouterr()
    assert f"no token has the id {unknown}" in err
    assert f"{unknown} is no member" in err


def _serve_once(data_dir: Path) -> tuple[str, str]:
    """Starts ``workledger serve`` on SQLite in ``data_dir`` until it answers; its base URL and
    the admin token it printed. The caller stops it (see ``_stop``)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "--port", str(port)],
        env={**os.environ, "WORKLEDGER_DATA_DIR": str(data_dir), "WORKLEDGER_DATABASE_URL": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    _started.append(process)
    assert process.stdout is not None
    token = ""
    for line in process.stdout:
        if line.startswith("workledger: admin token"):
            token = line.split()[-1]
        if line.startswith("workledger: open"):
            break
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _answers(f"{url}/healthz"), 20, "serve answers")
    return url, token


_started: list[subprocess.Popen[str]] = []


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False


def _stop() -> None:
    while _started:
        process = _started.pop()
        process.terminate()
        process.wait(20)


def test_serve_prints_a_token_that_acts_for_an_admin_member_registered_once(
    tmp_path: Path,
) -> None:
    try:
        url, token = _serve_once(tmp_path)
        headers = bearer(token)
        created = httpx.post(f"{url}/v1/teams", json={"name": "Payments"}, headers=headers)
        assert created.status_code == 201, created.text
        position = created.json()["position"]
        queue = httpx.get(
            f"{url}/v1/views/queue/me", params={"min_position": position}, headers=headers
        )
        assert queue.status_code == 200, queue.text
        [entry] = httpx.get(
            f"{url}/v1/history", params={"min_position": position}, headers=headers
        ).json()["items"][-1:]
        member_id = entry["actor"]
        member = httpx.get(f"{url}/v1/members/{member_id}", headers=headers).json()
        assert (member["name"], member["role"]) == ("Admin", "admin")
        _stop()

        url, again = _serve_once(tmp_path)
        assert again != token
        members = httpx.get(f"{url}/v1/members", headers=bearer(again)).json()["items"]
        assert [m["id"] for m in members] == [member_id]
    finally:
        _stop()
