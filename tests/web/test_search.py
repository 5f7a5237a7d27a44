"""The search page: a key opens its issue; words list the issues ``GET /v1/issues?q=`` finds."""

from __future__ import annotations

import re
from uuid import uuid4

from tests.web.conftest import Api, Person, caught_up

ROW_ID = re.compile(r'<tr data-row data-row-id="([0-9a-f-]{36})"')


def test_a_key_in_any_case_opens_its_issue(api: Api, admin: Person) -> None:
    issues = api.get("/v1/issues", limit=500)["items"]
    issue = next(item for item in issues if item["key"])
    answer = admin.get(f"/search?q={issue['key'].lower()}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/issues/{issue['id']}"
    moment = "2030-01-01T00:00"
    past = admin.get(f"/search?q={issue['key']}&as_of={moment}", follow_redirects=False)
    assert past.status_code == 422  # a moment in the future is refused, as on every page


def test_words_of_a_title_list_what_the_query_finds(api: Api, admin: Person) -> None:
    issues = api.get("/v1/issues", limit=500)["items"]
    word = issues[0]["title"].split()[0]
    page = admin.get("/search", params={"q": word.upper()})
    assert page.status_code == 200
    found = api.get("/v1/issues", q=word, limit=500)["items"]
    assert len(found) >= 1
    assert ROW_ID.findall(page.text) == [item["id"] for item in found]
    assert all(word.lower() in item["title"].lower() for item in found)
    for item in found:
        assert f'href="/issues/{item["id"]}" data-open' in page.text


def test_an_issue_of_its_own_is_found_by_a_part_of_its_title(api: Api, admin: Person) -> None:
    marker = uuid4().hex[:8]
    issue = api.new_issue(f"Reconcile 100% {marker} ledgers")
    page = admin.get("/search", params={"q": f"100% {marker.upper()}"})
    assert ROW_ID.findall(page.text) == [issue["id"]]
    nothing = admin.get("/search", params={"q": f"{marker}%_"})
    assert nothing.status_code == 200
    assert ROW_ID.findall(nothing.text) == []
    assert "No issue has that key" in nothing.text


def test_the_past_finds_a_title_as_it_was_then(api: Api, admin: Person) -> None:
    marker = uuid4().hex[:8]
    issue = api.new_issue(f"Old name {marker}")
    api.call("PATCH", f"/v1/issues/{issue['id']}", {"title": f"New name {marker}"})
    caught_up(api.runtime)
    assert ROW_ID.findall(admin.get("/search", params={"q": f"old name {marker}"}).text) == []
    then = admin.get("/search", params={"q": f"old name {marker}", "as_of": issue["updated_at"]})
    assert then.status_code == 200
    assert ROW_ID.findall(then.text) == [issue["id"]]
    assert f'href="/issues/{issue["id"]}?as_of=' in then.text


def test_an_empty_or_too_long_search_is_a_page_not_a_failure(admin: Person) -> None:
    empty = admin.get("/search?q=")
    assert empty.status_code == 200
    assert "<h1>Find an issue</h1>" in empty.text
    long = admin.get("/search", params={"q": "x" * 201})
    assert long.status_code == 400
    assert long.headers["content-type"].startswith("text/html")
