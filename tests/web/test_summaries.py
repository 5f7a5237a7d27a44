"""The summaries page: the same sections as ``GET /v1/summaries``, for any scope and period,
printable."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import uuid4

from markupsafe import escape

from tests.web.conftest import Api, Person, assert_error_page, days_ago, main_part, past_page


def _section(text: str, name: str) -> str:
    return text.split(f'id="{name}-title"')[1].split("</section>", maxsplit=1)[0]


def _links(text: str, kind: str) -> list[str]:
    return re.findall(rf'href="/{kind}/([0-9a-f-]{{36}})', text)


def _assert_shows(text: str, summary: dict[str, Any]) -> None:
    """The page's sections say what the summary's JSON says."""
    assert f'<h1 id="summary-title">Status of {escape(summary["scope_name"])}</h1>' in text
    finished, opened = summary["finished"], summary["opened"]
    assert f'data-figure="finished">{finished["count"]} issue' in text
    assert f"{finished['planned']} planned, {finished['unplanned']} unplanned" in text
    assert f'data-figure="opened">{opened["count"]} issue' in text
    assert f'data-figure="blocked">{summary["blocked"]["count"]} issue' in text
    assert f'data-figure="slipped">{summary["slipped"]["passed_count"]} open item' in text
    for section, items in (
        ("finished", finished["items"]),
        ("opened", opened["items"]),
        ("blocked", summary["blocked"]["items"]),
    ):
        issues = [item["id"] for item in items if item["kind"] != "occurrence"]
        assert _links(_section(text, section), "issues") == issues, section
    assert _links(_section(text, "goals"), "goals") == [goal["id"] for goal in summary["goals"]]
    forecasts = [change["project"]["id"] for change in summary["forecasts"]]
    assert _links(_section(text, "forecasts"), "projects") == forecasts
    for insight in summary["insights"]:
        assert escape(insight["explanation"]) in _section(text, "insights")
    assert escape(summary["text"]) in text


def test_the_organisations_summary_of_a_period_is_the_querys(admin: Person, api: Api) -> None:
    since, until = days_ago(28), days_ago(7)
    page = admin.get(f"/summaries?since={since}&until={until}")
    assert page.status_code == 200
    summary = api.get(f"/v1/summaries?format=json&since={since}&until={until}")
    assert summary["finished"]["count"], "three weeks of work"
    assert summary["opened"]["count"], "three weeks of work"
    _assert_shows(page.text, summary)
    assert f'id="summary-since" name="since" value="{since}"' in page.text
    assert f'id="summary-until" name="until" value="{until}"' in page.text
    assert '<option value="org" selected>' in page.text


def test_the_default_period_is_the_last_seven_days(admin: Person) -> None:
    page = admin.get("/summaries")
    assert page.status_code == 200
    since = re.search(r'id="summary-since" name="since" value="([^"]+)"', page.text)
    until = re.search(r'id="summary-until" name="until" value="([^"]+)"', page.text)
    assert since
    assert until
    length = datetime.fromisoformat(until.group(1)) - datetime.fromisoformat(since.group(1))
    assert length == timedelta(days=7)


def test_a_teams_summary_and_the_scope_picker(viewer: Person, api: Api) -> None:
    teams = api.get("/v1/teams?limit=500")["items"]
    projects = api.get("/v1/projects?limit=500")["items"]
    goals = api.get("/v1/goals?limit=500")["items"]
    scope = f"team:{teams[0]['id']}"
    since, until = days_ago(30), days_ago(2)
    page = viewer.get(f"/summaries?scope={quote(scope)}&since={since}&until={until}")
    assert page.status_code == 200
    summary = api.get(
        f"/v1/summaries?format=json&scope={scope}&since={since}&until={until}",
    )
    _assert_shows(page.text, summary)
    assert f'<option value="{scope}" selected>{escape(summary["scope_name"])}</option>' in page.text
    scopes = f"/summaries/scopes?scope={quote(scope)}"
    assert f'hx-get="/summaries/scopes?scope=team%3A{teams[0]["id"]}&amp;shown=' in page.text
    part = viewer.get(scopes, headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert "<html" not in part.text
    offered = set(re.findall(r'<option value="([^"]+)"', part.text))
    expected = {f"team:{t['id']}" for t in teams} | {f"project:{p['id']}" for p in projects}
    assert offered == {"org"} | expected | {f"goal:{g['id']}" for g in goals}
    assert f'<option value="{scope}" selected>' in part.text
    assert "hx-post" not in page.text
    assert page.text.count('method="post"') == 1  # signing out


def test_a_summary_as_of_a_past_moment_ends_then(admin: Person, api: Api) -> None:
    moment = days_ago(40)
    page = past_page(admin, "/summaries", moment)
    summary = api.get(f"/v1/summaries?format=json&as_of={moment}")
    _assert_shows(page, summary)
    assert f'id="summary-until" name="until" value="{moment}"' in page


def test_the_summary_prints_alone(admin: Person) -> None:
    page = admin.get("/summaries")
    assert '<button type="button" class="secondary" data-print>Print</button>' in page.text
    script = admin.get("/static/app.js").text
    assert 'closest("[data-print]")' in script
    assert "window.print()" in script
    style = admin.get("/static/app.css").text
    assert ".no-print, [data-print] { display: none !important; }" in style


def test_bad_summary_parameters_are_pages_saying_so(admin: Person) -> None:
    for query, status in (
        ("scope=team:payments", 422),
        ("scope=everything", 422),
        (f"scope=team:{uuid4()}", 404),
        ("since=last-week", 422),
        (f"since={days_ago(1)}&until={days_ago(3)}", 422),
        ("until=2999-01-01T00:00", 422),
    ):
        assert_error_page(admin, f"/summaries?{query}", status)


def test_a_live_update_asks_for_the_summarys_main_part_alone(admin: Person) -> None:
    part = main_part(admin, "/summaries")
    assert '<h1 id="summary-title">Status of' in part


def test_a_scope_no_list_offers_stays_picked(admin: Person, api: Api) -> None:
    member = api.get("/v1/members?active=true&limit=1")["items"][0]
    scope = f"member:{member['id']}"
    page = admin.get(f"/summaries?scope={quote(scope)}")
    assert page.status_code == 200
    summary = api.get(f"/v1/summaries?format=json&scope={scope}")
    assert f'<h1 id="summary-title">Status of {escape(summary["scope_name"])}</h1>' in page.text
    part = admin.get(f"/summaries/scopes?scope={quote(scope)}&shown={quote(member['name'])}")
    assert f'<option value="{scope}" selected>{escape(member["name"])}</option>' in part.text
