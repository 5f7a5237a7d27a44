"""Query latency over HTTP on the full organisation, beside the floors measured in the same run.

The views are caught up first (rebuilt if behind), then ``workledger api`` answers one request at
a time on a kept-alive connection. No command arrives while it is measured, so projection workers
in the same process would have nothing to apply; but a starting ``serve`` first reads its views'
current rows into its workers (tens of seconds on this organisation), and that start-up would be
measured as query latency. Baselines: ``/healthz`` (the HTTP floor: the same server,
client and connection, no query) and a trivial ``SELECT 1`` round trip to the same database.

Insights are measured twice: asked again (a live answer reused while the view's position holds,
docs/insights.md "Asking again"), and judged afresh by a second server that reuses nothing, as
the first question after an event is.
"""

from __future__ import annotations

import http.client
import os
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import orjson
import psycopg
import pytest

from tests.benchmarks.conftest import (
    Organisation,
    catch_up,
    describe,
    percentile,
    running,
    view_names,
    wait_for_views,
)

pytestmark = pytest.mark.benchmark

SAMPLES = int(os.environ.get("WORKLEDGER_BENCH_QUERY_SAMPLES", "300"))
WARM_UP = 5


@dataclass(frozen=True)
class Query:
    label: str
    view: str
    path: str
    target_ms: float
    samples: int = SAMPLES


@dataclass(frozen=True)
class Timing:
    count: int
    p50: float
    p99: float
    statuses: Counter[int]


class Client:
    """One kept-alive HTTP/1.1 connection; the standard library's client costs little per call."""

    def __init__(self, port: int, token: str) -> None:
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self._headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> tuple[int, bytes]:
        self._connection.request("GET", path, headers=self._headers)
        response = self._connection.getresponse()
        return response.status, response.read()

    def time(self, path: str, samples: int) -> Timing:
        for _ in range(WARM_UP):
            self.get(path)
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        for _ in range(samples):
            started = time.perf_counter()
            status, _ = self.get(path)
            latencies.append(time.perf_counter() - started)
            statuses[status] += 1
        return Timing(
            samples, percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000, statuses
        )

    def close(self) -> None:
        self._connection.close()


def _select_one(url: str, samples: int) -> Timing:
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(WARM_UP):
            conn.execute("SELECT 1").fetchone()
        latencies = []
        for _ in range(samples):
            started = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            latencies.append(time.perf_counter() - started)
    return Timing(
        samples, percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000, Counter()
    )


def test_query_latency(organisation: Organisation, tmp_path: Path) -> None:
    summary = organisation.summary
    names = view_names()
    rebuilt = catch_up(organisation.url)
    positions = wait_for_views(organisation.url, summary.last_position, timeout=5)
    assert all(positions.get(name, 0) >= summary.last_position for name in names), positions

    member, load = summary.busiest_members[0], summary.busiest_loads[0]
    team = summary.busiest_teams[0]
    month_ago = (summary.ended_at - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    as_of = urlencode({"as_of": month_ago})
    month = urlencode({"scope": "org", "since": month_ago})
    team_insights = f"/v1/insights?scope=team:{team}"
    queries = [
        Query(f"queue ({load} open issues)", "queue", f"/v1/views/queue/{member}", 10),
        Query("workload (one team)", "workload", f"/v1/views/workload/{team}", 10),
        Query("workload (all teams)", "workload", "/v1/views/workload", 10),
        Query("portfolio", "portfolio", "/v1/views/portfolio", 50, max(50, SAMPLES // 3)),
        Query("history page", "history", "/v1/history?limit=50", 10),
        Query("history page, team filter", "history", f"/v1/history?team_id={team}&limit=50", 10),
        Query("history page 2 (cursor)", "history", "", 10),
        Query("insights (one team), asked again", "insights", team_insights, 50),
        Query("insights (organisation), asked again", "insights", "/v1/insights?scope=org", 100),
        Query("summary (org, a month)", "insights", f"/v1/summaries?{month}", 5000, 10),
        Query("portfolio as_of a month ago", "portfolio", f"/v1/views/portfolio?{as_of}", 1000, 30),
        Query("queue as_of a month ago", "queue", f"/v1/views/queue/{member}?{as_of}", 1000, 30),
    ]

    results: list[tuple[Query, Timing]] = []
    skipped: list[str] = []
    with running(organisation.url, tmp_path / "api.log", "api") as server:
        client = Client(server.port, server.token)
        try:
            healthz = client.time("/healthz", SAMPLES)
            select_one = _select_one(organisation.url, SAMPLES)
            for query in queries:
                if query.view not in names:
                    skipped.append(f"{query.label}: no {query.view} view in this tree yet")
                    continue
                path = query.path
                if not path:
                    status, body = client.get("/v1/history?limit=50")
                    assert status == 200, body[:500]
                    cursor = orjson.loads(body).get("next_cursor")
                    assert cursor, "the first history page points to a second"
                    path = f"/v1/history?{urlencode({'limit': 50, 'cursor': cursor})}"
                status, body = client.get(path)
                assert status == 200, f"{query.label}: {status} {body[:500]!r}"
                timing = client.time(path, query.samples)
                assert set(timing.statuses) == {200}, f"{query.label}: {timing.statuses}"
                results.append((query, timing))
        finally:
            client.close()
    # The same insights questions with every one judged afresh, as the first question after an
    # event is: a server that reuses no judgement (`insight_reuse_seconds` 0).
    afresh = [
        Query("insights (one team), judged afresh", "insights", team_insights, 50),
        Query(
            "insights (organisation), judged afresh", "insights", "/v1/insights?scope=org", 100, 30
        ),
    ]
    if "insights" in names:
        settings = {"WORKLEDGER_INSIGHT_REUSE_SECONDS": "0"}
        with running(organisation.url, tmp_path / "afresh.log", "api", settings) as server:
            client = Client(server.port, server.token)
            try:
                for query in afresh:
                    timing = client.time(query.path, query.samples)
                    assert set(timing.statuses) == {200}, f"{query.label}: {timing.statuses}"
                    results.append((query, timing))
            finally:
                client.close()

    print()
    print(
        f"query latency over HTTP on PostgreSQL ({describe(summary)}), one request at a time "
        "to `workledger api`"
    )
    if rebuilt:
        caught = ", ".join(f"{n} {r.rate:,.0f} events/s" for n, r in rebuilt.items())
        print(f"views rebuilt first to catch up: {caught}")
    print(
        f"baselines in this run: /healthz p50 {healthz.p50:.2f} ms p99 {healthz.p99:.2f} ms "
        f"(the HTTP floor); SELECT 1 p50 {select_one.p50:.2f} ms p99 {select_one.p99:.2f} ms"
    )
    print(
        f"{'query':<44} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'target':>9} {'':>6} "
        f"{'p99-healthz':>11}"
    )
    for query, timing in results:
        met = "met" if timing.p99 <= query.target_ms else "MISSED"
        print(
            f"{query.label:<44} {timing.count:>4} {timing.p50:>8.2f} {timing.p99:>8.2f} "
            f"{'<= ' + format(query.target_ms, 'g'):>9} {met:>6} {timing.p99 - healthz.p99:>11.2f}"
        )
    by_label = {query.label: timing for query, timing in results}
    portfolio = by_label.get("portfolio")
    bounds = (("insights (one team)", 1.0), ("insights (organisation)", 2.0))
    for label, bound in [
        (f"{name}, {how}", b) for how in ("asked again", "judged afresh") for name, b in bounds
    ]:
        measured = by_label.get(label)
        if portfolio is not None and measured is not None:
            ratio = measured.p99 / portfolio.p99
            met = "met" if ratio <= bound else "MISSED"
            print(f"{label} p99 / portfolio p99: {ratio:.2f} (target <= {bound:g}) {met}")
    for line in skipped:
        print(f"skipped: {line}")
