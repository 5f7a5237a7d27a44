"""The goal page: ``GET /v1/goals/{id}`` with each key result's check-ins over time (from the
goal's history) as a sparkline, the goals aligned under it and its linked work."""

from __future__ import annotations

import html
import re
from typing import Any
from uuid import uuid4

from services.web.render import number
from tests.web.conftest import Api, Person, page_text


def _check_ins(history: list[dict[str, Any]], kr_id: str) -> list[float]:
    field = f"key_results.{kr_id}.current"
    return [
        change["after"]
        for entry in history
        for change in entry["changes"]
        if change["field"] == field
    ]


def test_the_page_shows_each_key_result_and_its_check_ins_over_time(
    api: Api, admin: Person
) -> None:
    goals = api.get("/v1/goals?limit=500")["items"]
    goal = max(goals, key=lambda g: (len(g["key_results"]), len(g["children_ids"])))
    assert goal["key_results"], "the demo's goals have key results"
    history = api.get(f"/v1/history?object_id={goal['id']}&limit=500")["items"]
    text = page_text(admin, f"/goals/{goal['id']}")
    assert f"<h1>{html.escape(goal['title'])}</h1>" in text
    assert f'hx-get="/goals/{goal["id"]}/history"' in text
    part = admin.get(f"/goals/{goal['id']}/history")
    assert part.status_code == 200
    for kr in goal["key_results"]:
        row = text[text.index(f'data-row-id="{kr["id"]}"') :]
        row = row[: row.index("</tr>")]
        assert html.escape(kr["title"]) in row
        assert f'data-field="current">{number(kr["current"])} of {number(kr["target"])}' in row
        line = part.text[part.text.index(f'data-trend-of="{kr["id"]}"') :]
        line = line[: line.index("</li>")]
        assert '<svg class="sparkline"' in line
        values = _check_ins(history, kr["id"])
        assert len(re.findall(r"<circle ", line)) == len(values)
        words = re.search(r"<span class=\"muted\" data-trend-text>(.*?)</span>", line, re.S)
        assert words is not None
        assert words.group(1).startswith(f"{number(values[0])} → {number(kr['current'])}")
    positions = [int(p) for p in re.findall(r'<li id="entry-(\d+)"', part.text)]
    assert positions == sorted((entry["position"] for entry in history), reverse=True)


def test_the_related_part_lists_the_goals_aligned_under_it(api: Api, admin: Person) -> None:
    goals = api.get("/v1/goals?limit=500")["items"]
    parent = max(goals, key=lambda g: len(g["children_ids"]))
    assert parent["children_ids"]
    part = admin.get(f"/goals/{parent['id']}/related")
    assert part.status_code == 200
    owner = api.get(f"/v1/members/{parent['owner_id']}")
    assert f'member={owner["id"]}">{html.escape(owner["name"])}</a>' in part.text
    if parent["team_id"]:
        team = api.get(f"/v1/teams/{parent['team_id']}")
        assert f'team={team["id"]}">{html.escape(team["name"])}</a>' in part.text
    for child in parent["children_ids"]:
        assert f'href="/goals/{child}" data-open' in part.text
    projects = api.get("/v1/projects?limit=500")["items"]
    for project in projects:
        linked = f'href="/projects/{project["id"]}" data-open' in part.text
        assert linked == (parent["id"] in project["goal_ids"])


def test_the_past_has_the_goal_as_it_was_and_unknown_ids_are_error_pages(
    api: Api, admin: Person
) -> None:
    goal = api.get("/v1/goals?limit=1")["items"][0]
    moment = goal["created_at"]
    then = api.get(f"/v1/goals/{goal['id']}?as_of={moment}")
    page = admin.get(f"/goals/{goal['id']}", params={"as_of": moment})
    assert page.status_code == 200
    assert f"version {then['version']}<" in page.text
    compared = admin.get(f"/goals/{goal['id']}", params={"compare": moment})
    assert compared.status_code == 200
    assert "What changed from" in compared.text
    assert admin.get(f"/goals/{uuid4()}").status_code == 404
    assert admin.get("/goals/1").status_code in (400, 404, 422)
