"""Fixtures of the workspace's browser tests: the demo organisation served over real HTTP,
Debian's Chromium driven by Playwright (headless, no browser of Playwright's own), a person
signed in through the sign-in page, and the JSON API as another client beside the browser.

The browser is required where ``WORKLEDGER_REQUIRE_BROWSER=1`` (CI installs it): there a missing
browser fails the run. Elsewhere, without a browser, these tests are skipped and say why. The
browser is ``/usr/bin/chromium`` (Debian's ``chromium``), or ``WORKLEDGER_CHROMIUM`` when set.

The tests are marked ``alone``: they measure how fast pages load, and run after the tests that
run two at a time, so that another test process does not slow the pages they time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from uuid import UUID

import httpx
import pytest

from services.app import Runtime, create_app
from tests.conftest import serving
from tests.web.browser.checks import COUNT_HTMX_REQUESTS

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Page,
        Playwright,
        Response,
        StorageState,
        ViewportSize,
    )

CHROMIUM = Path(os.environ.get("WORKLEDGER_CHROMIUM", "/usr/bin/chromium"))
REPOSITORY = Path(__file__).resolve().parents[3]
# Where each page's screenshot goes: build/screenshots/ in a test run (so a run leaves the tree as
# it found it), docs/screenshots/ for the README with `make screenshots`.
SCREENSHOTS = REPOSITORY / os.environ.get("WORKLEDGER_SCREENSHOTS", "build/screenshots")
# Wide enough for the tables of every page, as a person's laptop shows them.
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
# How long a browser test waits for what a page shows after a keystroke or a write elsewhere.
SHOWN_WITHIN_MS = 5000


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("WORKLEDGER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"a browser is required (WORKLEDGER_REQUIRE_BROWSER=1): {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session", autouse=True)
def playwright_driver() -> Iterator[Playwright]:
    """Playwright's driver, once the browser is known to be there (before the demo is built)."""
    if not CHROMIUM.is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        _unavailable(f"Playwright for Python is not installed ({error}): make .venv/.installed")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def server(demo_runtime: Runtime) -> Iterator[str]:
    """The workspace and the API on the demo organisation, on a free loopback port."""
    with serving(create_app(demo_runtime)) as url:
        yield url


@dataclass
class Api:
    """Another client of the same server: the JSON API with a bearer token."""

    client: httpx.Client

    def get(self, path: str, **params: Any) -> Any:
        answer = self.client.get(path, params=params)
        assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        answer = self.client.request(method, path, json=body)
        assert answer.status_code in (200, 201), f"{method} {path}: {answer.text}"
        return answer.json()

    def issue(self, issue_id: str, after: int | None = None) -> dict[str, Any]:
        """The issue as the API answers it, once its view holds position ``after``."""
        params = {"min_position": after} if after is not None else {}
        found: dict[str, Any] = self.get(f"/v1/issues/{issue_id}", **params)
        return found

    def new_issue(self, title: str, kind: str = "task", **fields: Any) -> dict[str, Any]:
        """An issue of the test's own, in the demo's first team; its view has applied it."""
        team = fields.pop("team_id", None) or self.get("/v1/teams", limit=1)["items"][0]["id"]
        created = self.send(
            "POST", "/v1/issues", {"title": title, "kind": kind, "team_id": team, **fields}
        )
        return self.issue(created["id"], after=created["position"])


@pytest.fixture(scope="session")
def api(server: str, demo_runtime: Runtime) -> Iterator[Api]:
    token = demo_runtime.tokens.create("admin")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server, headers=headers, timeout=30) as client:
        yield Api(client)


@dataclass(frozen=True)
class Demo:
    """Objects of the demo organisation the pages show: ids and what their pages name."""

    member_id: str
    issue: dict[str, Any]
    project: dict[str, Any]
    goal: dict[str, Any]


@pytest.fixture(scope="session")
def demo(api: Api) -> Demo:
    """A member with open work, one of their issues in a project (the furthest along the
    workflow, with the most comments), its project, and a goal of the portfolio.

    The demo ends at the moment it is made, so which of its issues are in progress, and whether
    any of those is in a project, depends on the time of day: the issue is looked for in each
    open status in turn."""
    issue = None
    for status in ("in_progress", "in_review", "todo", "backlog"):
        listed = api.get("/v1/issues", status=status, limit=500)["items"]
        assigned = [found for found in listed if found["assignee_id"] and found["project_id"]]
        if assigned:
            issue = max(assigned, key=lambda found: found["comment_count"])
            break
    assert issue is not None, "the demo has open issues, assigned, in a project"
    project = api.get(f"/v1/projects/{issue['project_id']}")
    goals = api.get("/v1/goals", limit=1)["items"]
    assert goals, "the demo has goals"
    return Demo(issue["assignee_id"], issue, project, goals[0])


def sign_in_through_the_page(context: BrowserContext, base: str, token: str) -> Page:
    """A tab that signed in by pasting ``token`` into the sign-in page, as a person does."""
    tab = context.new_page()
    tab.goto(f"{base}/sign-in")
    tab.fill("#token", token)
    with tab.expect_navigation():
        tab.click("#sign-in button[type=submit]")
    assert "/sign-in" not in tab.url, f"signing in did not leave the sign-in page: {tab.url}"
    return tab


@pytest.fixture(scope="session")
def signed_in_state(
    browser: Browser, server: str, demo_runtime: Runtime, demo: Demo
) -> StorageState:
    """The cookies of an admin who is also a member of the demo (so /my-work has a queue),
    signed in once through the sign-in page; each test's tab starts from them."""
    token = demo_runtime.tokens.create("admin", UUID(demo.member_id))
    context = browser.new_context(viewport=VIEWPORT)
    try:
        tab = sign_in_through_the_page(context, server, token)
        assert tab.url.endswith("/portfolio"), tab.url
        return context.storage_state()
    finally:
        context.close()


@dataclass
class Tab:
    """A signed-in browser tab, and what its pages wrote to the console as errors."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> Response:
        """Goes to ``path``; the response, asserted to be the page itself (200, HTML)."""
        response = self.page.goto(self.base + path)
        assert response is not None, f"no response for {path}"
        assert response.status == 200, f"GET {path} answered {response.status}"
        assert response.headers["content-type"].startswith("text/html")
        return response

    def watch(self, page: Page) -> Page:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url") or self.page.url
            self.errors.append(f"{message.text} [{where}]")


@pytest.fixture
def context(browser: Browser, signed_in_state: StorageState) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport=VIEWPORT, storage_state=signed_in_state)
    opened.set_default_timeout(10_000)
    opened.add_init_script(script=COUNT_HTMX_REQUESTS)
    yield opened
    opened.close()


@pytest.fixture
def tab(context: BrowserContext, server: str) -> Tab:
    signed_in = Tab(context.new_page(), server)
    signed_in.watch(signed_in.page)
    return signed_in
