"""The service as an operator runs it: ``workledger api``, ``worker`` and ``relay``, each a process
of its own started from the real command line, which a test may kill (``SIGKILL``) and start again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.infrastructure.postgres import PostgresBackend
from services.infrastructure.tokens import TokenStore
from tests.conftest import bearer
from tests.stream.conftest import free_port

REPO = Path(__file__).resolve().parents[3]
START_SECONDS = 60.0


class CliProcess:
    """``workledger <arguments>`` with ``settings`` as its whole ``WORKLEDGER_*`` environment;
    what it prints goes to ``<logs>/<name>.log``, kept across restarts."""

    def __init__(self, name: str, arguments: list[str], settings: dict[str, str], logs: Path):
        self.name = name
        self.arguments = arguments
        self.settings = settings
        self.log = logs / f"{name}.log"
        self.kills = 0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("WORKLEDGER_")}
        environment |= self.settings
        with self.log.open("ab") as sink:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "services.cli", *self.arguments],
                cwd=REPO,
                env=environment,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def run(self) -> None:
        """Runs the command to its end; fails unless it exits 0."""
        self.start()
        assert self._process is not None
        assert self._process.wait(START_SECONDS) == 0, self.tail()

    def kill(self) -> None:
        """``kill -9``: no shutdown of any kind, as when the machine or the OOM killer takes it."""
        process = self._process
        assert process is not None, f"{self.name} was never started"
        assert process.poll() is None, f"{self.name} is not running"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        self.kills += 1

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def wait_healthy(self, url: str) -> None:
        """Waits until ``url`` answers ``/healthz``; fails with the end of the log if the process
        exits or takes too long."""
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.running, self.tail()
            assert time.monotonic() < deadline, f"{self.name} did not start:\n{self.tail()}"
            time.sleep(0.05)

    def tail(self, characters: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-characters:]


@dataclass
class Stack:
    """The API, the views' worker and (with a broker) the relay, on one database."""

    database: str
    api_url: str
    headers: dict[str, str]
    api: CliProcess
    worker: CliProcess
    worker_url: str
    relay: CliProcess | None = None
    relay_url: str | None = None
    topic: str | None = None

    def ensure_running(self) -> None:
        """Starts whichever process is not running, and waits until every one answers."""
        for process, _ in self._urls():
            if not process.running:
                process.start()
        for process, url in self._urls():
            process.wait_healthy(url)

    def _urls(self) -> list[tuple[CliProcess, str]]:
        urls = [(self.api, self.api_url), (self.worker, self.worker_url)]
        if self.relay is not None and self.relay_url is not None:
            urls.append((self.relay, self.relay_url))
        return urls


def admin_headers(database: str) -> dict[str, str]:
    backend = PostgresBackend.from_url(database, pool_size=1, max_overflow=1)
    try:
        return bearer(TokenStore(backend).create("admin"))
    finally:
        backend.close()


@contextmanager
def running_stack(
    database: str,
    logs: Path,
    *,
    api_database: str | None = None,
    bootstrap_servers: str | None = None,
    topic: str = "workledger.faults",
    settings: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """``workledger api``, ``worker`` and, given a broker, ``relay``, each in its own process on
    ``database`` (the API on ``api_database`` when given: the same database through a proxy),
    started together and stopped at the end."""
    common = {"WORKLEDGER_DATABASE_URL": database, "WORKLEDGER_LOG_FORMAT": "text"}
    if bootstrap_servers is not None:
        common |= {
            "WORKLEDGER_KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
            "WORKLEDGER_KAFKA_TOPIC": topic,
            "WORKLEDGER_KAFKA_TOPIC_PARTITIONS": "3",
        }
    common |= settings or {}
    # As a deployment does, so that the processes starting together find everything made.
    CliProcess("migrate", ["migrate"], common, logs).run()
    api_port, worker_port, relay_port = free_port(), free_port(), free_port()
    api_settings = common | {"WORKLEDGER_DATABASE_URL": api_database or database}
    api = CliProcess("api", ["api", "--port", str(api_port)], api_settings, logs)
    worker = CliProcess(
        "worker", ["worker"], common | {"WORKLEDGER_METRICS_PORT": str(worker_port)}, logs
    )
    processes = [api, worker]
    relay = None
    if bootstrap_servers is not None:
        relay = CliProcess(
            "relay", ["relay"], common | {"WORKLEDGER_METRICS_PORT": str(relay_port)}, logs
        )
        processes.append(relay)
    stack = Stack(
        database=database,
        api_url=f"http://127.0.0.1:{api_port}",
        headers=admin_headers(database),
        api=api,
        worker=worker,
        worker_url=f"http://127.0.0.1:{worker_port}",
        relay=relay,
        relay_url=f"http://127.0.0.1:{relay_port}" if relay is not None else None,
        topic=topic if relay is not None else None,
    )
    with ExitStack() as stops:
        for process in processes:
            stops.callback(process.stop)
        stack.ensure_running()
        yield stack
