"""Lag from a command's commit to its visibility in every view, under a steady 500 commands/s.

``workledger serve`` (the API, every view's worker and the scheduler in one process) runs on
PostgreSQL over a medium organisation, its views caught up. A paced, open-loop load sends a
realistic mix of commands at a fixed rate (each request leaves at its scheduled moment whatever
the earlier ones did, so a slow server can't slow the load down and hide its own lag), and notes
each answered ``position``. Meanwhile a watcher polls ``workledger_projections`` every few
milliseconds and notes when each position became visible in every view.

A command's lag is the moment its position was first seen applied by every view, minus its
commit time: the ``recorded_at`` the store stamps on its events just before writing them, on the
same machine's clock. Baselines from the same run: the commands' own latency, and a bare
PostgreSQL NOTIFY to LISTEN round trip (the floor for any reader to learn of a commit).
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import uuid4

import httpx
import orjson
import psycopg
import pytest

from tests.benchmarks.conftest import (
    Server,
    catch_up,
    describe,
    load,
    percentile,
    running,
    view_names,
    wait_for_views,
)
from tests.conftest import create_database, drop_database

pytestmark = pytest.mark.benchmark

TOPOLOGIES = {
    "serve": "`workledger serve` (one process)",
    "api+worker": "`workledger api` and `workledger worker` (two processes)",
}
RATE = float(os.environ.get("WORKLEDGER_BENCH_LAG_RATE", "500"))
SECONDS = float(os.environ.get("WORKLEDGER_BENCH_LAG_SECONDS", "10"))
SCALE = float(os.environ.get("WORKLEDGER_BENCH_LAG_SCALE", "0.1"))
CONNECTIONS = 32
ISSUES_PER_CONNECTION = 8
POLL_SECONDS = 0.002
TARGET_P99_MS = 200.0
CYCLE = ("todo", "in_progress", "in_review", "done", "todo")

Request = tuple[str, str, bytes]


@dataclass(frozen=True)
class Workload:
    team_id: str
    member_ids: list[str]
    issues: list[list[str]]


@dataclass(frozen=True)
class Sent:
    due: float
    sent: float
    answered: float
    status: int
    position: int | None


def _commands(workload: Workload, connection: int) -> Iterator[Request]:
    """A realistic mix on the connection's own issues; every command writes at least one event."""
    issue_ids = workload.issues[connection]
    members = workload.member_ids
    step = dict.fromkeys(issue_ids, 0)
    edits = dict.fromkeys(issue_ids, 0)
    for turn in itertools.count():
        issue_id = issue_ids[turn % len(issue_ids)]
        kind = turn % 5
        if kind == 0:
            status = CYCLE[step[issue_id] % len(CYCLE)]
            step[issue_id] = step[issue_id] + 1 if step[issue_id] + 1 < len(CYCLE) else 1
            yield "POST", f"/v1/issues/{issue_id}/transition", orjson.dumps({"status": status})
        elif kind == 1:
            body = {"body": f"progress note {turn}"}
            yield "POST", f"/v1/issues/{issue_id}/comments", orjson.dumps(body)
        elif kind == 2:
            edits[issue_id] += 1
            priority = ("high", "low")[edits[issue_id] % 2]
            yield "PATCH", f"/v1/issues/{issue_id}", orjson.dumps({"priority": priority})
        elif kind == 3:
            # Over 40 turns an issue's assignee moves 8 places along the list: never a no-op.
            member = members[(turn + connection) % len(members)]
            yield "POST", f"/v1/issues/{issue_id}/assign", orjson.dumps({"assignee_id": member})
        else:
            body = {"title": f"Follow-up {turn}", "kind": "bug", "team_id": workload.team_id}
            yield "POST", "/v1/issues", orjson.dumps(body)


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length) if length else b""


def _paced_load(
    port: int, token: str, workload: Workload, rate: float, seconds: float
) -> list[Sent]:
    """Open loop: request ``n`` of the run leaves at ``start + n / rate``, round robin over the
    connections (each keeps its own issues, so its commands stay valid in order)."""
    sent: list[Sent] = []

    async def connection(index: int, start: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        prefix = (
            f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\n"
        )
        try:
            for turn, (method, path, body) in enumerate(_commands(workload, index)):
                due = start + (turn * CONNECTIONS + index) / rate
                if due >= start + seconds:
                    break
                delay = due - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                head = f"{method} {path} HTTP/1.1\r\n{prefix}Content-Length: {len(body)}\r\n\r\n"
                leaving = time.time()
                writer.write(head.encode() + body)
                status, payload = await _answer(reader)
                answered = time.time()
                position = orjson.loads(payload).get("position") if status in (200, 201) else None
                sent.append(Sent(due, leaving, answered, status, position))
        finally:
            writer.close()

    async def main() -> None:
        start = time.time() + 0.2
        await asyncio.gather(*(connection(index, start) for index in range(CONNECTIONS)))

    asyncio.run(main())
    return sent


class Watcher:
    """Polls every view's position; notes each moment the lowest of them moved on."""

    def __init__(self, url: str, names: list[str]) -> None:
        self._url = url
        self._names = names
        self.seen: list[tuple[int, float]] = []
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lag-watcher", daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(self._url, autocommit=True) as conn:
            lowest = -1
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*), coalesce(min(position), 0) FROM workledger_projections "
                    "WHERE name = ANY(%s)",
                    (self._names,),
                    prepare=True,
                ).fetchone()
                now = time.time()
                self.polls += 1
                assert row is not None
                position = int(row[1]) if row[0] == len(self._names) else 0
                if position > lowest:
                    lowest = position
                    self.seen.append((position, now))
                time.sleep(POLL_SECONDS)

    def visible_at(self, position: int) -> float | None:
        """When ``position`` was first seen applied by every view."""
        index = bisect.bisect_left(self.seen, (position, 0.0))
        return self.seen[index][1] if index < len(self.seen) else None


def _notify_round_trip(url: str, samples: int = 200) -> list[float]:
    """Seconds from a committed NOTIFY on one connection to its arrival on another."""
    with (
        psycopg.connect(url, autocommit=True) as listener,
        psycopg.connect(url, autocommit=True) as sender,
    ):
        listener.execute("LISTEN bench_lag")
        trips = []
        for _ in range(samples):
            started = time.time()
            sender.execute("NOTIFY bench_lag")
            for _ in listener.notifies(timeout=5, stop_after=1):
                trips.append(time.time() - started)
    assert len(trips) == samples
    return trips


def _seed(base: str, token: str) -> Workload:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        team_id = http.post("/v1/teams", json={"name": "Lag bench"}).json()["id"]
        member_ids = [
            http.post(
                "/v1/members",
                json={
                    "name": f"Lag member {n}",
                    "email": f"lag{n}-{uuid4().hex[:6]}@example.com",
                    "role": "member",
                    "weekly_capacity": 10,
                    "team_ids": [team_id],
                },
            ).json()["id"]
            for n in range(16)
        ]
        issues = [
            [
                http.post(
                    "/v1/issues",
                    json={"title": f"Lag {c}.{n}", "kind": "task", "team_id": team_id},
                ).json()["id"]
                for n in range(ISSUES_PER_CONNECTION)
            ]
            for c in range(CONNECTIONS)
        ]
    return Workload(team_id, member_ids, issues)


def _commit_times(url: str, positions: list[int]) -> dict[int, float]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT notification_id, state FROM workledger_events WHERE notification_id = ANY(%s)",
            (positions,),
        ).fetchall()
    return {
        int(position): datetime.fromisoformat(orjson.loads(state)["recorded_at"]).timestamp()
        for position, state in rows
    }


def _ms(values: list[float], share: float) -> float:
    return percentile(values, share) * 1000


@contextmanager
def _deployed(url: str, logs: Path, topology: str) -> Iterator[Server]:
    """``workledger serve`` alone, or ``workledger api`` beside a ``workledger worker`` process
    (the API's GIL then serves only requests, as in a deployment of several processes)."""
    if topology == "serve":
        with running(url, logs / "serve.log") as server:
            yield server
        return
    env = {**os.environ, "WORKLEDGER_DATABASE_URL": url}
    with (logs / "worker.log").open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "worker"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        with running(url, logs / "api.log", command="api") as server:
            yield server
    finally:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)


@pytest.mark.parametrize("topology", ["serve", "api+worker"])
def test_lag_from_commit_to_every_view(
    postgres_server_url: str, tmp_path: Path, topology: str
) -> None:
    names = view_names()
    if not names:
        pytest.skip("no views in this tree yet: no lag to measure")
    url = create_database(postgres_server_url, "workledger_bench_lag")
    try:
        summary = load(url, scale=SCALE)
        catch_up(url)
        notify = _notify_round_trip(url)
        with _deployed(url, tmp_path, topology) as server:
            workload = _seed(server.base, server.token)
            with psycopg.connect(url, autocommit=True) as conn:
                row = conn.execute("SELECT max(notification_id) FROM workledger_events").fetchone()
            assert row is not None
            before = int(row[0])
            caught = wait_for_views(url, before, timeout=120)
            assert min(caught.values()) >= before, f"the views did not catch up: {caught}"
            with Watcher(url, names) as watcher, ProcessPoolExecutor(1) as pool:
                sent = pool.submit(
                    _paced_load, server.port, server.token, workload, RATE, SECONDS
                ).result()
                last = max((s.position or 0) for s in sent)
                final = wait_for_views(url, last, timeout=60)
                time.sleep(0.05)
            stuck = {name: p for name, p in final.items() if p < last}
        commits = _commit_times(url, [s.position for s in sent if s.position is not None])
    finally:
        drop_database(postgres_server_url, url)

    statuses = Counter(s.status for s in sent)
    assert set(statuses) <= {200, 201}, f"every command succeeds: {statuses}"
    assert not stuck, f"views stopped short of position {last}: {stuck}"
    positions = [s.position for s in sent if s.position is not None]
    assert len(set(positions)) == len(sent), "every command wrote events of its own"
    assert min(positions) > before
    lags: list[float] = []
    after_answer: list[float] = []
    for s in sent:
        assert s.position is not None
        visible = watcher.visible_at(s.position)
        assert visible is not None, f"position {s.position} never became visible"
        lags.append(max(0.0, visible - commits[s.position]))
        after_answer.append(max(0.0, visible - s.answered))
    latencies = [s.answered - s.due for s in sent]
    slips = [max(0.0, s.sent - s.due) for s in sent]
    span = max(s.answered for s in sent) - min(s.due for s in sent)
    achieved = len(sent) / span
    p99 = _ms(lags, 0.99)

    print()
    print(
        f"lag from commit to visible in every view ({', '.join(names)}), "
        f"{TOPOLOGIES[topology]} on PostgreSQL ({describe(summary)})"
    )
    print(
        f"load: {len(sent):,} commands paced at {RATE:,.0f}/s over {SECONDS:.0f} s on "
        f"{CONNECTIONS} connections; answered {achieved:,.0f} commands/s; "
        f"send slip p99 {_ms(slips, 0.99):.1f} ms; watcher polled every "
        f"{POLL_SECONDS * 1000:.0f} ms ({watcher.polls:,} polls)"
    )
    if achieved < RATE * 0.95 or _ms(slips, 0.99) > 100:
        print(
            f"NOTE: the server did not sustain {RATE:,.0f} commands/s: it answered "
            f"{achieved:,.0f}/s and requests left up to {_ms(slips, 1.0):.0f} ms late"
        )
    print(
        f"{'':<34} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}\n"
        f"{'commit -> visible in every view':<34} {_ms(lags, 0.5):>8.1f} {p99:>8.1f} "
        f"{_ms(lags, 1.0):>8.1f}   target p99 <= {TARGET_P99_MS:.0f}: "
        f"{'met' if p99 <= TARGET_P99_MS else 'MISSED'}\n"
        f"{'answer -> visible in every view':<34} {_ms(after_answer, 0.5):>8.1f} "
        f"{_ms(after_answer, 0.99):>8.1f} {_ms(after_answer, 1.0):>8.1f}\n"
        f"{'baseline: command latency':<34} {_ms(latencies, 0.5):>8.1f} "
        f"{_ms(latencies, 0.99):>8.1f} {_ms(latencies, 1.0):>8.1f}\n"
        f"{'baseline: NOTIFY -> LISTEN (idle)':<34} {_ms(notify, 0.5):>8.2f} "
        f"{_ms(notify, 0.99):>8.2f} {_ms(notify, 1.0):>8.2f}"
    )
