"""Where nothing may be flagged: a goal on pace, members and a team with room, a project whose
team finished something in fewer than six weeks (no forecast, so no insight from one), an issue
whose due date moved only twice, recently active and recently started work, an operation done
on time, and no issue waiting in triage (so no idle capacity either)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from services.app import Runtime
from tests.projections.insights.history import History, ago, imported, insights, on


def test_a_healthy_organisation_has_no_insights(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(120), "Calm")
    ann = h.member(ago(120), "Ann", 10, [team])
    ned = h.member(ago(120), "Ned", 10, [team])
    # Nine issues (3 points each) finished in four of the last twelve weeks: too few weeks to
    # forecast from, too few issues for cycle-time thresholds; 2.25 points a week.
    h.pace(team, [0, 0, 3, 0, 0, 2, 0, 0, 2, 0, 2, 0], estimate=3)
    goal = h.goal(ago(70), "Stay calm", ann, team, date(2026, 1, 1), date(2026, 4, 30))
    kr = h.key_result(ago(70), goal, "Calm days", 0, 10)
    h.activate(ago(69), goal)
    h.check_in(ago(3), goal, kr, 5)
    # Six open issues due by next Monday would slip, if there were a forecast.
    project = h.project(ago(60), "Calm app", "CLM", ann, team, date(2026, 3, 9), [goal])
    for number in range(6):
        h.issue(ago(50), f"Part {number}", team, project_id=project)
    small = h.issue(ago(5), "Small task", team, assignee_id=ann, estimate=3,
                    due_date=date(2026, 3, 6))  # fmt: skip
    h.move(ago(4), small, "todo")
    started = h.issue(ago(10), "Started a week ago", team, assignee_id=ann, estimate=1)
    h.move(ago(7), started, "todo", "in_progress")
    twice = h.issue(ago(40), "Moved twice", team, due_date=date(2026, 4, 1))
    h.due(ago(30), twice, date(2026, 4, 8))
    h.due(ago(20), twice, date(2026, 4, 15))
    active = h.issue(ago(40), "Recently active", team, assignee_id=ned)
    h.comment(ago(3), active, "Still on it")
    standup = h.operation(ago(60), "Standup notes", team, ann, date(2026, 1, 5))
    h.tick(ago(59), date(2026, 3, 9))
    for week in range(8):
        due = date(2026, 1, 5) + timedelta(weeks=week)
        h.complete(on(due, 12), standup, due)
    position = imported(runtime, h.lines)

    document = insights(client, admin, position)

    assert document["items"] == []
    assert document["counts"] == {"critical": 0, "warning": 0, "info": 0}
    assert document["next_cursor"] is None
