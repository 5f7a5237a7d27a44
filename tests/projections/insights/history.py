"""Histories for the insights' scenarios: import lines made with their times (as the forecasts'
tests make them), imported through the runtime's importer, and the answers read back.

The frozen clock stands at Monday 2026-03-02 09:00 UTC; histories happen in the weeks before.
Every command is the system's (``actor_id`` null), so roles never stand in the way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from fastapi.testclient import TestClient

from services.app import Runtime
from services.importing.lines import ImportLine, line

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = MONDAY.date()
DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)

Document = dict[str, Any]


def ago(days: float = 0, hours: float = 0) -> datetime:
    """A moment before the frozen clock's."""
    return MONDAY - timedelta(days=days, hours=hours)


def on(day: date, hour: int) -> datetime:
    """That day at that hour, UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """A moment as the API writes it (UTC, ``Z``)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class History:
    """Import lines, in the order they are added (which must be the order they occurred)."""

    def __init__(self) -> None:
        self.lines: list[ImportLine] = []

    def add(
        self,
        command: str,
        at: datetime,
        body: dict[str, Any] | None = None,
        *,
        id: UUID | None = None,
    ) -> None:
        self.lines.append(line(command, at, None, body, id=id))

    def sorted_lines(self) -> list[ImportLine]:
        return sorted(self.lines, key=lambda made: made["occurred_at"])

    # Teams and members

    def team(self, at: datetime, name: str, weekly_capacity: float | None = None) -> UUID:
        team = uuid4()
        body: dict[str, Any] = {"name": name}
        if weekly_capacity is not None:
            body["weekly_capacity"] = weekly_capacity
        self.add("POST /v1/teams", at, body, id=team)
        return team

    def member(self, at: datetime, name: str, weekly_capacity: float, teams: list[UUID]) -> UUID:
        member = uuid4()
        body = {
            "name": name,
            "email": f"{name.lower()}-{member.hex[:8]}@example.com",
            "role": "member",
            "weekly_capacity": weekly_capacity,
            "team_ids": [str(team) for team in teams],
        }
        self.add("POST /v1/members", at, body, id=member)
        return member

    def member_capacity(self, at: datetime, member: UUID, weekly_capacity: float) -> None:
        self.add(f"PATCH /v1/members/{member}", at, {"weekly_capacity": weekly_capacity})

    # Goals

    def goal(
        self,
        at: datetime,
        title: str,
        owner: UUID,
        team: UUID | None,
        period_start: date,
        period_end: date,
    ) -> UUID:
        goal = uuid4()
        body: dict[str, Any] = {
            "title": title,
            "owner_id": str(owner),
            "period_start": period_start.isoformat(),
            "period_end": period_end.isoformat(),
        }
        if team is not None:
            body["team_id"] = str(team)
        self.add("POST /v1/goals", at, body, id=goal)
        return goal

    def key_result(self, at: datetime, goal: UUID, title: str, start: float, target: float) -> UUID:
        kr = uuid4()
        body = {"title": title, "unit": "number", "start": start, "target": target}
        self.add(f"POST /v1/goals/{goal}/key-results", at, body, id=kr)
        return kr

    def check_in(self, at: datetime, goal: UUID, kr: UUID, value: float) -> None:
        self.add(f"POST /v1/goals/{goal}/key-results/{kr}/check-ins", at, {"value": value})

    def activate(self, at: datetime, goal: UUID) -> None:
        self.add(f"POST /v1/goals/{goal}/activate", at)

    # Projects

    def project(
        self,
        at: datetime,
        name: str,
        key: str,
        owner: UUID,
        team: UUID,
        target: date,
        goals: list[UUID] | None = None,
    ) -> UUID:
        project = uuid4()
        body = {
            "name": name,
            "key": key,
            "owner_id": str(owner),
            "team_id": str(team),
            "start_date": (at.date() - DAY).isoformat(),
            "target_date": target.isoformat(),
            "goal_ids": [str(goal) for goal in goals or []],
        }
        self.add("POST /v1/projects", at, body, id=project)
        return project

    def project_status(self, at: datetime, project: UUID, status: str) -> None:
        self.add(f"POST /v1/projects/{project}/status", at, {"status": status})

    def project_goal(self, at: datetime, project: UUID, goal: UUID) -> None:
        self.add(f"POST /v1/projects/{project}/goals", at, {"goal_id": str(goal)})

    def health(self, at: datetime, project: UUID, health: str, note: str = "") -> None:
        self.add(f"POST /v1/projects/{project}/health", at, {"health": health, "note": note})

    # Issues

    def issue(
        self, at: datetime, title: str, team: UUID, kind: str = "task", **fields: Any
    ) -> UUID:
        issue = uuid4()
        body: dict[str, Any] = {"title": title, "kind": kind, "team_id": str(team)}
        for name, value in fields.items():
            if isinstance(value, UUID | date):
                body[name] = str(value) if isinstance(value, UUID) else value.isoformat()
            elif isinstance(value, list):
                body[name] = [str(one) for one in value]
            else:
                body[name] = value
        self.add("POST /v1/issues", at, body, id=issue)
        return issue

    def move(self, at: datetime, issue: UUID, *statuses: str) -> datetime:
        """Transitions ``issue`` through ``statuses``, a minute apart; the last moment."""
        for status in statuses:
            self.add(f"POST /v1/issues/{issue}/transition", at, {"status": status})
            at += timedelta(minutes=1)
        return at - timedelta(minutes=1)

    def assign(self, at: datetime, issue: UUID, member: UUID | None) -> None:
        body = {"assignee_id": str(member) if member else None}
        self.add(f"POST /v1/issues/{issue}/assign", at, body)

    def due(self, at: datetime, issue: UUID, due_date: date | None) -> None:
        body = {"due_date": due_date.isoformat() if due_date else None}
        self.add(f"PATCH /v1/issues/{issue}", at, body)

    def block(self, at: datetime, issue: UUID, reason: str) -> None:
        self.add(f"POST /v1/issues/{issue}/block", at, {"reason": reason})

    def depend(self, at: datetime, issue: UUID, blocked_by: UUID) -> None:
        self.add(f"POST /v1/issues/{issue}/dependencies", at, {"blocked_by_id": str(blocked_by)})

    def link_goal(self, at: datetime, issue: UUID, goal: UUID) -> None:
        self.add(f"POST /v1/issues/{issue}/links", at, {"kind": "goal", "target_id": str(goal)})

    def comment(self, at: datetime, issue: UUID, text: str) -> None:
        self.add(f"POST /v1/issues/{issue}/comments", at, {"body": text})

    def finished(self, at: datetime, team: UUID, title: str = "Done one", **fields: Any) -> UUID:
        """An issue made and taken to done within the hour: a completion at ``at``."""
        issue = self.issue(at, title, team, **fields)
        self.move(at + timedelta(minutes=5), issue, "todo", "in_progress", "done")
        return issue

    def pace(self, team: UUID, weekly: list[int], **fields: Any) -> None:
        """Issues finished in each of the whole weeks before this one, oldest first."""
        for week, count in enumerate(weekly):
            monday = MONDAY - WEEK * (len(weekly) - week)
            for number in range(count):
                self.finished(monday + timedelta(hours=1 + number), team, **fields)

    # Operations

    def operation(
        self,
        at: datetime,
        title: str,
        team: UUID,
        owner: UUID,
        start_date: date,
        assignee: UUID | None = None,
    ) -> UUID:
        """A weekly operation, on ``start_date``'s weekday."""
        operation = uuid4()
        body: dict[str, Any] = {
            "title": title,
            "team_id": str(team),
            "owner_id": str(owner),
            "cadence": {"every": "week"},
            "start_date": start_date.isoformat(),
        }
        if assignee is not None:
            body["assignee_id"] = str(assignee)
        self.add("POST /v1/operations", at, body, id=operation)
        return operation

    def tick(self, at: datetime, until: date) -> None:
        self.add("POST /v1/operations/tick", at, {"until": until.isoformat()})

    def complete(self, at: datetime, operation: UUID, due_date: date) -> None:
        self.add(f"POST /v1/operations/{operation}/occurrences/{due_date}/complete", at)

    def skip(self, at: datetime, operation: UUID, due_date: date) -> None:
        self.add(f"POST /v1/operations/{operation}/occurrences/{due_date}/skip", at)

    def pause(self, at: datetime, operation: UUID) -> None:
        self.add(f"POST /v1/operations/{operation}/pause", at)


def imported(runtime: Runtime, lines: list[ImportLine]) -> int:
    """Imports ``lines`` (in the order they occurred); the import's last position."""
    ordered = sorted(lines, key=lambda made: made["occurred_at"])
    report = runtime.importer.run(f"history-{uuid4()}", ordered)
    assert report.error is None, report.error
    return report.position


def viewer(runtime: Runtime) -> dict[str, str]:
    return {"Authorization": f"Bearer {runtime.tokens.create('viewer')}"}


def insights(client: TestClient, headers: dict[str, str], position: int, **query: Any) -> Document:
    """``GET /v1/insights`` once the view has applied ``position``."""
    answer = client.get(
        "/v1/insights", params={"min_position": position, "limit": 500, **query}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    document: Document = answer.json()
    return document


def of_kind(document: Document, kind: str) -> list[Document]:
    return [item for item in document["items"] if item["kind"] == kind]


def summary(items: list[Document]) -> set[tuple[str, str, tuple[str, ...]]]:
    """Each insight's kind, severity and the ids of the objects it is about."""
    return {
        (item["kind"], item["severity"], tuple(obj["id"] for obj in item["objects"]))
        for item in items
    }


def events(
    client: TestClient, headers: dict[str, str], object_id: UUID, position: int
) -> list[Document]:
    """The object's history entries, oldest first."""
    answer = client.get(
        "/v1/history",
        params={"object_id": str(object_id), "min_position": position, "limit": 500},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    entries: list[Document] = answer.json()["items"]
    return entries


def positions(entries: list[Document], event_type: str) -> list[int]:
    """The positions of the entries of one type, in order."""
    return [entry["position"] for entry in entries if entry["event_type"] == event_type]


def ref(kind: str, object_id: UUID, name: str) -> Document:
    """An object as an insight names it."""
    return {"kind": kind, "id": str(object_id), "name": name}


def about(items: list[Document], object_id: UUID) -> Document:
    """The one insight among ``items`` whose first object is ``object_id``."""
    [found] = [item for item in items if item["objects"][0]["id"] == str(object_id)]
    return found


def ids(*objects: UUID) -> tuple[str, ...]:
    return tuple(str(one) for one in objects)
