"""Each page of the workspace over HTTP on the full organisation, beside the JSON query it is
built on, measured in the same run, in alternation, on the same server and connection.

The views are caught up first (rebuilt if behind), then ``workledger api`` (which serves the
workspace beside the API) answers one request at a time. A page reads its views through the
query API's own functions in process and renders HTML; its query is the same read answered as
JSON. Target: a page's p99 no more than 1.5 times its query's. Baseline of the HTTP stack:
``/healthz`` on the same connection. A page that is not built yet is skipped, and listed as such.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson
import pytest

from tests.benchmarks.conftest import (
    Organisation,
    catch_up,
    describe,
    running,
    view_names,
    wait_for_views,
)
from tests.benchmarks.pages_cases import (
    TARGET_RATIO,
    Client,
    PageCase,
    Pair,
    Subjects,
    Timing,
    page_cases,
)

pytestmark = pytest.mark.benchmark

SAMPLES = int(os.environ.get("WORKLEDGER_BENCH_PAGE_SAMPLES", "200"))
WARM_UP = 10
CASES = page_cases(SAMPLES)


@dataclass
class Bench:
    """The server the pages are measured on, what they are opened on, and what was measured."""

    client: Client
    subjects: Subjects
    floor: Timing
    results: dict[str, Pair] = field(default_factory=dict)
    unmeasured: dict[str, str] = field(default_factory=dict)


def _most_commented_issue(client: Client, member: str) -> str:
    """Of the member's queue, the issue with the most comments: the fullest issue page a person
    opens from their work."""
    status, body = client.query(f"/v1/views/queue/{member}?limit=100")
    assert status == 200, body[:500]
    issues = [
        str(item["id"]) for item in orjson.loads(body)["items"] if item["kind"] != "occurrence"
    ]
    assert issues, "the busiest member's queue holds issues"
    counts: dict[str, int] = {}
    for issue in issues:
        status, body = client.query(f"/v1/issues/{issue}")
        assert status == 200, body[:500]
        counts[issue] = int(orjson.loads(body)["comment_count"])
    return max(issues, key=lambda issue: counts[issue])


@pytest.fixture(scope="module")
def bench(organisation: Organisation, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    summary = organisation.summary
    rebuilt = catch_up(organisation.url)
    positions = wait_for_views(organisation.url, summary.last_position, timeout=5)
    assert all(positions.get(name, 0) >= summary.last_position for name in view_names())
    log = tmp_path_factory.mktemp("pages") / "api.log"
    with running(organisation.url, log, "api") as server:
        client = Client(server.port, server.token)
        try:
            client.sign_in()
            member = str(summary.busiest_members[0])
            subjects = Subjects(
                str(summary.busiest_teams[0]), member, _most_commented_issue(client, member)
            )
            bench = Bench(client, subjects, client.floor(SAMPLES, WARM_UP))
            yield bench
        finally:
            client.close()
    print()
    print(
        f"pages beside their queries over HTTP on PostgreSQL ({describe(summary)}), one request "
        "at a time to `workledger api`, page and query in alternation"
    )
    if rebuilt:
        caught = ", ".join(f"{n} {r.rate:,.0f} events/s" for n, r in rebuilt.items())
        print(f"views rebuilt first to catch up: {caught}")
    _print_table(bench)


def _print_table(bench: Bench) -> None:
    floor = bench.floor
    print(
        f"baseline in this run: /healthz p50 {floor.p50:.2f} ms p99 {floor.p99:.2f} ms "
        f"(the HTTP floor); opened on team {bench.subjects.team}, member "
        f"{bench.subjects.member}, issue {bench.subjects.issue}"
    )
    print(
        f"{'page':<10} {'n':>4} {'page p50':>9} {'page p99':>9} {'query p50':>10} "
        f"{'query p99':>10} {'p99 ratio':>10} {'target':>8} {'':>6} {'page KB':>8}"
    )
    for case in CASES:
        pair = bench.results.get(case.name)
        if pair is None:
            reason = bench.unmeasured.get(case.name, "not measured")
            print(f"{case.name:<10} {reason}")
            continue
        print(
            f"{case.name:<10} {pair.page.count:>4} {pair.page.p50:>9.2f} {pair.page.p99:>9.2f} "
            f"{pair.query.p50:>10.2f} {pair.query.p99:>10.2f} {pair.ratio:>9.2f}x "
            f"{'<= ' + format(TARGET_RATIO, 'g') + 'x':>8} {'met' if pair.met else 'MISSED':>6} "
            f"{pair.page_bytes / 1024:>8.1f}"
        )
    for case in CASES:
        if len(case.queries) > 1 and case.name in bench.results:
            print(f"{case.name}: the query is the sum of {', '.join(case.queries)}")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_page_beside_its_query(case: PageCase, bench: Bench) -> None:
    if not case.built():
        bench.unmeasured[case.name] = f"not built yet: no {case.route} in services/web/pages"
        pytest.skip(f"{case.route} is not served yet")
    page = bench.subjects.fill(case.page)
    queries = tuple(bench.subjects.fill(query) for query in case.queries)
    status, body = bench.client.page(page)
    assert status == 200, f"{page}: {status} {body[:500]!r}"
    assert b"<h1" in body, f"{page} answered no page: {body[:500]!r}"
    for query in queries:
        status, body = bench.client.query(query)
        assert status == 200, f"{query}: {status} {body[:500]!r}"
    pair = bench.client.pair(page, queries, case.samples, WARM_UP)
    refused = {key: n for key, n in bench.client.statuses.items() if key[1] != 200}
    assert not refused, f"{case.name}: answers other than 200 while measured: {refused}"
    bench.results[case.name] = pair
