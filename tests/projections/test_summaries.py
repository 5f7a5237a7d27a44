"""``GET /v1/summaries``: what happened in a scope over a period, as sections and as text.

A small organisation's week, imported with its times before the frozen clock (Monday 2026-03-02
09:00 UTC): work finished and opened (planned and unplanned), a due date passed and one moved, a
blocked issue, a key result checked in, and a second team whose work must stay out of the first
team's summary.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from fastapi.testclient import TestClient

from services.app import Runtime
from services.importing.lines import ImportLine, line
from tests.conftest import bearer

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEEK_AGO = NOW - timedelta(days=7)
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class _Org:
    def __init__(self) -> None:
        self.team, self.other_team, self.member = uuid4(), uuid4(), uuid4()
        self.goal, self.kr = uuid4(), uuid4()
        self.lines: list[ImportLine] = []

    def add(self, command: str, at: datetime, body: dict[str, Any], **kwargs: Any) -> None:
        actor = None if command in ("POST /v1/teams", "POST /v1/members") else self.member
        self.lines.append(line(command, at, actor, body, **kwargs))

    def issue(
        self, at: datetime, title: str, kind: str, team: UUID | None = None, **body: Any
    ) -> UUID:
        issue = uuid4()
        created = {"title": title, "kind": kind, "team_id": str(team or self.team), **body}
        self.add("POST /v1/issues", at, created, id=issue)
        return issue

    def move(self, issue: UUID, at: datetime, *statuses: str) -> None:
        for number, status in enumerate(statuses):
            moment = at + timedelta(minutes=number)
            self.add(f"POST /v1/issues/{issue}/transition", moment, {"status": status})


def _week() -> _Org:
    org = _Org()
    long_ago = NOW - timedelta(days=60)
    org.add("POST /v1/teams", long_ago, {"name": "Payments"}, id=org.team)
    org.add("POST /v1/teams", long_ago, {"name": "Search"}, id=org.other_team)
    member = {"name": "Ada Lovelace", "email": "ada@example.com", "role": "admin",
              "weekly_capacity": 20, "team_ids": [str(org.team)]}  # fmt: skip
    org.add("POST /v1/members", long_ago, member, id=org.member)
    goal = {"title": "Faster refunds", "owner_id": str(org.member), "team_id": str(org.team),
            "period_start": "2026-01-01", "period_end": "2026-03-31"}  # fmt: skip
    org.add("POST /v1/goals", long_ago, goal, id=org.goal)
    kr = {"title": "Refund time in hours", "unit": "number", "start": 48, "target": 8}
    org.add(f"POST /v1/goals/{org.goal}/key-results", long_ago, kr, id=org.kr)
    org.add(f"POST /v1/goals/{org.goal}/activate", long_ago, {})
    check_in = f"POST /v1/goals/{org.goal}/key-results/{org.kr}/check-ins"
    org.add(check_in, long_ago + timedelta(days=1), {"value": 40})
    # Before the week: an issue finished (stays out), one due inside the week, one to block.
    early = org.issue(long_ago, "Old refund export", "task")
    org.move(early, long_ago + timedelta(hours=1), "todo", "in_progress", "done")
    org.issue(long_ago, "Reconcile ledgers", "task", due_date="2026-02-26")
    blocked = org.issue(long_ago, "Refund webhooks", "task", due_date="2026-04-30")
    moved = org.issue(long_ago, "Refund emails", "task", due_date="2026-03-20")
    # The week.
    day = WEEK_AGO + timedelta(days=1)
    finished = org.issue(day, "Refund button", "task", estimate=3)
    org.move(finished, day + timedelta(hours=1), "todo", "in_progress", "done")
    bug = org.issue(day, "Refund rounds wrong", "bug", priority="high")
    org.move(bug, day + timedelta(hours=2), "todo", "in_progress", "done")
    org.issue(day + timedelta(days=1), "Refund page is slow", "bug", priority="urgent")
    org.issue(day + timedelta(days=1), "Refund audit log", "task")
    org.add(f"POST /v1/issues/{blocked}/block", day + timedelta(days=2), {"reason": "bank API"})
    org.add(f"PATCH /v1/issues/{moved}", day + timedelta(days=2), {"due_date": "2026-03-27"})
    org.add(check_in, day + timedelta(days=3), {"value": 28})
    other = org.issue(day, "Search facets", "task", team=org.other_team)
    org.move(other, day + timedelta(hours=3), "todo", "in_progress", "done")
    org.lines.sort(key=lambda made: made["occurred_at"])
    return org


def _imported(runtime: Runtime, org: _Org) -> int:
    report = runtime.importer.run(f"week-{uuid4()}", org.lines)
    assert report.error is None, report.error
    return report.position


def _summary(client: TestClient, runtime: Runtime, position: int, **query: Any) -> dict[str, Any]:
    headers = bearer(runtime.tokens.create("viewer"))
    answer = client.get(
        "/v1/summaries", params={"min_position": position, **query}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def _names(section: list[dict[str, Any]]) -> list[str]:
    return [entry["name"] for entry in section]


def test_a_teams_week_in_sections(client: TestClient, runtime: Runtime) -> None:
    org = _week()
    position = _imported(runtime, org)

    summary = _summary(client, runtime, position, scope=f"team:{org.team}")

    assert summary["scope_name"] == "Payments"
    assert summary["since"] == "2026-02-23T09:00:00Z"
    assert summary["until"] == "2026-03-02T09:00:00Z"
    finished = summary["finished"]
    assert (finished["count"], finished["planned"], finished["unplanned"]) == (2, 1, 1)
    assert finished["points"] == 3
    assert sorted(_names(finished["items"])) == ["Refund button", "Refund rounds wrong"]
    opened = summary["opened"]
    assert (opened["count"], opened["planned"], opened["unplanned"]) == (4, 2, 2)
    # Most urgent first.
    assert _names(opened["items"])[:2] == ["Refund page is slow", "Refund rounds wrong"]
    assert _names(summary["slipped"]["passed"]) == ["Reconcile ledgers"]
    assert summary["slipped"]["moved"] == [
        {**summary["slipped"]["moved"][0], "name": "Refund emails", "moves": 1,
         "due_date": "2026-03-27"}
    ]  # fmt: skip
    assert summary["blocked"]["count"] == 1
    assert summary["blocked"]["items"][0]["reason"] == "bank API"
    [goal] = summary["goals"]
    assert goal["title"] == "Faster refunds"
    assert goal["progress_before"] == 0.2
    assert goal["progress_after"] == 0.5
    assert [(kr["before"], kr["after"]) for kr in goal["key_results"]] == [(40, 28)]


def test_the_organisations_summary_counts_every_team(client: TestClient, runtime: Runtime) -> None:
    org = _week()
    position = _imported(runtime, org)

    summary = _summary(client, runtime, position)

    assert summary["scope"] == "org"
    assert summary["finished"]["count"] == 3
    assert "Search facets" in _names(summary["finished"]["items"])


def test_the_text_names_things_and_never_ids(client: TestClient, runtime: Runtime) -> None:
    org = _week()
    position = _imported(runtime, org)
    headers = bearer(runtime.tokens.create("viewer"))

    as_text = client.get(
        "/v1/summaries",
        params={"scope": f"team:{org.team}", "min_position": position},
        headers={**headers, "Accept": "text/plain"},
    )
    by_format = client.get(
        "/v1/summaries",
        params={"scope": f"team:{org.team}", "min_position": position, "format": "text"},
        headers=headers,
    )

    assert as_text.status_code == 200
    assert as_text.headers["content-type"].startswith("text/plain")
    assert as_text.text == by_format.text
    text = as_text.text
    assert text.startswith("Status of Payments, Mon 23 Feb 2026 to Mon 02 Mar 2026\n")
    assert "Finished: 2 issues (1 planned, 1 unplanned, 3 points)" in text
    assert "Opened: 4 issues (2 planned, 2 unplanned)" in text
    assert "Reconcile ledgers (due 2026-02-26)" in text
    assert "Blocked now: 1 issue: Refund webhooks." in text
    assert "- Faster refunds: 20% → 50% (Refund time in hours 40 → 28 of 8)" in text
    assert not UUID_TEXT.search(text)
    assert _summary(client, runtime, position, scope=f"team:{org.team}")["text"] == text


def test_a_period_in_the_past_is_told_as_it_was(client: TestClient, runtime: Runtime) -> None:
    org = _week()
    position = _imported(runtime, org)
    three_days_ago = NOW - timedelta(days=3, hours=1)

    summary = _summary(
        client,
        runtime,
        position,
        scope=f"team:{org.team}",
        since=WEEK_AGO.isoformat(),
        until=(WEEK_AGO + timedelta(days=1, minutes=30)).isoformat(),
    )
    at_then = _summary(
        client, runtime, position, scope=f"team:{org.team}", as_of=three_days_ago.isoformat()
    )

    assert summary["finished"]["count"] == 0
    assert summary["opened"]["count"] == 2
    assert at_then["until"] == "2026-02-27T08:00:00Z"
    # The check-in of the week's fourth day came after that moment.
    assert at_then["goals"][0]["progress_after"] == 0.2


def test_a_period_that_ends_before_it_starts_or_after_now_is_refused(
    client: TestClient, runtime: Runtime
) -> None:
    headers = bearer(runtime.tokens.create("viewer"))
    backwards = client.get(
        "/v1/summaries",
        params={"since": "2026-03-01T00:00:00Z", "until": "2026-02-01T00:00:00Z"},
        headers=headers,
    )
    ahead = client.get("/v1/summaries", params={"until": "2026-04-01T00:00:00Z"}, headers=headers)
    garbled = client.get("/v1/summaries", params={"since": "last week"}, headers=headers)
    unknown = client.get("/v1/summaries", params={"scope": f"team:{uuid4()}"}, headers=headers)

    for answer in (backwards, ahead, garbled):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert unknown.status_code == 404
