"""The portfolio's trends part: each key result of the goal tree over the last eight weeks, from
the goals' history, as a sparkline beside its numbers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from services.web.render import number
from tests.web.conftest import Api, Person


def _row(text: str, kr_id: str) -> str:
    start = text.index(f'data-row-id="{kr_id}"')
    return text[start : text.index("</li>", start)]


def test_every_key_result_has_its_last_eight_weeks_of_check_ins(api: Api, admin: Person) -> None:
    since = (datetime.now(UTC) - timedelta(weeks=8)).isoformat()
    goals = api.get("/v1/goals?limit=500")["items"]
    history = api.get(f"/v1/history?kind=goal&limit=500&since={since.replace('+', '%2B')}")
    part = admin.get("/portfolio/trends")
    assert part.status_code == 200
    assert "<html" not in part.text
    assert "Key results over the last 8 weeks" in part.text
    key_results = [kr for goal in goals for kr in goal["key_results"]]
    assert key_results
    assert part.text.count('<svg class="sparkline"') == len(key_results)
    for kr in key_results:
        row = _row(part.text, kr["id"])
        field = f"key_results.{kr['id']}.current"
        values = [
            change["after"]
            for entry in history["items"]
            for change in entry["changes"]
            if change["field"] == field
        ]
        assert len(re.findall(r"<circle ", row)) == len(values)
        words = re.search(r"data-trend-text>(.*?)</span>", row, re.S)
        assert words is not None
        assert f"→ {number(kr['current'])} (" in words.group(1)


def test_the_trends_of_a_past_moment_end_then(admin: Person) -> None:
    moment = datetime.now(UTC) - timedelta(days=40)
    part = admin.get(f"/portfolio/trends?as_of={moment.strftime('%Y-%m-%dT%H:%M')}")
    assert part.status_code == 200
    assert f"{moment.day} {moment.strftime('%b %Y')})" in part.text
    future = admin.get("/portfolio/trends?as_of=2999-01-01T00:00")
    assert future.status_code == 422
