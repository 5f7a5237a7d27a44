"""The project page: ``GET /v1/projects/{id}`` with its milestones and posted health over time,
its forecast as ``GET /v1/forecasts/{id}`` answers it, and its issues, at any moment."""

from __future__ import annotations

import html
import re
from typing import Any
from uuid import uuid4

import pytest

from services.web.render import day
from tests.web.conftest import Api, Person, days_ago, page_text

ROW_ID = re.compile(r'<tr data-row data-row-id="([0-9a-f-]{36})"')


@pytest.fixture(scope="module")
def project(api: Api) -> dict[str, Any]:
    """The demo project with the most health posted and milestones."""
    projects = api.get("/v1/projects?limit=500")["items"]
    return max(projects, key=lambda p: (p["health"] is not None, len(p["milestones"])))


def test_the_page_shows_the_project_its_milestones_and_health_as_the_api_answers(
    api: Api, admin: Person, project: dict[str, Any]
) -> None:
    text = page_text(admin, f"/projects/{project['id']}")
    assert f"{project['key']}</span> {html.escape(project['name'])}</h1>" in text
    assert f'data-field="target_date">{day(project["target_date"])}<' in text
    for milestone in project["milestones"]:
        assert f'data-row-id="{milestone["id"]}"' in text
        assert html.escape(milestone["name"]) in text
    assert f'hx-get="/projects/{project["id"]}/history"' in text
    part = admin.get(f"/projects/{project['id']}/history")
    assert part.status_code == 200
    history = api.get(f"/v1/history?object_id={project['id']}&limit=500")["items"]
    posted = [e["position"] for e in history if e["event_type"] == "ProjectHealthPosted"]
    shown = [int(p) for p in re.findall(r'<li id="health-(\d+)"', part.text)]
    entries = [int(p) for p in re.findall(r'<li id="entry-(\d+)"', part.text)]
    assert entries == sorted((entry["position"] for entry in history), reverse=True)
    assert shown == sorted(posted, reverse=True)
    assert shown, "the demo posts health on its projects"
    assert f'hx-get="/projects/{project["id"]}/forecast"' in text
    assert f'hx-get="/projects/{project["id"]}/work"' in text


def test_the_forecast_part_shows_the_forecasts_percentiles(api: Api, admin: Person) -> None:
    projects = api.get("/v1/projects?status=active&limit=500")["items"]
    forecasts = [api.get(f"/v1/forecasts/{p['id']}") for p in projects]
    forecast = max(forecasts, key=lambda f: (f["status"] == "forecast", f["open_issues"]))
    project = forecast["project"]
    assert forecast["percentiles"]
    part = admin.get(f"/projects/{project['id']}/forecast")
    assert part.status_code == 200
    assert "<html" not in part.text
    assert f'data-status="{forecast["status"]}"' in part.text
    for percentile in forecast["percentiles"]:
        share = round(percentile["share"] * 100)
        assert f'data-field="p{share}">{day(percentile["date"])} ' in part.text
    if forecast["probability_by_target"] is not None:
        chance = f"{round(forecast['probability_by_target'] * 100)}%"
        assert f'data-field="probability_by_target">{chance}<' in part.text


def test_the_work_part_lists_the_projects_issues_and_goals(
    api: Api, admin: Person, project: dict[str, Any]
) -> None:
    issues = api.get(f"/v1/issues?project_id={project['id']}&limit=500")["items"]
    part = admin.get(f"/projects/{project['id']}/work")
    assert part.status_code == 200
    owner = api.get(f"/v1/members/{project['owner_id']}")
    team = api.get(f"/v1/teams/{project['team_id']}")
    assert f'member={owner["id"]}">{html.escape(owner["name"])}</a>' in part.text
    assert f'team={team["id"]}">{html.escape(team["name"])}</a>' in part.text
    assert ROW_ID.findall(part.text) == [issue["id"] for issue in issues]
    for goal_id in project["goal_ids"]:
        assert f'href="/goals/{goal_id}" data-open' in part.text


def test_the_past_and_a_comparison(admin: Person, project: dict[str, Any], api: Api) -> None:
    moment = days_ago(30)
    then = api.client.get(f"/v1/projects/{project['id']}?as_of={moment}")
    page = admin.get(f"/projects/{project['id']}?as_of={moment}")
    assert page.status_code == then.status_code
    if then.status_code == 200:
        assert 'class="banner"' in page.text
        assert f"version {then.json()['version']}<" in page.text
        assert f"/projects/{project['id']}/work?as_of=" in page.text
    compared = admin.get(f"/projects/{project['id']}?compare={moment}")
    assert compared.status_code == 200
    assert "What changed from" in compared.text


def test_an_unknown_or_malformed_id_is_an_error_page(admin: Person) -> None:
    assert admin.get(f"/projects/{uuid4()}").status_code == 404
    assert admin.get(f"/projects/{uuid4()}/forecast").status_code == 404
    malformed = admin.get("/projects/PAY")
    assert 400 <= malformed.status_code < 500
    assert malformed.headers["content-type"].startswith("text/html")
