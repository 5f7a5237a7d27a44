"""Every page of the workspace in a real browser: it answers, says what it is in its one heading,
writes no error to the console, passes axe-core, loads within a second on the demo organisation,
and leaves a screenshot of its first screen (``make screenshots`` keeps them in
``docs/screenshots/`` for the README; this file's name sorts first, so they show the demo before
the other tests add issues of their own). A page of the past and a viewer are offered no change
to work. And signing in, both ways."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from services.app import Runtime
from services.cli_tokens import sign_in_link
from services.web.session import COOKIE
from tests.web.browser.checks import (
    COUNT_HTMX_REQUESTS,
    LOAD_BUDGET_MS,
    assert_accessible,
    navigation_timing,
    one_heading,
    rows_off_contract,
    settled,
)
from tests.web.browser.conftest import (
    SCREENSHOTS,
    VIEWPORT,
    Demo,
    Tab,
    sign_in_through_the_page,
)

# Measures load times and runs a browser: by itself, after the tests that run two at a time.
pytestmark = [pytest.mark.browser, pytest.mark.alone]

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@dataclass(frozen=True)
class Walked:
    """A page of the walk: where it is, what its heading says, what it must show (a selector),
    and, for a page of the nav bar, the link the nav marks as the current one."""

    path: Callable[[Demo], str]
    heading: Callable[[Demo], str]
    shows: Callable[[Demo], str]
    in_nav: str | None = None


ROWS = "#page [data-row]"
WALK = {
    "portfolio": Walked(lambda _: "/portfolio", lambda _: "Portfolio", lambda _: ROWS, "Portfolio"),
    "team": Walked(lambda _: "/team", lambda _: "Team", lambda _: ROWS, "Team"),
    "my-work": Walked(lambda _: "/my-work", lambda _: "My work", lambda _: ROWS, "My work"),
    "insights": Walked(lambda _: "/insights", lambda _: "Insights", lambda _: ROWS, "Insights"),
    "triage": Walked(lambda _: "/triage", lambda _: "Triage", lambda _: ROWS, "Triage"),
    "summaries": Walked(lambda _: "/summaries", lambda _: "Status of", lambda _: "h2", "Summaries"),
    "issue": Walked(
        lambda demo: f"/issues/{demo.issue['id']}",
        lambda demo: demo.issue["title"],
        lambda _: "#edit-issue",
    ),
    "project": Walked(
        lambda demo: f"/projects/{demo.project['id']}",
        lambda demo: demo.project["name"],
        lambda demo: f"a[href^='/issues/{demo.issue['id']}']",
    ),
    "goal": Walked(
        lambda demo: f"/goals/{demo.goal['id']}", lambda demo: demo.goal["title"], lambda _: "h2"
    ),
    "search": Walked(
        lambda demo: f"/search?q={quote(demo.issue['title'])}",
        lambda _: "Find an issue",
        lambda demo: f"#page a[href^='/issues/{demo.issue['id']}']",
    ),
}


@pytest.mark.parametrize("name", list(WALK))
def test_every_page_loads_fast_reads_well_and_passes_axe(tab: Tab, demo: Demo, name: str) -> None:
    walked = WALK[name]
    tab.open(walked.path(demo))
    heading = one_heading(tab.page)
    assert walked.heading(demo) in heading, f"{name}: the h1 says {heading!r}"
    if walked.in_nav:
        current = tab.page.locator("nav a[aria-current=page]")
        assert current.inner_text() == walked.in_nav
    timing = navigation_timing(tab.page)
    assert timing["load"] < LOAD_BUDGET_MS, f"{name} loaded in {timing['load']:.0f} ms: {timing}"
    settled(tab.page)
    shows = walked.shows(demo)
    assert tab.page.locator(shows).count() > 0, f"{name} shows no {shows}"
    assert rows_off_contract(tab.page) == [], f"{name} has rows the keyboard can't use"
    assert_accessible(tab.page, name)
    assert tab.errors == [], f"{name} wrote errors to the console: {tab.errors}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # The first screen, as a person sees it on opening the page.
    tab.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    print(f"{name}: response {timing['response']:.0f} ms, load {timing['load']:.0f} ms")


def a_past_moment_all_of(demo: Demo) -> datetime:
    """Ten days ago, or nearer when one of the demo's objects is younger: the demo ends now, so
    the issue it offers may have been opened a day ago, and before that its page is rightly 404."""
    now = datetime.now(UTC)
    youngest = max(
        datetime.fromisoformat(shown["created_at"])
        for shown in (demo.issue, demo.project, demo.goal)
    )
    # A whole minute after the youngest, as the date-time control has no seconds.
    return max(now - timedelta(days=10), youngest + (now - youngest) / 2 + timedelta(minutes=1))


@pytest.mark.parametrize("name", list(WALK))
def test_every_page_of_the_past_says_so_and_offers_no_change(
    tab: Tab, demo: Demo, name: str
) -> None:
    walked = WALK[name]
    path = walked.path(demo)
    moment = a_past_moment_all_of(demo).strftime("%Y-%m-%dT%H:%M")
    tab.open(f"{path}{'&' if '?' in path else '?'}as_of={moment}")
    assert walked.heading(demo) in one_heading(tab.page)
    assert "The past" in tab.page.locator(".banner").inner_text()
    assert tab.page.get_attribute("body", "data-live") == "off"
    settled(tab.page)
    changes = tab.page.locator("#page form[method=post], #page [hx-post]")
    assert changes.count() == 0, f"{name} of the past offers to change work"
    assert tab.errors == [], f"{name} wrote errors to the console: {tab.errors}"


def test_a_viewer_is_offered_no_change_to_work(
    browser: Browser, server: str, demo_runtime: Runtime, demo: Demo
) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(script=COUNT_HTMX_REQUESTS)
    try:
        page = sign_in_through_the_page(context, server, demo_runtime.tokens.create("viewer"))
        for name in ("triage", "issue", "project"):
            response = page.goto(server + WALK[name].path(demo))
            assert response is not None
            assert response.status == 200
            assert WALK[name].heading(demo) in one_heading(page)
            settled(page)
            changes = page.locator("#page form[method=post], #page [hx-post]")
            assert changes.count() == 0, f"{name} offers a viewer to change work"
    finally:
        context.close()


def test_the_sign_in_page_refuses_a_wrong_token_and_passes_axe(
    browser: Browser, server: str
) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        tab = Tab(context.new_page(), server)
        tab.watch(tab.page)
        tab.open("/sign-in")
        assert one_heading(tab.page) == "Sign in"
        assert_accessible(tab.page, "the sign-in page")
        tab.page.fill("#token", "wl_not_a_token")
        with tab.page.expect_navigation():
            tab.page.click("#sign-in button[type=submit]")
        assert "not valid" in tab.page.locator("[role=alert]").inner_text()
        assert not [c for c in context.cookies() if c["name"] == COOKIE]
    finally:
        context.close()


def test_pasting_a_token_signs_in_with_a_strict_http_only_cookie_and_back_where_asked(
    browser: Browser, server: str, demo_runtime: Runtime
) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        tab = context.new_page()
        tab.goto(f"{server}/portfolio?compare=2026-01-01T00:00")
        assert "/sign-in?next=" in tab.url
        tab.fill("#token", demo_runtime.tokens.create("viewer"))
        with tab.expect_navigation():
            tab.click("#sign-in button[type=submit]")
        assert tab.url == f"{server}/portfolio?compare=2026-01-01T00:00"
        (cookie,) = [c for c in context.cookies() if c["name"] == COOKIE]
        assert cookie["httpOnly"]
        assert cookie["sameSite"] == "Strict"
        assert tab.evaluate("() => document.cookie") == "", "a script can read the session"
    finally:
        context.close()


def test_the_link_token_create_web_prints_signs_in_and_forgets_the_token(
    browser: Browser, server: str, demo_runtime: Runtime
) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        link = sign_in_link(server, demo_runtime.tokens.create("viewer"))
        assert link.startswith(f"{server}/sign-in#token=wl_")
        tab = context.new_page()
        tab.goto(link)
        tab.wait_for_url(f"{server}/portfolio")
        assert one_heading(tab) == "Portfolio"
        assert [c for c in context.cookies() if c["name"] == COOKIE]
        # No page left in the history holds the token.
        tab.go_back()
        assert "token=" not in tab.url
    finally:
        context.close()
