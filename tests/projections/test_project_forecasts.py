"""``GET /v1/forecasts/{project_id}``: when a project's open issues will be done, at its team's
pace.

The history is imported with its times: a team that finished issues in the weeks before the
frozen clock (Monday 2026-03-02 09:00 UTC), and a project with issues still open.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from fastapi.testclient import TestClient

from services.app import Runtime
from services.importing.lines import ImportLine, line
from services.projections.forecast import forecast
from tests.conftest import bearer

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = MONDAY.date()
# Issues finished in each of the twelve whole weeks before this one, oldest first.
PACE = [2, 0, 3, 1, 0, 2, 4, 0, 1, 2, 3, 1]


def _history(pace: list[int], open_issues: int) -> tuple[UUID, list[ImportLine]]:
    team, member, project = uuid4(), uuid4(), uuid4()
    start = MONDAY - timedelta(weeks=len(pace) + 1)
    body = {"name": "Ada", "email": f"{uuid4().hex[:8]}@example.com", "role": "member",
            "weekly_capacity": 20, "team_ids": [str(team)]}  # fmt: skip
    project_body = {
        "name": "Refunds",
        "key": "REF",
        "owner_id": str(member),
        "team_id": str(team),
        "start_date": "2025-12-01",
        "target_date": "2026-03-30",
    }
    lines = [
        line("POST /v1/teams", start, None, {"name": "Payments"}, id=team),
        line("POST /v1/members", start, None, body, id=member),
        line("POST /v1/projects", start, member, project_body, id=project),
    ]
    for week, finished in enumerate(pace):
        monday = MONDAY - timedelta(weeks=len(pace) - week)
        for number in range(finished):
            issue = uuid4()
            moment = monday + timedelta(hours=1 + number)
            created = {"title": "Done one", "kind": "task", "team_id": str(team)}
            lines.append(line("POST /v1/issues", moment, member, created, id=issue))
            for status in ("todo", "in_progress", "done"):
                moment += timedelta(minutes=5)
                transition = f"POST /v1/issues/{issue}/transition"
                lines.append(line(transition, moment, member, {"status": status}))
    for _ in range(open_issues):
        created = {"title": "Still open", "kind": "task", "team_id": str(team),
                   "project_id": str(project)}  # fmt: skip
        lines.append(line("POST /v1/issues", MONDAY - timedelta(hours=1), member, created))
    lines.sort(key=lambda made: made["occurred_at"])
    return project, lines


def _imported(runtime: Runtime, lines: list[ImportLine]) -> int:
    report = runtime.importer.run(f"history-{uuid4()}", lines)
    assert report.error is None, report.error
    return report.position


def _forecast_of(
    client: TestClient, headers: dict[str, str], project: UUID, position: int, **query: Any
) -> dict[str, Any]:
    answer = client.get(
        f"/v1/forecasts/{project}", params={"min_position": position, **query}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def test_the_forecast_draws_from_the_teams_last_twelve_weeks_and_gives_dates_and_odds(
    client: TestClient, runtime: Runtime
) -> None:
    project, lines = _history(PACE, open_issues=9)
    position = _imported(runtime, lines)
    headers = bearer(runtime.tokens.create("viewer"))

    document = _forecast_of(client, headers, project, position)

    assert document["status"] == "forecast"
    assert document["key"] == "REF"
    assert document["open_issues"] == 9
    assert [week["completed"] for week in document["samples"]] == PACE
    assert document["samples"][0] == {"week": "2025-W50", "starts": "2025-12-08", "completed": 2}
    assert document["samples"][-1]["starts"] == "2026-02-23"
    assert document["weeks_with_completions"] == 9
    expected = forecast(9, PACE, TODAY)
    assert document["percentiles"] == [
        {"share": finish.share, "weeks": finish.weeks, "date": finish.date.isoformat()}
        for finish in expected.finishes
    ]
    assert document["probability_by_target"] == round(expected.probability_by(date(2026, 3, 30)), 6)
    assert document["distribution"][0] == {
        "weeks": 1,
        "date": "2026-03-09",
        "done_by": round(expected.done_by[0], 6),
    }


def test_a_team_that_finished_something_in_fewer_than_six_weeks_has_no_forecast(
    client: TestClient, runtime: Runtime
) -> None:
    pace = [0, 0, 3, 0, 0, 2, 0, 0, 1, 0, 4, 0]
    project, lines = _history(pace, open_issues=4)
    position = _imported(runtime, lines)
    headers = bearer(runtime.tokens.create("viewer"))

    document = _forecast_of(client, headers, project, position)

    assert document["status"] == "insufficient_data"
    assert document["detail"] == "4 of 12 weeks finished anything; a forecast needs 6"
    assert document["percentiles"] == []
    assert document["probability_by_target"] is None
    assert [week["completed"] for week in document["samples"]] == pace


def test_as_of_a_past_moment_the_forecast_is_drawn_from_the_weeks_before_it(
    client: TestClient, runtime: Runtime
) -> None:
    project, lines = _history(PACE, open_issues=9)
    position = _imported(runtime, lines)
    headers = bearer(runtime.tokens.create("viewer"))
    four_weeks_ago = (MONDAY - timedelta(weeks=4)).isoformat()

    document = _forecast_of(client, headers, project, position, as_of=four_weeks_ago)

    # Then the project had no open issues yet, and the team's last twelve weeks were earlier
    # ones: the first eight of this pace, after four weeks before the history began.
    assert document["open_issues"] == 0
    assert document["status"] == "done"
    assert [week["completed"] for week in document["samples"]] == [0, 0, 0, 0, *PACE[:8]]


def test_a_shorter_sample_window_and_an_unknown_project(
    client: TestClient, runtime: Runtime
) -> None:
    project, lines = _history(PACE, open_issues=3)
    position = _imported(runtime, lines)
    headers = bearer(runtime.tokens.create("viewer"))

    document = _forecast_of(client, headers, project, position, sample_weeks=8)
    assert [week["completed"] for week in document["samples"]] == PACE[4:]
    assert document["status"] == "forecast"

    missing = client.get(f"/v1/forecasts/{uuid4()}", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong = client.get(f"/v1/forecasts/{project}?sample_weeks=0", headers=headers)
    assert wrong.status_code == 422


def test_the_portfolio_shows_the_same_forecast_beside_each_project(
    client: TestClient, runtime: Runtime
) -> None:
    project, lines = _history(PACE, open_issues=9)
    position = _imported(runtime, lines)
    headers = bearer(runtime.tokens.create("viewer"))

    document = _forecast_of(client, headers, project, position)
    portfolio = client.get(
        "/v1/views/portfolio", params={"min_position": position}, headers=headers
    ).json()

    [entry] = [item for item in portfolio["items"] if item["id"] == str(project)]
    dates = {f"p{round(p['share'] * 100)}_date": p["date"] for p in document["percentiles"]}
    assert entry["forecast"]["distribution"] == {
        "status": "forecast",
        "probability_by_target": document["probability_by_target"],
        **dates,
    }
