"""The insights page: the same insights as ``GET /v1/insights`` for the same scope and moment,
each with its evidence linked to the objects' pages and the entries of their history."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from markupsafe import escape

from tests.web.conftest import (
    Api,
    Person,
    assert_error_page,
    days_ago,
    main_part,
    page_text,
    past_page,
)

Answer = dict[str, Any]
ROW = re.compile(r'<li data-row tabindex="-1" data-row-id="([0-9a-f-]{36})" data-kind="(\w+)"')
SHOWN = re.compile(r'data-kind="(\w+)" data-subjects="([0-9a-f -]*)"')


def _rows(text: str) -> list[tuple[str, str]]:
    return ROW.findall(text)


def _expected(answer: Answer) -> list[tuple[str, str]]:
    return [(item["id"], item["kind"]) for item in answer["items"]]


def test_the_organisations_insights_are_the_querys(admin: Person, api: Api) -> None:
    page = page_text(admin, "/insights")
    answer = api.get("/v1/insights?scope=org&limit=25")
    assert answer["items"], "the demo needs attention somewhere"
    assert _rows(page) == _expected(answer)
    counts = answer["counts"]
    assert f'severity-critical">{counts["critical"]} critical' in page
    for item in answer["items"]:
        assert str(escape(item["explanation"])) in page


def test_every_evidence_links_to_its_objects_page_and_history_entries(
    admin: Person, api: Api
) -> None:
    page = admin.get("/insights").text
    answer = api.get("/v1/insights?scope=org&limit=25")
    anchored = 0
    for item in answer["items"]:
        for fact in item["evidence"]:
            about = fact["object"]
            kind, object_id = about["kind"], about["id"]
            if kind in ("issue", "project", "goal"):
                assert f'href="/{kind}s/{object_id}"' in page
                for position in fact["positions"]:
                    assert f'href="/{kind}s/{object_id}#entry-{position}"' in page
                    anchored += 1
            elif kind == "team":
                assert f'href="/team?team={object_id}"' in page
            elif kind == "member":
                assert f'href="/my-work?member={object_id}"' in page
            elif kind in ("operation", "occurrence") and about["name"]:
                assert str(escape(about["name"])) in page
    assert anchored > 0, "some evidence names the events behind it"


def test_a_key_results_evidence_leads_to_its_goal(admin: Person, api: Api) -> None:
    answer = api.get("/v1/insights?scope=org&kind=goal_at_risk&limit=25")
    page = admin.get("/insights?kind=goal_at_risk").text
    assert _rows(page) == _expected(answer)
    for item in answer["items"]:
        goal = item["objects"][0]["id"]
        for fact in item["evidence"]:
            if fact["object"]["kind"] == "key_result":
                for position in fact["positions"]:
                    assert f'href="/goals/{goal}#entry-{position}"' in page


@pytest.mark.parametrize("kind", ["team", "project", "goal", "member"])
def test_each_kind_of_scope_shows_the_querys_insights_for_it(
    kind: str, admin: Person, api: Api
) -> None:
    found = api.get(f"/v1/{kind}s?limit=500")["items"]
    listed = [item for item in found if item.get("active", True)]
    assert listed, f"the demo has {kind}s"
    scopes = [f"{kind}:{item['id']}" for item in listed]
    answers = [api.get(f"/v1/insights?scope={s}&limit=25") for s in scopes]
    # The scope with the most to show, so the comparison means something.
    scope, answer = max(zip(scopes, answers, strict=True), key=lambda pair: len(pair[1]["items"]))
    assert answer["items"], f"some {kind} of the demo needs attention"
    page = admin.get(f"/insights?scope={scope}")
    assert page.status_code == 200
    assert _rows(page.text) == _expected(answer)
    assert f'<option value="{scope}" selected>' in page.text
    choices = admin.get(f"/insights/scopes?scope={scope}")
    assert choices.status_code == 200
    assert f'<option value="{scope}" selected>' in choices.text
    for item in listed:
        assert f'value="{kind}:{item["id"]}"' in choices.text


def test_kinds_and_severities_filter_as_the_query_does(admin: Person, api: Api) -> None:
    filters = "kind=triage&kind=stale_work&severity=warning&severity=critical"
    page = admin.get(f"/insights?{filters}")
    answer = api.get(f"/v1/insights?{filters}&limit=25")
    assert page.status_code == 200
    assert _rows(page.text) == _expected(answer)
    assert {kind for _, kind in _rows(page.text)} <= {"triage", "stale_work"}
    assert 'name="kind" value="triage" checked' in page.text
    assert 'name="severity" value="info">' in page.text


def test_a_bad_scope_or_filter_is_an_error_page_never_a_crash(admin: Person) -> None:
    for address, status in (
        ("/insights?scope=everything", 422),
        ("/insights?scope=team:not-an-id", 422),
        ("/insights?scope=team:00000000-0000-4000-8000-000000000000", 404),
        ("/insights?scope=member:00000000-0000-4000-8000-000000000000", 404),
        ("/insights?kind=gossip", 400),
        ("/insights?severity=dire", 400),
        ("/insights/scopes?scope=" + "x" * 60, 400),
    ):
        assert_error_page(admin, address, status)


def test_insights_of_a_past_moment_are_those_judged_then(admin: Person, api: Api) -> None:
    moment = days_ago(30)
    page = past_page(admin, "/insights", moment)
    then = api.get(f"/v1/insights?scope=org&limit=25&as_of={moment}")
    now = api.get("/v1/insights?scope=org&limit=25")
    assert _expected(then) != _expected(now)
    assert _rows(page) == _expected(then)
    for item in then["items"]:
        for subject in item["objects"]:
            if subject["kind"] in ("issue", "project", "goal"):
                link = f"/{subject['kind']}s/{subject['id']}?as_of={quote(moment)}"
                assert link in page


def _identities(answer: Answer) -> set[tuple[str, str]]:
    return {
        (item["kind"], " ".join(str(o["id"]) for o in item["objects"])) for item in answer["items"]
    }


def test_comparing_two_moments_lists_what_appeared_and_what_went_away(
    admin: Person, api: Api
) -> None:
    earlier = days_ago(21)
    page = admin.get(f"/insights?compare={earlier}")
    assert page.status_code == 200
    before = _identities(api.get(f"/v1/insights?limit=100&as_of={earlier}"))
    after = _identities(api.get("/v1/insights?limit=100"))
    assert before != after
    changes = page.text.split('id="changes-title"')[1].split('id="insights-title"')[0]
    appeared, went_away = changes.split('id="went-away-title"')
    assert set(SHOWN.findall(appeared)) == after - before
    assert set(SHOWN.findall(went_away)) == before - after
    assert f"Appeared ({len(after - before)})" in page.text
    assert f"Went away ({len(before - after)})" in page.text


def test_a_live_update_gets_the_main_part_alone(admin: Person) -> None:
    part = main_part(admin, "/insights")
    assert "<h1>Insights for the organisation</h1>" in part


def test_comparing_with_a_moment_before_the_scope_existed_says_so(admin: Person, api: Api) -> None:
    projects = api.get("/v1/projects?limit=500")["items"]
    newest = max(projects, key=lambda project: project["created_at"])
    created = datetime.fromisoformat(newest["created_at"].replace("Z", "+00:00"))
    before = (created - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    scope = f"project:{newest['id']}"
    page = admin.get(f"/insights?scope={scope}&compare={before}")
    assert page.status_code == 200
    assert f"There was no project {newest['key']}" in page.text
    now = api.get(f"/v1/insights?scope={scope}&limit=25")
    assert f"Appeared ({len(now['items'])})" in page.text
    assert "Went away (0)" in page.text


def test_a_page_shows_the_most_pressing_insights_and_links_to_the_next(
    admin: Person, api: Api
) -> None:
    first = api.get("/v1/insights?scope=org&limit=25")
    assert first["next_cursor"], "the demo has more than 25 insights"
    second = api.get(f"/v1/insights?scope=org&limit=25&cursor={first['next_cursor']}")
    page = admin.get("/insights?scope=org").text
    found = re.search(r'<a href="([^"]+)" rel="next">', page)
    assert found, "the page links to the next insights"
    following = admin.get(html.unescape(found.group(1))).text
    for insight in second["items"]:
        assert f'data-row-id="{insight["id"]}"' in following
        assert f'data-row-id="{insight["id"]}"' not in page
