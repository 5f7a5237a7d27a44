"""The issue page: ``GET /v1/issues/{id}`` with its comments and history, and the forms that
change it through the command API's own routes, each with the version the page was opened at."""

from __future__ import annotations

import html
import re
from typing import Any
from uuid import uuid4

from services.web.pages.detail_issue import NEXT_STATUSES
from tests.web.conftest import Api, Person, caught_up

Answer = dict[str, Any]
SCRIPT = {"HX-Request": "true"}
VERSION = re.compile(r'name="version" value="(\d+)"')


def _version(text: str) -> str:
    """The version a page's forms were opened at."""
    found = VERSION.search(text)
    assert found, "the page's forms carry no version"
    return found.group(1)


def _new_task(api: Api) -> Answer:
    """A task of its own in a demo project, as the API answers it."""
    project = api.get("/v1/projects?status=active&limit=500")["items"][0]
    title = f"Settle refunds {uuid4().hex[:6]}"
    fields = {"team_id": project["team_id"], "project_id": project["id"], "estimate": 3}
    return api.new_issue(title, **fields)


def _events(api: Api, issue_id: str) -> list[str]:
    history = api.get(f"/v1/history?object_id={issue_id}&limit=500")["items"]
    return [entry["event_type"] for entry in history]


def _field(text: str, name: str) -> str:
    found = re.search(rf'<dd data-field="{name}">(.*?)</dd>', text, re.S)
    assert found, name
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def _field_html(text: str, name: str) -> str:
    found = re.search(rf'<dd data-field="{name}">(.*?)</dd>', text, re.S)
    assert found, name
    return found.group(1)


def _edit(issue: Answer, **changes: Any) -> dict[str, Any]:
    fields = {
        "version": str(issue["version"]),
        "title": issue["title"],
        "priority": issue["priority"],
        "estimate": "" if issue["estimate"] is None else str(issue["estimate"]),
        "due_date": issue["due_date"] or "",
    }
    return {**fields, **changes}


def test_the_page_shows_the_issue_as_the_api_answers_it(api: Api, admin: Person) -> None:
    issues = api.get("/v1/issues?limit=500")["items"]
    issue = max(issues, key=lambda item: (len(item["watchers"]), len(item["labels"])))
    page = admin.get(f"/issues/{issue['id']}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert text.count("<h1>") == 1
    assert html.escape(issue["title"], quote=False) in text
    assert _field(text, "key") == (issue["key"] or "—")
    assert _field(text, "status") == issue["status"].replace("_", " ")
    assert _field(text, "priority") == issue["priority"]
    for label in issue["labels"]:
        assert f'<span class="tag">{html.escape(label)}</span>' in text
    if issue["assignee_id"]:
        member = api.get(f"/v1/members/{issue['assignee_id']}")
        assert _field(text, "assignee") == member["name"]
    watchers = _field(text, "watchers")
    for watcher in issue["watchers"]:
        member = api.get(f"/v1/members/{watcher}")
        in_team = issue["team_id"] in member["team_ids"] and member["active"]
        assert (member["name"] if in_team else f"member {watcher[:8]}") in watchers
    assert 'id="edit-issue"' in text
    assert "data-keep" in text
    moves = re.findall(r'name="status" value="(\w+)"', text)
    assert moves == list(NEXT_STATUSES[issue["status"]])
    assert f'hx-get="/issues/{issue["id"]}/links"' in text
    comments = api.get(f"/v1/issues/{issue['id']}/comments?limit=500")["items"]
    assert issue["comment_count"] == len(comments)
    assert [int(p) for p in re.findall(r'<li id="comment-(\d+)"', text)] == [
        comment["position"] for comment in comments
    ]
    history = api.get(f"/v1/history?object_id={issue['id']}&limit=500")["items"]
    positions = [int(p) for p in re.findall(r'<li id="entry-(\d+)"', text)]
    assert positions == [entry["position"] for entry in history]


def test_the_links_part_names_what_the_issue_belongs_to_and_links_to(
    api: Api, admin: Person
) -> None:
    issues = api.get("/v1/issues?limit=500")["items"]
    issue = max(issues, key=lambda item: (item["comment_count"], len(item["blocked_by"])))
    part = admin.get(f"/issues/{issue['id']}/links")
    assert part.status_code == 200
    text = part.text
    assert "<html" not in text
    team = api.get(f"/v1/teams/{issue['team_id']}")
    assert _field(text, "team") == team["name"]
    if issue["project_id"]:
        project = api.get(f"/v1/projects/{issue['project_id']}")
        assert _field(text, "project") == f"{project['key']} {project['name']}"
    for other in issue["blocked_by"]:
        assert f'href="/issues/{other}"' in _field_html(text, "blocked_by")
    for other in issue["sub_issue_ids"]:
        assert f'href="/issues/{other}"' in _field_html(text, "sub_issues")
    assert 'id="comment"' not in text


def test_changing_the_title_with_the_version_opened_records_one_event(
    api: Api, admin: Person
) -> None:
    issue = _new_task(api)
    page = admin.get(f"/issues/{issue['id']}")
    assert _version(page.text) == str(issue["version"])
    before = _events(api, issue["id"])
    answer = admin.post(f"/issues/{issue['id']}/edit", _edit(issue, title="Settle refunds daily"))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"/issues/{issue['id']}?min_position=")
    changed = api.get(f"/v1/issues/{issue['id']}")
    assert changed["title"] == "Settle refunds daily"
    assert changed["estimate"] == issue["estimate"]
    assert _events(api, issue["id"]) == [*before, "IssueRetitled"]

    again = admin.post(f"/issues/{issue['id']}/edit", _edit(issue, title="Settle refunds weekly"))
    assert again.status_code == 412
    assert "Changed since you opened it" in again.text
    assert api.get(f"/v1/issues/{issue['id']}")["title"] == "Settle refunds daily"
    assert _events(api, issue["id"]) == [*before, "IssueRetitled"]


def test_a_form_sent_by_the_script_answers_the_page_part_with_a_confirmation(
    api: Api, admin: Person
) -> None:
    issue = _new_task(api)
    fields = _edit(issue, priority="high", estimate="5", due_date="2031-01-31")
    answer = admin.post(f"/issues/{issue['id']}/edit", fields, headers=SCRIPT)
    assert answer.status_code == 200
    assert answer.headers["hx-retarget"] == "#page"
    assert "<html" not in answer.text
    assert "Saved: priority, estimate, due date." in answer.text
    changed = api.get(f"/v1/issues/{issue['id']}")
    assert (changed["priority"], changed["estimate"], changed["due_date"]) == (
        "high",
        5.0,
        "2031-01-31",
    )
    assert _version(answer.text) == str(changed["version"])
    stale = admin.post(f"/issues/{issue['id']}/edit", _edit(issue, title="x"), headers=SCRIPT)
    assert stale.status_code == 412
    assert 'data-status="412"' in stale.text
    assert "Changed since you opened it" in stale.text


def test_moving_assigning_and_commenting_chain_the_version(api: Api, admin: Person) -> None:
    issue = _new_task(api)
    moved = admin.post(
        f"/issues/{issue['id']}/transition",
        {"version": str(issue["version"]), "status": "todo"},
        headers=SCRIPT,
    )
    assert moved.status_code == 200, moved.text
    assert "Moved to todo." in moved.text
    now = api.get(f"/v1/issues/{issue['id']}")
    assert now["status"] == "todo"

    team = api.get(f"/v1/members?team_id={issue['team_id']}&active=true")["items"]
    assignee = team[0]
    assigned = admin.post(
        f"/issues/{issue['id']}/assign",
        {"version": str(now["version"]), "assignee_id": assignee["id"]},
    )
    assert assigned.status_code == 303
    now = api.get(f"/v1/issues/{issue['id']}")
    assert now["assignee_id"] == assignee["id"]

    stale = admin.post(
        f"/issues/{issue['id']}/comment", {"version": str(issue["version"]), "body": "Late"}
    )
    assert stale.status_code == 412
    commented = admin.post(
        f"/issues/{issue['id']}/comment", {"version": str(now["version"]), "body": "Done <b>?"}
    )
    assert commented.status_code == 303
    comments = api.get(f"/v1/issues/{issue['id']}/comments")["items"]
    assert [comment["body"] for comment in comments] == ["Done <b>?"]
    page = admin.get(f"/issues/{issue['id']}")
    assert _field(page.text, "assignee") == assignee["name"]
    assert "Done &lt;b&gt;?" in page.text
    refused = admin.post(
        f"/issues/{issue['id']}/transition", {"version": str(now["version"]), "status": "done"}
    )
    assert refused.status_code == 412
    later = api.get(f"/v1/issues/{issue['id']}")
    wrong = admin.post(
        f"/issues/{issue['id']}/transition", {"version": str(later["version"]), "status": "done"}
    )
    assert wrong.status_code in (409, 422)
    assert api.get(f"/v1/issues/{issue['id']}")["status"] == "todo"


def test_a_viewer_sees_no_forms_and_may_not_post(api: Api, viewer: Person) -> None:
    issue = _new_task(api)
    page = viewer.get(f"/issues/{issue['id']}")
    assert page.status_code == 200
    links = viewer.get(f"/issues/{issue['id']}/links")
    assert links.status_code == 200
    for form in ('id="edit-issue"', 'id="transition"', 'id="assign"', 'id="comment"'):
        assert form not in page.text
        assert form not in links.text
    answer = viewer.post(f"/issues/{issue['id']}/edit", _edit(issue, title="Viewer's"))
    assert answer.status_code == 403
    assert api.get(f"/v1/issues/{issue['id']}")["title"] == issue["title"]


def test_a_post_without_the_form_token_is_refused(api: Api, admin: Person) -> None:
    issue = _new_task(api)
    fields = _edit(issue, title="Forged")
    answer = admin.client.post(f"/issues/{issue['id']}/edit", data=fields, follow_redirects=False)
    assert answer.status_code == 403
    assert api.get(f"/v1/issues/{issue['id']}")["title"] == issue["title"]


def test_the_past_shows_the_old_title_without_controls_and_compare_lists_the_change(
    api: Api, admin: Person
) -> None:
    issue = _new_task(api)
    moment = issue["updated_at"]
    done = admin.post(f"/issues/{issue['id']}/edit", _edit(issue, title="Renamed since"))
    assert done.status_code == 303
    caught_up(api.runtime)
    past = admin.get(f"/issues/{issue['id']}", params={"as_of": moment})
    assert past.status_code == 200, past.text
    assert html.escape(issue["title"]) in past.text
    assert "Renamed since" not in past.text
    assert 'class="banner"' in past.text
    assert 'id="edit-issue"' not in past.text
    assert f'hx-get="/issues/{issue["id"]}/links?as_of=' in past.text
    assert 'id="comment"' not in past.text
    assert "IssueCreated" in past.text
    assert "IssueRetitled" not in past.text
    compared = admin.get(f"/issues/{issue['id']}", params={"compare": moment})
    assert compared.status_code == 200
    assert "What changed from" in compared.text
    assert "Renamed since" in compared.text
    assert "IssueRetitled" in compared.text


def test_an_issue_outside_any_project_has_no_key_and_still_its_page(
    api: Api, admin: Person
) -> None:
    team = api.get("/v1/teams")["items"][0]
    issue = api.new_issue(f"Loose end {uuid4().hex[:6]}", "bug", team_id=team["id"])
    page = admin.get(f"/issues/{issue['id']}")
    assert page.status_code == 200
    assert _field(page.text, "key") == "—"
    assert re.findall(r'name="status" value="(\w+)"', page.text) == ["backlog", "todo", "cancelled"]
    links = admin.get(f"/issues/{issue['id']}/links")
    assert _field(links.text, "project") == "none"


def test_an_unknown_or_malformed_id_is_an_error_page(admin: Person) -> None:
    unknown = admin.get(f"/issues/{uuid4()}")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/html")
    malformed = admin.get("/issues/not-an-id")
    assert 400 <= malformed.status_code < 500
    assert malformed.headers["content-type"].startswith("text/html")
