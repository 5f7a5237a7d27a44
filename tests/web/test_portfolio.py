"""The portfolio page: the same answer as ``GET /v1/views/portfolio``, at any moment."""

from __future__ import annotations

import re

from tests.web.conftest import Api, Person, days_ago, main_part, past_page


def test_the_portfolio_shows_every_project_and_goal_the_query_answers(
    admin: Person, api: Api
) -> None:
    page = admin.get("/portfolio")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    answer = api.get("/v1/views/portfolio?limit=100")
    assert answer["items"], "the demo has projects"
    for project in answer["items"]:
        assert f"/projects/{project['id']}" in page.text
        assert project["key"] in page.text
    # The goal tree comes after the page, from where the page says.
    assert 'hx-get="/portfolio/goals"' in page.text
    goals = admin.get("/portfolio/goals")
    assert goals.status_code == 200
    for goal in answer["goal_tree"]:
        assert f"/goals/{goal['id']}" in goals.text
    assert "<html" not in goals.text
    active = answer["totals"]["projects"]["active"]
    assert re.search(rf'<div class="figure">{active}</div>active projects', page.text)
    assert 'class="banner"' not in page.text
    assert 'data-live="on"' in page.text


def test_the_portfolio_of_a_past_moment_says_so_and_equals_the_query_then(
    admin: Person, api: Api
) -> None:
    moment = days_ago(60)
    page = past_page(admin, "/portfolio", moment)
    assert 'data-live="off"' in page
    then = api.get(f"/v1/views/portfolio?limit=100&as_of={moment}")
    now = api.get("/v1/views/portfolio?limit=100")
    assert then["items"] != now["items"]
    for project in then["items"]:
        assert f"/projects/{project['id']}?as_of=" in page
    goals = admin.get(f"/portfolio/goals?as_of={moment}").text
    for goal in then["goal_tree"]:
        assert f"/goals/{goal['id']}?as_of=" in goals
    assert f'<div class="figure">{then["totals"]["projects"]["active"]}</div>' in page


def test_comparing_two_moments_lists_the_figures_that_moved(admin: Person) -> None:
    earlier = days_ago(21)
    page = admin.get(f"/portfolio?compare={earlier}")
    assert page.status_code == 200
    assert "What changed from" in page.text
    assert "progress %" in page.text or "open issues" in page.text
    assert 'class="plain history"' in page.text


def test_a_moment_in_the_future_or_malformed_is_a_clear_error_page(admin: Person) -> None:
    future = admin.get("/portfolio?as_of=2999-01-01T00:00")
    assert future.status_code == 422
    assert "future" in future.text
    assert future.headers["content-type"].startswith("text/html")
    malformed = admin.get("/portfolio?as_of=yesterday")
    assert malformed.status_code == 422
    assert "as_of" in malformed.text


def test_a_live_update_asks_for_the_main_part_alone(admin: Person) -> None:
    part = main_part(admin, "/portfolio")
    assert "<h1>Portfolio</h1>" in part


def test_the_slider_reaches_back_eight_weeks(admin: Person) -> None:
    page = admin.get("/portfolio")
    assert 'id="slider" data-slider min="0" max="56"' in page.text
