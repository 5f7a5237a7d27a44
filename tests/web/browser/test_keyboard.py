"""The workspace by keyboard alone: going to a page with ``g`` and a letter, the help overlay,
moving over rows with ``j``/``k`` and opening one, and ``/`` for the search box."""

from __future__ import annotations

import re

import pytest

from tests.web.browser.checks import assert_accessible, one_heading
from tests.web.browser.conftest import Demo, Tab

# Measures load times and runs a browser: by itself, after the tests that run two at a time.
pytestmark = [pytest.mark.browser, pytest.mark.alone]

ACTIVE_ROW = "() => document.activeElement.dataset.rowId || null"


@pytest.mark.parametrize(
    ("start", "keys", "target"),
    [
        ("/portfolio", "g t", "/team"),
        ("/portfolio", "g m", "/my-work"),
        ("/team", "g p", "/portfolio"),
    ],
)
def test_g_and_a_letter_goes_to_that_page(tab: Tab, start: str, keys: str, target: str) -> None:
    tab.open(start)
    with tab.page.expect_navigation() as navigation:
        for key in keys.split():
            tab.page.keyboard.press(key)
    response = navigation.value
    assert response is not None
    assert response.status == 200, f"{target} answered {response.status}"
    assert tab.page.url == tab.base + target
    one_heading(tab.page)


def test_question_mark_opens_the_help_and_escape_closes_it(tab: Tab) -> None:
    tab.open("/portfolio")
    help_dialog = tab.page.locator("#help")
    assert not help_dialog.is_visible()
    tab.page.keyboard.press("?")
    assert help_dialog.is_visible()
    assert help_dialog.evaluate("dialog => dialog.open")
    assert "Next / previous item" in help_dialog.inner_text()
    assert_accessible(tab.page, "the help dialog")
    tab.page.keyboard.press("Escape")
    assert not help_dialog.evaluate("dialog => dialog.open")


def test_j_and_k_move_over_the_rows_and_enter_opens_one(tab: Tab) -> None:
    tab.open("/portfolio")
    ids = tab.page.eval_on_selector_all(
        "#page [data-row]", "rows => rows.map((row) => row.dataset.rowId)"
    )
    assert len(ids) >= 3, "the demo's portfolio has rows to move over"
    for expected in (ids[0], ids[1], ids[2]):
        tab.page.keyboard.press("j")
        assert tab.page.evaluate(ACTIVE_ROW) == expected
    tab.page.keyboard.press("k")
    assert tab.page.evaluate(ACTIVE_ROW) == ids[1]
    with tab.page.expect_navigation():
        tab.page.keyboard.press("Enter")
    assert re.search(rf"/(projects|goals)/{ids[1]}", tab.page.url), tab.page.url


def test_slash_focuses_the_search_and_a_key_opens_its_issue(tab: Tab, demo: Demo) -> None:
    tab.open("/portfolio")
    tab.page.keyboard.press("/")
    assert tab.page.evaluate("() => document.activeElement.id") == "search"
    # The slash itself is a shortcut, not the first letter of the search.
    assert tab.page.input_value("#search") == ""
    tab.page.keyboard.type(demo.issue["key"].lower())
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url(f"{tab.base}/issues/{demo.issue['id']}")
    assert demo.issue["title"] in one_heading(tab.page)
