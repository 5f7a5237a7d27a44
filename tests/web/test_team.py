"""The team page: the same answer as ``GET /v1/views/workload/{team_id}``, at any moment."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

from fastapi import FastAPI
from markupsafe import escape

from services.app import Runtime
from services.web.compare import MEMBER_FIGURES, changes_between
from tests.web.conftest import Api, Person, days_ago, main_part, past_page, sign_in


def _teams(api: Api, as_of: str | None = None) -> list[dict[str, Any]]:
    path = "/v1/teams?limit=500" + (f"&as_of={as_of}" if as_of else "")
    teams: list[dict[str, Any]] = api.get(path)["items"]
    return sorted(teams, key=lambda team: (team["name"].casefold(), team["id"]))


def _busiest(api: Api) -> dict[str, Any]:
    """The team with the most open assigned work: the one with the most to show."""
    every = api.get("/v1/views/workload?limit=500")["items"]
    return max(every, key=lambda team: (team["open_assigned"]["count"], team["id"]))


def test_the_team_page_shows_what_the_workload_query_answers(admin: Person, api: Api) -> None:
    team = _busiest(api)
    page = admin.get(f"/team?team={team['id']}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    answer = api.get(f"/v1/views/workload/{team['id']}")
    assert answer["members"], "the demo's busiest team has members"
    assert f"<h1>Team: {escape(answer['name'])}</h1>" in page.text
    for figure, value in (
        ("overdue", answer["overdue"]["count"]),
        ("blocked", answer["blocked"]),
        ("wip", answer["work_in_progress"]),
        ("unassigned", answer["unassigned_backlog"]["count"]),
        ("untriaged", answer["untriaged"]),
        ("recurring", answer["upcoming_occurrences"]["count"]),
    ):
        assert f'data-figure="{figure}">{value}</div>' in page.text, figure
    assert f'href="/triage?team={answer["id"]}"' in page.text
    for member in answer["members"]:
        row = re.search(
            rf'<tr data-row data-row-id="{member["id"]}" tabindex="-1">(.*?)</tr>', page.text, re.S
        )
        assert row, member["name"]
        assert f'href="/my-work?member={member["id"]}" data-open' in row.group(1)
        ratio = member["load_ratio"]
        if ratio is not None:
            assert f"{round(ratio * 100)}% of" in row.group(1)
            assert ("overloaded by" in row.group(1)) == (ratio > 1)
        assert f'<td class="num">{member["blocked"]}</td>' in row.group(1)
    weeks = "; ".join(f"{week['week']} {week['completed']}" for week in answer["throughput"])
    assert f'aria-label="Completed per week: {weeks}"' in page.text
    assert f'hx-get="/team/aging?team={answer["id"]}"' in page.text
    assert f'hx-get="/team/choices?team={answer["id"]}"' in page.text
    assert f'<option value="{answer["id"]}" selected>{escape(answer["name"])}</option>' in page.text
    assert 'id="slider" data-slider min="0" max="56"' in page.text
    assert 'class="banner"' not in page.text


def test_without_a_team_the_page_shows_the_team_the_member_leads(
    admin: Person, api: Api, web_app: FastAPI, demo_runtime: Runtime
) -> None:
    teams = _teams(api)
    first = admin.get("/team")
    assert first.status_code == 200
    assert f"<h1>Team: {escape(teams[0]['name'])}</h1>" in first.text
    led = [team for team in teams if team["lead_ids"]]
    assert led, "the demo has team leads"
    lead = led[-1]["lead_ids"][0]
    expected = next(team for team in teams if lead in team["lead_ids"])
    manager = sign_in(web_app, demo_runtime, "manager", lead)
    page = manager.get("/team")
    assert page.status_code == 200
    assert f"<h1>Team: {escape(expected['name'])}</h1>" in page.text
    picker = re.search(r'<select id="team-choice" name="team">(.*?)</select>', page.text, re.S)
    assert picker
    assert re.findall(r'<option value="([^"]+)"', picker.group(1)) == [t["id"] for t in teams]
    assert f'<option value="{expected["id"]}" selected>' in picker.group(1)


def test_a_viewer_reads_the_team_page_without_controls_that_change_work(
    viewer: Person, api: Api
) -> None:
    team = _busiest(api)
    page = viewer.get(f"/team?team={team['id']}")
    assert page.status_code == 200
    assert "hx-post" not in page.text
    assert page.text.count('method="post"') == 1  # signing out
    assert 'method="get" action="/team"' in page.text


def test_the_team_of_a_past_moment_shows_its_figures_then(admin: Person, api: Api) -> None:
    moment = days_ago(45)
    team = _busiest(api)
    page = past_page(admin, f"/team?team={team['id']}", moment)
    assert 'data-live="off"' in page
    then = api.get(f"/v1/views/workload/{team['id']}?as_of={moment}")
    now = api.get(f"/v1/views/workload/{team['id']}")
    assert (then["today"], then["throughput"]) != (now["today"], now["throughput"])
    weeks = "; ".join(f"{week['week']} {week['completed']}" for week in then["throughput"])
    assert f'aria-label="Completed per week: {weeks}"' in page
    assert f'data-figure="overdue">{then["overdue"]["count"]}</div>' in page
    links = re.findall(r'href="(/my-work\?[^"]*)" data-open', page)
    assert len(links) == len(then["members"])
    for link, member in zip(links, then["members"], strict=True):
        assert "as_of=" in link
        assert f"member={member['id']}" in link


def test_comparing_two_moments_lists_the_members_figures_that_moved_and_the_history(
    admin: Person, api: Api
) -> None:
    team = _busiest(api)
    shown, compared = days_ago(2), days_ago(30)
    page = admin.get(f"/team?team={team['id']}&as_of={shown}&compare={compared}")
    assert page.status_code == 200
    assert "What changed from" in page.text
    later = api.get(f"/v1/views/workload/{team['id']}?as_of={shown}")
    earlier = api.get(f"/v1/views/workload/{team['id']}?as_of={compared}")
    moved = changes_between(
        earlier["members"], later["members"], MEMBER_FIGURES, name=lambda item: item["name"]
    )
    assert moved, "a month moves some member's figures"
    section = page.text.split('id="changes-title"')[1].split("</section>")[0]
    for change in moved:
        assert f"<tr><td>{escape(change.name)}</td><td>{change.figure}</td>" in section
    entries = api.get(
        f"/v1/history?team_id={team['id']}&since={compared}&until={shown}"
        "&newest_first=true&limit=50",
    )["items"]
    assert entries, "the team's objects changed in a month"
    positions = [int(p) for p in re.findall(r'<li id="entry-(\d+)"', section)]
    assert positions == [entry["position"] for entry in entries]


def test_aging_work_loads_after_the_page_as_the_insights_judge_it(admin: Person, api: Api) -> None:
    judged = [
        (
            team,
            api.get(
                f"/v1/insights?scope=team:{team['id']}&kind=aging_work&limit=50",
            ),
        )
        for team in _teams(api)
    ]
    team, answer = max(judged, key=lambda pair: len(pair[1]["items"]))
    assert answer["items"], "some team of the demo has aging work"
    part = admin.get(f"/team/aging?team={team['id']}", headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert "<html" not in part.text
    rows = re.findall(r'<li data-row data-row-id="([^"]+)"', part.text)
    assert rows == [insight["id"] for insight in answer["items"]]
    for insight in answer["items"]:
        assert escape(insight["explanation"]) in part.text


def test_bad_team_parameters_are_pages_saying_so(admin: Person) -> None:
    malformed = admin.get("/team?team=payments")
    assert malformed.status_code == 400
    assert malformed.headers["content-type"].startswith("text/html")
    assert "<h1>" in malformed.text
    unknown = admin.get(f"/team?team={uuid4()}")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/html")
    aging = admin.get("/team/aging?team=1")
    assert aging.status_code == 400


def test_a_live_update_asks_for_the_team_pages_main_part_alone(admin: Person, api: Api) -> None:
    team = _busiest(api)
    part = main_part(admin, f"/team?team={team['id']}")
    assert 'id="slider"' not in part
    assert f"<h1>Team: {escape(team['name'])}</h1>" in part


def test_the_team_picker_loads_every_team_by_name_after_the_page(admin: Person, api: Api) -> None:
    teams = _teams(api)
    chosen = teams[-1]["id"]
    part = admin.get(f"/team/choices?team={chosen}", headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert "<html" not in part.text
    assert re.findall(r'<option value="([^"]+)"', part.text) == [team["id"] for team in teams]
    assert f'<option value="{chosen}" selected>' in part.text
