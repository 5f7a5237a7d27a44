"""The triage page: the queue ``GET /v1/insights?kind=triage`` answers, with its scores, and a
lead triaging an issue from its row through the command API's own routes."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest
from fastapi import FastAPI

from services.app import Runtime
from tests.web.conftest import Api, Person, caught_up, days_ago, page_text, sign_in

Answer = dict[str, Any]
SCRIPT = {"HX-Request": "true"}
ROW_ID = re.compile(r'<tr data-row tabindex="-1" data-row-id="([0-9a-f-]{36})"')
VERSION = re.compile(r'name="version" value="(\d+)"')
TRIAGE_EVENTS = ("IssuePriorityChanged", "IssueAssigned", "IssueTransitioned")


@dataclass
class Crew:
    """A demo team, a manager acting for its lead, one of its members, and the admin's API."""

    api: Api
    team: Answer
    lead: Person
    member: Person
    worker: Answer

    def bug(self) -> str:
        """A bug of the team's (bugs start in triage), the views caught up with it."""
        title = f"Export fails {uuid4().hex[:6]}"
        issue = self.api.new_issue(title, "bug", team_id=self.team["id"])
        assert issue["status"] == "triage"
        return str(issue["id"])

    def triage_events(self, issue_id: str) -> Counter[str]:
        history = self.api.get(f"/v1/history?object_id={issue_id}&limit=100")["items"]
        return Counter(e["event_type"] for e in history if e["event_type"] in TRIAGE_EVENTS)


@pytest.fixture(scope="module")
def crew(web_app: FastAPI, demo_runtime: Runtime, api: Api) -> Crew:
    teams = api.get("/v1/teams?limit=500")["items"]
    waiting = api.get("/v1/issues?status=triage&limit=500")["items"]
    queued = Counter(str(issue["team_id"]) for issue in waiting)
    # The led team with the longest queue, so its page has rows beside the test's own.
    team = max((team for team in teams if team["lead_ids"]), key=lambda t: queued[str(t["id"])])
    members = api.get(f"/v1/members?team_id={team['id']}&active=true&limit=500")["items"]
    worker = next(m for m in members if m["role"] == "member" and m["id"] not in team["lead_ids"])
    lead = sign_in(web_app, demo_runtime, "manager", str(team["lead_ids"][0]))
    member = sign_in(web_app, demo_runtime, "member", str(worker["id"]))
    return Crew(api, team, lead, member, worker)


def _row(text: str, issue_id: str) -> str:
    start = text.index(f'data-row-id="{issue_id}"')
    return text[start : text.index("</tr>", start)]


def _fresh(crew: Crew, demo_runtime: Runtime) -> tuple[str, str]:
    """A new bug and the version its row on the lead's page was drawn from."""
    issue_id = crew.bug()
    caught_up(demo_runtime)
    page = crew.lead.get(f"/triage?team={crew.team['id']}")
    assert page.status_code == 200
    found = VERSION.search(_row(page.text, issue_id))
    assert found, "the lead sees the controls of the team's issue"
    return issue_id, found.group(1)


def _unchanged(crew: Crew, issue_id: str) -> None:
    issue = crew.api.get(f"/v1/issues/{issue_id}")
    assert (issue["status"], issue["priority"], issue["assignee_id"]) == ("triage", "none", None)
    assert crew.triage_events(issue_id) == Counter()


def test_the_queue_is_the_querys_with_its_scores(
    crew: Crew, web_app: FastAPI, demo_runtime: Runtime
) -> None:
    team_id = crew.team["id"]
    for address, scope in (("/triage", "org"), (f"/triage?team={team_id}", f"team:{team_id}")):
        answer = crew.api.get(f"/v1/insights?scope={scope}&kind=triage&limit=100")
        assert answer["items"], "issues wait in triage"
        page = page_text(crew.lead, address)
        assert ROW_ID.findall(page) == [str(i["objects"][0]["id"]) for i in answer["items"]]
        for item in answer["items"]:
            row = _row(page, str(item["objects"][0]["id"]))
            assert f'<strong class="score">{item["score"]["total"]}</strong>' in row
            for part, points in item["score"]["parts"].items():
                assert (
                    f'<span class="part">{part}</span> <span class="points">{points}</span>' in row
                )
    assert "Accept the focused issue to the backlog" in page


def test_a_lead_accepts_an_issue_to_todo_with_a_priority_and_an_assignee(
    crew: Crew, demo_runtime: Runtime
) -> None:
    issue_id, version = _fresh(crew, demo_runtime)
    row = _row(crew.lead.get(f"/triage?team={crew.team['id']}").text, issue_id)
    for key in ("b", "t", "x", "p", "a"):
        assert f'data-shortcut="{key}"' in row
    assert 'name="priority"' in row
    assert 'name="assignee_id"' in row
    assert f'<option value="{crew.worker["id"]}"' in row
    fields = {"action": "todo", "priority": "high", "assignee_id": crew.worker["id"]}
    answer = crew.lead.post(f"/triage/{issue_id}", {**fields, "version": version}, headers=SCRIPT)
    assert answer.status_code == 200, answer.text
    assert answer.text.lstrip().startswith(f'<tr data-row tabindex="-1" data-row-id="{issue_id}"')
    assert 'class="alert alert-ok"' in answer.text
    assert "as todo" in answer.text
    assert "priority high" in answer.text
    assert f"assigned to {crew.worker['name']}" in answer.text
    issue = crew.api.get(f"/v1/issues/{issue_id}")
    assert (issue["status"], issue["priority"], issue["assignee_id"]) == (
        "todo",
        "high",
        crew.worker["id"],
    )
    assert crew.triage_events(issue_id) == Counter(dict.fromkeys(TRIAGE_EVENTS, 1))
    caught_up(demo_runtime)
    assert f'data-row-id="{issue_id}"' not in crew.lead.get("/triage").text


def test_an_admin_accepts_to_the_backlog_and_cancels(crew: Crew, admin: Person) -> None:
    kept, cancelled = crew.bug(), crew.bug()
    for issue_id, action in ((kept, "backlog"), (cancelled, "cancel")):
        version = str(crew.api.get(f"/v1/issues/{issue_id}")["version"])
        fields = {"action": action, "priority": "low", "version": version}
        answer = admin.post(f"/triage/{issue_id}", fields, headers=SCRIPT)
        assert answer.status_code == 200, answer.text
        assert 'class="alert alert-ok"' in answer.text
    backlog = crew.api.get(f"/v1/issues/{kept}")
    assert (backlog["status"], backlog["priority"], backlog["assignee_id"]) == (
        "backlog",
        "low",
        None,
    )
    assert crew.triage_events(kept) == Counter(IssuePriorityChanged=1, IssueTransitioned=1)
    gone = crew.api.get(f"/v1/issues/{cancelled}")
    assert (gone["status"], gone["priority"]) == ("cancelled", "none")
    assert crew.triage_events(cancelled) == Counter(IssueTransitioned=1)


def test_a_stale_version_is_refused_in_the_row_and_changes_nothing(
    crew: Crew, demo_runtime: Runtime
) -> None:
    issue_id, version = _fresh(crew, demo_runtime)
    crew.api.call("PATCH", f"/v1/issues/{issue_id}", {"title": "Export fails on big files"})
    fields = {"action": "todo", "priority": "urgent", "assignee_id": crew.worker["id"]}
    answer = crew.lead.post(f"/triage/{issue_id}", {**fields, "version": version}, headers=SCRIPT)
    assert answer.status_code == 412
    assert f'data-row-id="{issue_id}"' in answer.text
    assert 'data-status="412"' in answer.text
    assert "Changed since you opened it" in answer.text
    _unchanged(crew, issue_id)


def test_viewers_and_members_see_the_scores_but_may_not_triage(
    crew: Crew, viewer: Person, demo_runtime: Runtime
) -> None:
    issue_id, version = _fresh(crew, demo_runtime)
    fields = {"action": "todo", "priority": "high", "version": version}
    for person in (viewer, crew.member):
        page = person.get(f"/triage?team={crew.team['id']}")
        assert page.status_code == 200
        row = _row(page.text, issue_id)
        assert 'class="score"' in row
        assert "data-shortcut" not in page.text
        assert "hx-post" not in page.text
        refused = person.post(f"/triage/{issue_id}", fields, headers=SCRIPT)
        assert refused.status_code == 403
        assert 'data-status="403"' in refused.text
        as_page = person.post(f"/triage/{issue_id}", fields)
        assert as_page.status_code == 403
        assert "<h1>Not allowed</h1>" in as_page.text
    _unchanged(crew, issue_id)


def test_a_post_without_the_form_token_is_refused(crew: Crew, demo_runtime: Runtime) -> None:
    issue_id, version = _fresh(crew, demo_runtime)
    fields = {"action": "todo", "priority": "high", "version": version}
    answer = crew.lead.client.post(f"/triage/{issue_id}", data=fields, headers=SCRIPT)
    assert answer.status_code == 403
    _unchanged(crew, issue_id)


def test_the_past_shows_the_queue_then_without_controls(crew: Crew) -> None:
    moment = days_ago(20)
    page = crew.lead.get(f"/triage?as_of={moment}")
    assert page.status_code == 200
    answer = crew.api.get(f"/v1/insights?kind=triage&limit=100&as_of={moment}")
    assert ROW_ID.findall(page.text) == [str(i["objects"][0]["id"]) for i in answer["items"]]
    assert "data-shortcut" not in page.text


def test_a_bad_team_is_an_error_page(crew: Crew) -> None:
    assert crew.lead.get("/triage?team=payments").status_code == 400
    unknown = crew.lead.get("/triage?team=00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/html")
    bad = crew.lead.post(f"/triage/{uuid4()}", {"action": "todo", "version": "1"}, headers=SCRIPT)
    assert bad.status_code == 404


def test_a_form_sent_without_the_script_comes_back_to_the_queue(crew: Crew) -> None:
    issue_id = crew.bug()
    version = str(crew.api.get(f"/v1/issues/{issue_id}")["version"])
    fields = {"action": "backlog", "priority": "medium", "version": version}
    answer = crew.lead.post(f"/triage/{issue_id}", fields)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/triage"
    issue = crew.api.get(f"/v1/issues/{issue_id}")
    assert (issue["status"], issue["priority"]) == ("backlog", "medium")
    stale = crew.lead.post(f"/triage/{issue_id}", {**fields, "action": "todo"})
    assert stale.status_code == 412
    assert "<h1>Changed since you opened it</h1>" in stale.text


def test_the_team_picker_offers_every_team_once_loaded(crew: Crew) -> None:
    team_id = crew.team["id"]
    page = crew.lead.get(f"/triage?team={team_id}").text
    # The page names its own team at once and loads the other choices after it.
    assert f'<option value="{team_id}" selected>{crew.team["name"]}</option>' in page
    assert f'hx-get="/triage/teams?team={team_id}"' in page
    choices = crew.lead.get(f"/triage/teams?team={team_id}", headers=SCRIPT)
    assert choices.status_code == 200
    assert '<select id="team" name="team">' in choices.text
    assert '<option value="">Every team</option>' in " ".join(choices.text.split())
    teams = crew.api.get("/v1/teams?limit=500")["items"]
    by_name = sorted(teams, key=lambda team: (team["name"].casefold(), team["id"]))
    offered = re.findall(r'<option value="([0-9a-f-]{36})"', choices.text)
    assert offered == [str(team["id"]) for team in by_name]
    assert f'<option value="{team_id}" selected>' in choices.text
    everyone = crew.lead.get("/triage/teams", headers=SCRIPT).text
    assert '<option value="" selected>Every team</option>' in " ".join(everyone.split())
    assert crew.lead.get("/triage/teams?team=payments").status_code == 400
