"""Changing work in the browser: triaging an issue with the keyboard alone, and editing an issue
where a second tab, still at the old version, is refused instead of overwriting the first."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import wait_until
from tests.web.browser.checks import assert_accessible
from tests.web.browser.conftest import SHOWN_WITHIN_MS, Api, Tab

# Measures load times and runs a browser: by itself, after the tests that run two at a time.
pytestmark = [pytest.mark.browser, pytest.mark.alone]

ACTIVE_ROW = "() => document.activeElement.dataset.rowId || null"


def test_a_manager_triages_an_issue_with_the_keyboard(tab: Tab, api: Api) -> None:
    issue = api.new_issue(f"Checkout times out {uuid.uuid4().hex[:6]}", kind="bug")
    assert issue["status"] == "triage"
    tab.open(f"/triage?team={issue['team_id']}&min_position={issue['position']}")
    ids = tab.page.eval_on_selector_all(
        "#page [data-row]", "rows => rows.map((row) => row.dataset.rowId)"
    )
    assert issue["id"] in ids, "the new bug waits in the triage queue"
    for _ in range(ids.index(issue["id"]) + 1):
        tab.page.keyboard.press("j")
    assert tab.page.evaluate(ACTIVE_ROW) == issue["id"]
    row = tab.page.locator(f"#page [data-row-id='{issue['id']}']")
    tab.page.keyboard.press("p")
    priority = row.locator("select[data-shortcut=p]")
    assert priority.evaluate("select => select === document.activeElement")
    tab.page.keyboard.press("h")
    assert priority.input_value() == "high"
    tab.page.keyboard.press("Escape")
    tab.page.wait_for_function(f"() => ({ACTIVE_ROW})() === '{issue['id']}'")
    tab.page.keyboard.press("t")
    done = tab.page.locator(f"#page [data-row-id='{issue['id']}'] [data-done]")
    done.wait_for(timeout=SHOWN_WITHIN_MS)
    assert done.get_attribute("data-done") == "todo"
    assert "priority high" in done.inner_text()
    assert_accessible(tab.page, "the triage queue with an issue triaged")
    wait_until(
        lambda: api.issue(issue["id"])["status"] == "todo", 5, "the API shows the issue triaged"
    )
    assert api.issue(issue["id"])["priority"] == "high"
    assert tab.errors == []


def test_an_edit_from_a_tab_at_an_old_version_is_refused_and_overwrites_nothing(
    tab: Tab, api: Api
) -> None:
    issue = api.new_issue(f"Rename me {uuid.uuid4().hex[:6]}")
    path = f"/issues/{issue['id']}"
    tab.open(path)
    stale = Tab(tab.page.context.new_page(), tab.base)
    stale.watch(stale.page)
    stale.open(path)
    # The second tab is being edited, so what the first one saves does not refresh it.
    stale.page.fill("#edit-title", "The title of the stale tab")

    first = f"Renamed in the first tab {uuid.uuid4().hex[:6]}"
    tab.page.fill("#edit-title", first)
    tab.page.click("#edit-issue button[type=submit]")
    notice = tab.page.locator("#page [data-notice]")
    notice.wait_for(timeout=SHOWN_WITHIN_MS)
    assert "Saved" in notice.inner_text()
    assert first in tab.page.locator("h1").inner_text()
    assert api.issue(issue["id"])["title"] == first

    stale.page.click("#edit-issue button[type=submit]")
    refusal = stale.page.locator('#page .alert[data-status="412"]')
    refusal.wait_for(timeout=SHOWN_WITHIN_MS)
    assert "Changed since you opened it" in refusal.inner_text()
    assert_accessible(stale.page, "the issue page refusing a stale edit")
    assert api.issue(issue["id"])["title"] == first
    assert tab.errors == []
    # The browser reports the refusal's 412 as a failed resource; nothing else went wrong.
    assert [error for error in stale.errors if "status of 412" not in error] == []
