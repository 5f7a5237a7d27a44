"""``GET /v1/flow``: cycle and lead time percentiles, weekly throughput and work in progress,
measured exactly from imported history.

The clock is frozen on Monday 2026-03-02 09:00 UTC: the flow window is the 90 days before it
(from 2025-12-02 09:00), and the throughput weeks are the twelve whole ISO weeks before this one
(2025-W50, from Monday 2025-12-08, to 2026-W09). Every span below is whole or half days, so each
percentile is worked out by hand beside the assertion that checks it.

Team Payments (Ada, Bob; Dee until 2026-02-20) with projects Refunds (REF) and Archive (cancelled,
without issues); team Platform (Cy). Issues, as (created, first in_progress, done):

- F0 Ada: 2025-11-20, 11-21, 11-25: finished before the window (cycle 4, lead 5)
- F3 Ada: 2025-12-01, 12-03, 12-07: in the window, in the week before the first sample week
  (cycle 4, lead 6; 1.5 points)
- R Ada, REF: 2026-01-05, 01-06, 01-08 (1 point), reopened 02-13 21:00, in_progress again 02-16
- F2 Bob, REF: 02-01, 02-04, 02-06 (cycle 2, lead 5; 2 points)
- H Bob, Platform: 02-02, 02-03, 02-05 (cycle 2, lead 3; unestimated)
- F5 Bob: 02-09, 02-10, 02-13 (cycle 3, lead 4; 0.5 points)
- F1 Ada, REF: 02-10, 02-11, 02-12 (cycle 1, lead 2; 3 points)
- G Cy, Platform: 02-16, 02-17, 02-18 (2 points), reopened 02-24 (left in todo)
- F4 Bob, REF: 02-18 08:00, 02-20 08:00, 03-02 08:00: this week (cycle 10, lead 12)
- W1 Bob, REF: created 02-20 due 03-01, in_progress 02-23, due moved twice, in_review 02-27
- G2 Cy, Platform: created 02-25, in_progress 03-01 21:00
- T1 Ada: moved to todo, never started
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from services.app import Runtime
from services.importing.lines import ImportLine, line

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# The twelve whole weeks before the one NOW falls in.
WEEKS = [date(2025, 12, 8) + timedelta(weeks=number) for number in range(12)]
AS_OF = datetime(2026, 2, 10, 21, 0, tzinfo=UTC)
# The twelve whole weeks before the one AS_OF falls in (it starts on Monday 2026-02-09).
WEEKS_THEN = [date(2025, 11, 17) + timedelta(weeks=number) for number in range(12)]


def at(month: int, day: int, hour: int = 9, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


@dataclass
class History:
    payments: UUID = field(default_factory=uuid4)
    platform: UUID = field(default_factory=uuid4)
    ada: UUID = field(default_factory=uuid4)
    bob: UUID = field(default_factory=uuid4)
    cy: UUID = field(default_factory=uuid4)
    dee: UUID = field(default_factory=uuid4)
    refunds: UUID = field(default_factory=uuid4)
    archive: UUID = field(default_factory=uuid4)
    issues: dict[str, UUID] = field(default_factory=dict)
    lines: list[ImportLine] = field(default_factory=list)

    def member(self, member: UUID, name: str, team: UUID) -> None:
        body = {"name": name, "email": f"{uuid4().hex[:8]}@example.com", "role": "member",
                "weekly_capacity": 20, "team_ids": [str(team)]}  # fmt: skip
        self.lines.append(line("POST /v1/members", at(11, 1, year=2025), None, body, id=member))

    def project(self, project: UUID, name: str, key: str) -> None:
        body = {"name": name, "key": key, "owner_id": str(self.ada),
                "team_id": str(self.payments), "start_date": "2025-11-01",
                "target_date": "2026-06-30"}  # fmt: skip
        self.lines.append(
            line("POST /v1/projects", at(11, 1, year=2025), self.ada, body, id=project)
        )

    def issue(
        self,
        name: str,
        created: datetime,
        assignee: UUID,
        *steps: tuple[datetime, str | dict[str, Any]],
        team: UUID | None = None,
        project: UUID | None = None,
        **fields: Any,
    ) -> None:
        """An issue and what happened to it: each step a status it moved to, or a change."""
        issue = self.issues[name] = uuid4()
        body = {"title": name, "kind": "task", "team_id": str(team or self.payments),
                "assignee_id": str(assignee), **fields}  # fmt: skip
        if project is not None:
            body["project_id"] = str(project)
        self.lines.append(line("POST /v1/issues", created, assignee, body, id=issue))
        for moment, step in steps:
            if isinstance(step, str):
                command, change = f"POST /v1/issues/{issue}/transition", {"status": step}
            else:
                command, change = f"PATCH /v1/issues/{issue}", step
            self.lines.append(line(command, moment, assignee, change))


def _history() -> History:
    h = History()
    start = at(11, 1, 8, year=2025)
    h.lines += [
        line("POST /v1/teams", start, None, {"name": "Payments"}, id=h.payments),
        line("POST /v1/teams", start, None, {"name": "Platform"}, id=h.platform),
    ]
    h.member(h.ada, "Ada", h.payments)
    h.member(h.bob, "Bob", h.payments)
    h.member(h.cy, "Cy", h.platform)
    h.member(h.dee, "Dee", h.payments)
    h.project(h.refunds, "Refunds", "REF")
    h.project(h.archive, "Archive", "ARC")
    h.lines += [
        line(f"POST /v1/projects/{h.archive}/status", at(11, 2, year=2025), h.ada,
             {"status": "cancelled"}),
        line(f"DELETE /v1/teams/{h.payments}/members/{h.dee}", at(2, 20), None),
    ]  # fmt: skip
    h.issue("F0", at(11, 20, year=2025), h.ada, (at(11, 21, year=2025), "in_progress"),
            (at(11, 25, year=2025), "done"))  # fmt: skip
    h.issue("F3", at(12, 1, year=2025), h.ada, (at(12, 3, year=2025), "in_progress"),
            (at(12, 7, year=2025), "done"), estimate=1.5)  # fmt: skip
    h.issue("R", at(1, 5), h.ada, (at(1, 6), "in_progress"), (at(1, 8), "done"),
            (at(2, 13, 21), "todo"), (at(2, 16), "in_progress"), project=h.refunds,
            estimate=1)  # fmt: skip
    h.issue("F2", at(2, 1), h.bob, (at(2, 4), "in_progress"), (at(2, 6), "done"),
            project=h.refunds, estimate=2)  # fmt: skip
    h.issue("H", at(2, 2), h.bob, (at(2, 3), "in_progress"), (at(2, 5), "done"),
            team=h.platform)  # fmt: skip
    h.issue("F5", at(2, 9), h.bob, (at(2, 10), "in_progress"), (at(2, 13), "done"),
            estimate=0.5)  # fmt: skip
    h.issue("F1", at(2, 10), h.ada, (at(2, 11), "in_progress"), (at(2, 12), "done"),
            project=h.refunds, estimate=3)  # fmt: skip
    h.issue("G", at(2, 16), h.cy, (at(2, 17), "in_progress"), (at(2, 18), "done"),
            (at(2, 24), "todo"), team=h.platform, estimate=2)  # fmt: skip
    h.issue("F4", at(2, 18, 8), h.bob, (at(2, 20, 8), "in_progress"), (at(3, 2, 8), "done"),
            project=h.refunds)  # fmt: skip
    h.issue("W1", at(2, 20), h.bob, (at(2, 23), "in_progress"),
            (at(2, 24), {"due_date": "2026-03-05"}), (at(2, 25), {"due_date": "2026-03-10"}),
            (at(2, 27), "in_review"), project=h.refunds, due_date="2026-03-01")  # fmt: skip
    h.issue("G2", at(2, 25), h.cy, (at(3, 1, 21), "in_progress"), team=h.platform)
    h.issue("T1", at(2, 26), h.ada, (at(2, 27), "todo"))
    h.lines.sort(key=lambda made: made["occurred_at"])
    return h


@pytest.fixture
def history(runtime: Runtime) -> tuple[History, int]:
    h = _history()
    report = runtime.importer.run(f"flow-{uuid4()}", h.lines)
    assert report.error is None, report.error
    return h, report.position


def _flow(
    client: TestClient, admin: dict[str, str], position: int, scope: str, **query: Any
) -> dict[str, Any]:
    answer = client.get(
        "/v1/flow", params={"scope": scope, "min_position": position, **query}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def _times(count: int, p50: float | None, p85: float | None, p95: float | None) -> dict[str, Any]:
    return {"count": count, "p50_days": p50, "p85_days": p85, "p95_days": p95}


def _weeks(starts: list[date], completed: list[int], points: list[float]) -> list[dict[str, Any]]:
    return [
        {"week": f"{start.isocalendar()[0]}-W{start.isocalendar()[1]:02d}",
         "starts": start.isoformat(), "completed": count, "points": amount}
        for start, count, amount in zip(starts, completed, points, strict=True)
    ]  # fmt: skip


def _named(group: dict[str, Any]) -> tuple[str, str, str | None]:
    return group["scope"]["kind"], group["scope"]["id"], group["scope"]["name"]


NO_TIMES = _times(0, None, None, None)
ZERO_WEEKS = _weeks(WEEKS, [0] * 12, [0.0] * 12)

# Team Payments over the window: F1, F2, F3, F4, F5 (R was reopened; F0 is too old).
# Cycle [1, 2, 3, 4, 10]: ranks 4 * share: p50 rank 2 → 3; p85 rank 3.4 → 4 + 0.4 * 6 = 6.4;
# p95 rank 3.8 → 4 + 0.8 * 6 = 8.8. Lead [2, 4, 5, 6, 12]: 5; 6 + 0.4 * 6 = 8.4; 10.8.
PAYMENTS_CYCLE = _times(5, 3.0, 6.4, 8.8)
PAYMENTS_LEAD = _times(5, 5.0, 8.4, 10.8)
# R finished in 2026-W02 (1 point) and was taken back in W07, where F1 (3) and F5 (0.5) were
# finished; F2 (2) in W06. F3 is in the week before the first; F4 in this week.
PAYMENTS_WEEKS = _weeks(
    WEEKS,
    [0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0],
    [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 2.0, 2.5, 0.0, 0.0],
)
# Platform: H only (G was reopened). G's W08 is taken back in W09: a week that reopened more
# than it finished counts zero.
PLATFORM_CYCLE = _times(1, 2.0, 2.0, 2.0)
PLATFORM_LEAD = _times(1, 3.0, 3.0, 3.0)
PLATFORM_WEEKS = _weeks(
    WEEKS,
    [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0],
)
# Ada: F1, F3. Cycle [1, 4]: 1 + 0.5 * 3 = 2.5; 1 + 0.85 * 3 = 3.55; 3.85. Lead [2, 6]: 4; 5.4;
# 5.8. Her W07 finished F1 and took R back: no issue net, 3 - 1 points.
ADA_CYCLE = _times(2, 2.5, 3.55, 3.85)
ADA_LEAD = _times(2, 4.0, 5.4, 5.8)
ADA_WEEKS = _weeks(
    WEEKS,
    [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
    [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0],
)
# Bob, in every team: F2, H (Platform), F5, F4. Cycle [2, 2, 3, 10]: ranks 3 * share: rank 1.5
# → 2.5; rank 2.55 → 3 + 0.55 * 7 = 6.85; rank 2.85 → 3 + 0.85 * 7 = 8.95. Lead [3, 4, 5, 12]:
# 4.5; 5 + 0.55 * 7 = 8.85; 10.95.
BOB_CYCLE = _times(4, 2.5, 6.85, 8.95)
BOB_LEAD = _times(4, 4.5, 8.85, 10.95)
BOB_WEEKS = _weeks(
    WEEKS,
    [0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.5, 0.0, 0.0],
)
# Refunds: F1, F2, F4. Cycle [1, 2, 10]: ranks 2 * share: 2; rank 1.7 → 2 + 0.7 * 8 = 7.6;
# rank 1.9 → 9.2. Lead [2, 5, 12]: 5; 5 + 0.7 * 7 = 9.9; 11.3.
REFUNDS_CYCLE = _times(3, 2.0, 7.6, 9.2)
REFUNDS_LEAD = _times(3, 5.0, 9.9, 11.3)
REFUNDS_WEEKS = _weeks(
    WEEKS,
    [0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0],
    [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 2.0, 2.0, 0.0, 0.0],
)


def _r(h: History) -> dict[str, Any]:
    """R: first started 2026-01-06 09:00 (55 days before NOW); backlog 1 day, in_progress 2 days
    then 14 more since 02-16, done 36.5 days, todo 2.5 days; reopened once."""
    return {
        "id": str(h.issues["R"]),
        "key": "REF-1",
        "title": "R",
        "status": "in_progress",
        "started_at": "2026-01-06T09:00:00Z",
        "age_days": 55.0,
        "due_date": None,
        "due_moves": 0,
        "reopens": 1,
        "days_in_status": {"backlog": 1.0, "todo": 2.5, "in_progress": 16.0, "done": 36.5},
    }


def _w1(h: History) -> dict[str, Any]:
    """W1: started 02-23 09:00 (7 days); backlog 3, in_progress 4, in_review 3 so far."""
    return {
        "id": str(h.issues["W1"]),
        "key": "REF-5",
        "title": "W1",
        "status": "in_review",
        "started_at": "2026-02-23T09:00:00Z",
        "age_days": 7.0,
        "due_date": "2026-03-10",
        "due_moves": 2,
        "reopens": 0,
        "days_in_status": {"backlog": 3.0, "in_progress": 4.0, "in_review": 3.0},
    }


def _g2(h: History) -> dict[str, Any]:
    """G2: started 03-01 21:00, half a day before NOW, after 4.5 days in the backlog."""
    return {
        "id": str(h.issues["G2"]),
        "key": None,
        "title": "G2",
        "status": "in_progress",
        "started_at": "2026-03-01T21:00:00Z",
        "age_days": 0.5,
        "due_date": None,
        "due_moves": 0,
        "reopens": 0,
        "days_in_status": {"backlog": 4.5, "in_progress": 0.5},
    }


def test_the_organisation_has_a_group_per_team_with_its_exact_flow(
    client: TestClient, history: tuple[History, int], admin: dict[str, str]
) -> None:
    h, position = history

    document = _flow(client, admin, position, "org")

    assert document["now"] == "2026-03-02T09:00:00Z"
    assert document["scope"] == "org"
    assert (document["window_days"], document["throughput_weeks"]) == (90, 12)
    payments, platform = document["groups"]
    assert payments == {
        "scope": {"kind": "team", "id": str(h.payments), "name": "Payments"},
        "cycle_time": PAYMENTS_CYCLE,
        "lead_time": PAYMENTS_LEAD,
        "throughput": PAYMENTS_WEEKS,
        "work_in_progress": [_r(h), _w1(h)],
    }
    assert platform == {
        "scope": {"kind": "team", "id": str(h.platform), "name": "Platform"},
        "cycle_time": PLATFORM_CYCLE,
        "lead_time": PLATFORM_LEAD,
        "throughput": PLATFORM_WEEKS,
        "work_in_progress": [_g2(h)],
    }
    assert payments["throughput"][0]["week"] == "2025-W50"
    assert payments["throughput"][-1] == {
        "week": "2026-W09",
        "starts": "2026-02-23",
        "completed": 0,
        "points": 0.0,
    }


def test_a_team_has_itself_its_members_and_its_projects(
    client: TestClient, history: tuple[History, int], admin: dict[str, str]
) -> None:
    h, position = history

    document = _flow(client, admin, position, f"team:{h.payments}")

    assert document["scope"] == f"team:{h.payments}"
    groups = document["groups"]
    # Dee left the team on 02-20; Archive, cancelled, is still the team's.
    assert [_named(group) for group in groups] == [
        ("team", str(h.payments), "Payments"),
        ("member", str(h.ada), "Ada"),
        ("member", str(h.bob), "Bob"),
        ("project", str(h.archive), "Archive"),
        ("project", str(h.refunds), "Refunds"),
    ]
    team, ada, bob, archive, refunds = groups
    assert (team["cycle_time"], team["lead_time"]) == (PAYMENTS_CYCLE, PAYMENTS_LEAD)
    assert team["throughput"] == PAYMENTS_WEEKS
    assert team["work_in_progress"] == [_r(h), _w1(h)]
    assert (ada["cycle_time"], ada["lead_time"]) == (ADA_CYCLE, ADA_LEAD)
    assert ada["throughput"] == ADA_WEEKS
    assert ada["work_in_progress"] == [_r(h)]
    assert (bob["cycle_time"], bob["lead_time"]) == (BOB_CYCLE, BOB_LEAD)
    assert bob["throughput"] == BOB_WEEKS
    assert bob["work_in_progress"] == [_w1(h)]
    assert archive["cycle_time"] == archive["lead_time"] == NO_TIMES
    assert archive["throughput"] == ZERO_WEEKS
    assert archive["work_in_progress"] == []
    assert (refunds["cycle_time"], refunds["lead_time"]) == (REFUNDS_CYCLE, REFUNDS_LEAD)
    assert refunds["throughput"] == REFUNDS_WEEKS
    assert refunds["work_in_progress"] == [_r(h), _w1(h)]


def test_a_project_and_a_member_have_their_own_group(
    client: TestClient, history: tuple[History, int], admin: dict[str, str]
) -> None:
    h, position = history

    project = _flow(client, admin, position, f"project:{h.refunds}")
    member = _flow(client, admin, position, f"member:{h.bob}")

    assert project["groups"] == [
        {
            "scope": {"kind": "project", "id": str(h.refunds), "name": "Refunds"},
            "cycle_time": REFUNDS_CYCLE,
            "lead_time": REFUNDS_LEAD,
            "throughput": REFUNDS_WEEKS,
            "work_in_progress": [_r(h), _w1(h)],
        }
    ]
    # Bob's work in every team: H is Platform's.
    assert member["groups"] == [
        {
            "scope": {"kind": "member", "id": str(h.bob), "name": "Bob"},
            "cycle_time": BOB_CYCLE,
            "lead_time": BOB_LEAD,
            "throughput": BOB_WEEKS,
            "work_in_progress": [_w1(h)],
        }
    ]
    cy = _flow(client, admin, position, f"member:{h.cy}")["groups"][0]
    # G was reopened, G2 is not finished: nothing to draw Cy's times from.
    assert cy["cycle_time"] == cy["lead_time"] == NO_TIMES
    assert cy["work_in_progress"] == [_g2(h)]


def test_as_of_a_past_moment_the_flow_is_the_one_known_then(
    client: TestClient, history: tuple[History, int], admin: dict[str, str]
) -> None:
    h, position = history

    document = _flow(client, admin, position, f"team:{h.payments}", as_of=AS_OF.isoformat())

    assert document["now"] == "2026-02-10T21:00:00Z"
    team, ada, bob, dee, archive, refunds = document["groups"]
    assert _named(dee) == ("member", str(h.dee), "Dee")
    # The window then (from 2025-11-12 21:00): F0, F3, R (not yet reopened) and F2.
    # Cycle [2, 2, 4, 4]: rank 1.5 → 3; rank 2.55 → 4; 4. Lead [3, 5, 5, 6]: 5; 5.55; 5.85.
    assert team["cycle_time"] == _times(4, 3.0, 4.0, 4.0)
    assert team["lead_time"] == _times(4, 5.0, 5.55, 5.85)
    # The weeks then: 2025-W47 to 2026-W06: F0 in W48, F3 in W49, R in W02, F2 in W06.
    assert team["throughput"] == _weeks(
        WEEKS_THEN,
        [0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1],
        [0.0, 0.0, 1.5, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 2.0],
    )
    assert team["throughput"][0]["week"] == "2025-W47"
    # F5 had been in progress for half a day, after a day in the backlog.
    f5 = {
        "id": str(h.issues["F5"]),
        "key": None,
        "title": "F5",
        "status": "in_progress",
        "started_at": "2026-02-10T09:00:00Z",
        "age_days": 0.5,
        "due_date": None,
        "due_moves": 0,
        "reopens": 0,
        "days_in_status": {"backlog": 1.0, "in_progress": 0.5},
    }
    assert team["work_in_progress"] == bob["work_in_progress"] == [f5]
    assert ada["work_in_progress"] == refunds["work_in_progress"] == []
    # R counted in Refunds then: cycle [2, 2] (F2 too), lead [3, 5].
    assert refunds["cycle_time"] == _times(2, 2.0, 2.0, 2.0)
    assert refunds["lead_time"] == _times(2, 4.0, 4.7, 4.9)
    assert dee["cycle_time"] == NO_TIMES
    assert archive["throughput"] == _weeks(WEEKS_THEN, [0] * 12, [0.0] * 12)


def test_unknown_objects_and_scopes_without_flow_are_refused(
    client: TestClient, history: tuple[History, int], admin: dict[str, str]
) -> None:
    h, position = history

    for scope in (f"team:{uuid4()}", f"project:{uuid4()}", f"member:{uuid4()}"):
        missing = client.get("/v1/flow", params={"scope": scope}, headers=admin)
        assert missing.status_code == 404, scope
        assert missing.json()["code"] == "not_found"
    # The team did not exist yet.
    before = client.get(
        "/v1/flow",
        params={"scope": f"team:{h.payments}", "as_of": "2025-10-01T00:00:00Z"},
        headers=admin,
    )
    assert before.status_code == 404
    assert before.json()["detail"] == (
        f"there is no team {h.payments} as of 2025-10-01T00:00:00+00:00"
    )
    for params in (
        {"scope": f"goal:{uuid4()}"},
        {"scope": "team:nope"},
        {"scope": "everything"},
        {"scope": "org", "as_of": "yesterday"},
    ):
        wrong = client.get("/v1/flow", params=params, headers=admin)
        assert wrong.status_code == 422, params
        assert wrong.json()["code"] == "validation_error"
    assert client.get("/v1/flow").status_code == 401
    assert _flow(client, admin, position, "org")["groups"][0]["scope"]["name"] == "Payments"
