"""The workspace's pages measured beside the JSON queries they are built on, and how to time a
pair of them so that both see the same machine.

A page and its query are timed in alternation on one kept-alive connection to the same server
(the page with the session cookie a browser sends, the query with a bearer token), the page
first in one round and the query first in the next, so neither gets the other's warm caches
more often. A page whose JSON is read with several requests (an issue: the issue, its history,
its comments) is compared with the sum of those requests, as it reads all of them.
"""

from __future__ import annotations

import http.client
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import import_module
from urllib.parse import urlencode

from tests.benchmarks.conftest import percentile

# Pages cost more than their queries when they render what the query answered; this much more
# at the tail is what a page may cost (issue "A web workspace for every role", Performance).
TARGET_RATIO = 1.5


@dataclass(frozen=True)
class Subjects:
    """The objects the pages are opened on: the busiest team and member, and an issue of the
    member's queue with the most comments."""

    team: str
    member: str
    issue: str

    def fill(self, template: str) -> str:
        return template.format(team=self.team, member=self.member, issue=self.issue)


@dataclass(frozen=True)
class PageCase:
    """A page (``page``, opened on ``Subjects``) and the JSON requests it is built on."""

    name: str
    module: str
    """The module of ``services.web.pages`` that serves the page."""
    route: str
    """The path the module's router serves it at (``{...}`` for a path parameter)."""
    page: str
    queries: tuple[str, ...]
    samples: int

    def built(self) -> bool:
        """Whether the page's module serves its route yet (pages are built one by one)."""
        router = import_module(f"services.web.pages.{self.module}").router
        wanted = _shape(self.route)
        return any(_shape(getattr(route, "path", "")) == wanted for route in router.routes)


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def page_cases(samples: int) -> list[PageCase]:
    """Every page of the workspace that a role starts on or opens from it, with its query."""
    # A summary reads the views at two moments and writes the period's status: a team's takes
    # over 100 ms here, so it gets fewer samples (its p99 is then the slowest of them).
    summary_samples = max(20, samples // 8)
    return [
        PageCase(
            "portfolio",
            "portfolio",
            "/portfolio",
            "/portfolio",
            ("/v1/views/portfolio?limit=100",),
            samples,
        ),
        PageCase(
            "team",
            "team",
            "/team",
            "/team?team={team}",
            ("/v1/views/workload/{team}",),
            samples,
        ),
        PageCase(
            "my work",
            "my_work",
            "/my-work",
            "/my-work?member={member}",
            ("/v1/views/queue/{member}?limit=100",),
            samples,
        ),
        PageCase(
            "insights",
            "insights",
            "/insights",
            "/insights?scope=team:{team}",
            ("/v1/insights?scope=team:{team}&limit=25",),
            samples,
        ),
        PageCase(
            "triage",
            "triage",
            "/triage",
            "/triage?team={team}",
            ("/v1/insights?scope=team:{team}&kind=triage&limit=100",),
            samples,
        ),
        PageCase(
            "issue",
            "issue",
            "/issues/{issue_id}",
            "/issues/{issue}",
            (
                "/v1/issues/{issue}",
                "/v1/history?object_id={issue}&newest_first=false&limit=500",
                "/v1/issues/{issue}/comments?limit=500",
            ),
            samples,
        ),
        PageCase(
            "summaries",
            "summaries",
            "/summaries",
            "/summaries?scope=team:{team}",
            ("/v1/summaries?scope=team:{team}",),
            summary_samples,
        ),
    ]


@dataclass(frozen=True)
class Timing:
    count: int
    p50: float
    p99: float

    @classmethod
    def of(cls, seconds: list[float]) -> Timing:
        return cls(len(seconds), percentile(seconds, 0.5) * 1000, percentile(seconds, 0.99) * 1000)


@dataclass(frozen=True)
class Pair:
    """A page's timing beside its query's, measured together."""

    page: Timing
    query: Timing
    page_bytes: int

    @property
    def ratio(self) -> float:
        return self.page.p99 / self.query.p99

    @property
    def met(self) -> bool:
        return self.ratio <= TARGET_RATIO


@dataclass
class Client:
    """One kept-alive HTTP/1.1 connection (the standard library's client costs little per call),
    asking pages as a signed-in browser does and queries as an API client does."""

    port: int
    token: str
    cookie: str = ""
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def sign_in(self) -> None:
        """Signs in as a person does (the token pasted into ``/sign-in``) and keeps the cookie."""
        body = urlencode({"token": self.token, "next": "/"})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        self._connection.request("POST", "/sign-in", body=body, headers=headers)
        response = self._connection.getresponse()
        response.read()
        assert response.status == 303, f"signing in answered {response.status}"
        cookie = response.getheader("set-cookie") or ""
        assert cookie.startswith("workledger_session="), cookie
        self.cookie = cookie.split(";", 1)[0]

    def page(self, path: str) -> tuple[int, bytes]:
        return self._get(path, {"Cookie": self.cookie})

    def query(self, path: str) -> tuple[int, bytes]:
        return self._get(path, {"Authorization": f"Bearer {self.token}"})

    def _get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        self._connection.request("GET", path, headers=headers)
        response = self._connection.getresponse()
        return response.status, response.read()

    def timed_page(self, path: str) -> tuple[float, int]:
        started = time.perf_counter()
        status, body = self.page(path)
        elapsed = time.perf_counter() - started
        self.statuses[("page", status)] += 1
        return elapsed, len(body)

    def timed_queries(self, paths: tuple[str, ...]) -> float:
        total = 0.0
        for path in paths:
            started = time.perf_counter()
            status, _ = self.query(path)
            total += time.perf_counter() - started
            self.statuses[("query", status)] += 1
        return total

    def pair(self, page: str, queries: tuple[str, ...], samples: int, warm_up: int) -> Pair:
        """The page and its queries, alternately, ``samples`` times each after ``warm_up``."""
        for _ in range(warm_up):
            self.timed_page(page)
            self.timed_queries(queries)
        self.statuses.clear()
        pages: list[float] = []
        answers: list[float] = []
        size = 0
        for round_ in range(samples):
            if round_ % 2:
                answers.append(self.timed_queries(queries))
            elapsed, size = self.timed_page(page)
            pages.append(elapsed)
            if not round_ % 2:
                answers.append(self.timed_queries(queries))
        return Pair(Timing.of(pages), Timing.of(answers), size)

    def floor(self, samples: int, warm_up: int) -> Timing:
        """``/healthz``: this server, client and connection, with no query and no page."""
        for _ in range(warm_up):
            self._get("/healthz", {})
        latencies = []
        for _ in range(samples):
            started = time.perf_counter()
            self._get("/healthz", {})
            latencies.append(time.perf_counter() - started)
        return Timing.of(latencies)

    def close(self) -> None:
        self._connection.close()
