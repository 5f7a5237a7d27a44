"""What the benchmarks share: the organisation they measure on, a server to measure, percentiles.

The organisation (about a million events: 100,000 issues, 1,000 members, 500 projects) is loaded
once per session into a database of its own, so benchmarks that empty the session's database
(the command API's) don't touch it. ``WORKLEDGER_BENCH_SCALE`` shrinks it for a quick look
(``0.05`` is a twentieth); every benchmark prints the size it ran on.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest

from services.app import make_codec
from services.infrastructure.postgres import PostgresBackend
from services.infrastructure.store import EventStore
from services.infrastructure.tokens import TokenStore
from services.projections.runner import RebuildProgress, ensure_projection, rebuild
from services.projections.views import all_projections
from tests.benchmarks.dataset import Summary, load_organisation
from tests.conftest import create_database, drop_database

SCALE = float(os.environ.get("WORKLEDGER_BENCH_SCALE", "1"))
SEED = 1


@dataclass(frozen=True)
class Organisation:
    """The loaded organisation: where it lives and what it holds."""

    url: str
    summary: Summary


def bench_end() -> datetime:
    """The history ends at today's midnight (UTC), so "now" on the server is just after it."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def load(url: str, *, scale: float, **shape: int) -> Summary:
    """Loads an organisation of ``scale`` times the full size into the (empty) log at ``url``."""
    backend = PostgresBackend.from_url(url, pool_size=2, max_overflow=2)
    try:
        store = EventStore(backend, make_codec())
        sizes = {
            "issues": max(200, round(100_000 * scale)),
            "members": max(30, round(1_000 * scale)),
            "projects": max(4, round(500 * scale)),
        }
        summary = load_organisation(store, **{**sizes, **shape}, seed=SEED, end=bench_end())
    finally:
        backend.close()
    with psycopg.connect(url, autocommit=True) as conn:
        # A log in service has long been vacuumed (its rows' visibility settled, its statistics
        # taken); without this the first benchmark to read a freshly loaded log would pay for
        # that, even where the server's autovacuum is off.
        conn.execute("VACUUM (FREEZE, ANALYZE) workledger_events")
    print(
        f"\nloaded an organisation of {summary.events:,} events ({describe(summary)}) "
        f"into PostgreSQL in {summary.seconds:.1f} s ({summary.rate:,.0f} events/s)"
    )
    return summary


def describe(summary: Summary) -> str:
    created = summary.created
    return (
        f"{created.get('issue', 0):,} issues, {created.get('member', 0):,} members, "
        f"{created.get('team', 0)} teams, {created.get('project', 0)} projects, "
        f"{created.get('goal', 0)} goals, {created.get('operation', 0)} operations, "
        f"{summary.started_at:%Y-%m-%d} to {summary.ended_at:%Y-%m-%d}, seed {SEED}"
    )


@pytest.fixture(scope="session")
def organisation(postgres_server_url: str) -> Iterator[Organisation]:
    url = create_database(postgres_server_url, "workledger_bench_org")
    try:
        yield Organisation(url, load(url, scale=SCALE))
    finally:
        drop_database(postgres_server_url, url)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def view_names() -> list[str]:
    return [projection.name for projection in all_projections()]


def catch_up(url: str) -> dict[str, RebuildProgress]:
    """Rebuilds every view that is behind the log (as ``workledger rebuild`` does)."""
    backend = PostgresBackend.from_url(url, pool_size=2, max_overflow=2)
    done: dict[str, RebuildProgress] = {}
    try:
        store = EventStore(backend, make_codec())
        last = store.last_position()
        for projection in all_projections():
            if ensure_projection(backend, projection).position < last:
                done[projection.name] = rebuild(store, backend, projection)
    finally:
        backend.close()
    return done


class ServerClock:
    """CPU time the PostgreSQL server has spent, all its processes together, when it runs on this
    machine (its processes are visible under ``/proc``); ``None`` otherwise.

    The postmaster's own time plus the times of the backends that have exited (which it has
    reaped: ``cutime``/``cstime``), plus each live child's. What a benchmark's statements cost
    the server is then the difference between two readings, as long as nothing else uses that
    server meanwhile.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        # A server elsewhere may have a backend whose pid is some local process's: the parent
        # must be a postmaster (a new backend may not have taken its own name yet).
        parent = _parent_pid(int(row[0]))
        local = parent is not None and _command(parent) == "postgres"
        self._postmaster = parent if local else None
        self._ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def settle(self) -> None:
        """Writes out what is waiting in the server's buffers (a checkpoint), so the work of
        writing it lands in the reading after the work that dirtied it, not in a later one."""
        if self._postmaster is not None:
            with psycopg.connect(self._url, autocommit=True) as conn:
                conn.execute("CHECKPOINT")

    def seconds(self) -> float | None:
        if self._postmaster is None:
            return None
        postmaster = _cpu_ticks(self._postmaster, with_children=True)
        if postmaster is None:
            return None
        children = 0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and _parent_pid(int(entry.name)) == self._postmaster:
                children += _cpu_ticks(int(entry.name), with_children=False) or 0
        return (postmaster + children) / self._ticks


@dataclass
class Cost:
    """The CPU seconds a measured stretch of work took in this process (every thread) and in
    the PostgreSQL server (``None`` when its processes can't be seen from here)."""

    here: float = 0.0
    server: float | None = None

    def line(self, events: int, cores: int) -> str:
        """Per event: microseconds here and in the server, and the events/s ``cores`` allow."""
        here = self.here / events * 1e6
        if self.server is None:
            return f"{here:>8.1f} {'n/a':>9} {cores * 1e6 / here:>10,.0f} (server not counted)"
        server = self.server / events * 1e6
        return f"{here:>8.1f} {server:>9.1f} {cores * 1e6 / (here + server):>10,.0f}"


@contextmanager
def measured(server: ServerClock) -> Iterator[Cost]:
    """The CPU the enclosed work costs, here and in the server, filled in when it ends."""
    cost = Cost()
    server.settle()
    here, there = time.process_time(), server.seconds()
    yield cost
    cost.here = time.process_time() - here
    server.settle()
    after = server.seconds()
    cost.server = after - there if after is not None and there is not None else None


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return text[text.rindex(")") + 2 :].split()


def _command(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def _parent_pid(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def _cpu_ticks(pid: int, *, with_children: bool) -> int | None:
    fields = _stat_fields(pid)
    if fields is None:
        return None
    # utime, stime, cutime, cstime are fields 14-17 of the whole line (11-14 after the name).
    own = int(fields[11]) + int(fields[12])
    return own + int(fields[13]) + int(fields[14]) if with_children else own


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    base: str
    port: int
    token: str
    log: Path
    pid: int


@contextmanager
def running(
    url: str, log: Path, command: str = "serve", settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """``workledger <command>`` on PostgreSQL in a process of its own, with an admin token;
    ``settings`` are more environment variables for it. A ``worker`` answers on its metrics
    port."""
    backend = PostgresBackend.from_url(url, pool_size=1, max_overflow=1)
    try:
        token = TokenStore(backend).create("admin")
    finally:
        backend.close()
    port = free_port()
    env = {
        **os.environ,
        "WORKLEDGER_DATABASE_URL": url,
        "WORKLEDGER_DB_POOL_SIZE": "16",
        **(settings or {}),
    }
    arguments = [command, "--port", str(port)]
    if command == "worker":
        env["WORKLEDGER_METRICS_PORT"] = str(port)
        arguments = [command]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", *arguments],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield Server(base, port, token, log, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_for_views(url: str, position: int, timeout: float) -> dict[str, int]:
    """Waits until every view has applied ``position``; each view's position at the end."""
    names = view_names()
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            rows = conn.execute(
                "SELECT name, position FROM workledger_projections WHERE name = ANY(%s)",
                (names,),
            ).fetchall()
            positions = {name: int(value) for name, value in rows}
            if all(positions.get(name, 0) >= position for name in names):
                return positions
            if time.monotonic() > deadline:
                return positions
            time.sleep(0.05)
