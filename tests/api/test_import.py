"""Importing history over HTTP: the lines of ``POST /v1/import``, commands as they happened.

What an imported file becomes (objects with the ids and times it gave them, a history of when
each change occurred and that it was recorded now), what stops an import at a line, and what a
tick line schedules. The clock is frozen at Monday 2026-03-02 09:00 UTC, when every import is
recorded; the imported history happens in January 2026. Each test runs on SQLite and on
PostgreSQL.

The request itself (retrying and resuming it, its bounds, who may send it, its progress) and
imported history beside live work in the views are in ``test_import_http``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from contracts.answers import ImportAnswer
from services.app import Runtime, build_runtime
from services.importing.lines import ImportLine, dump_line, line
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from tests.api.helpers import (
    Headers,
    assert_problem,
    create_member,
    create_operation,
    create_team,
    last_position,
    log,
    stream,
    types,
)
from tests.conftest import FrozenClock

NOW = "2026-03-02T09:00:00+00:00"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def views() -> tuple[str, ...]:
    """The views whose workers run: none unless a test reads some back (``reading``). They cost
    far more than a test of the log alone, on PostgreSQL."""
    return ()


def reading(*names: str) -> pytest.MarkDecorator:
    """Runs the test with the workers of the views ``names`` (a client reads them back)."""
    return pytest.mark.parametrize("views", [pytest.param(names, id="views")])


@pytest.fixture
def runtime(
    backend: Backend, clock: FrozenClock, tmp_path: Path, views: tuple[str, ...]
) -> Iterator[Runtime]:
    built = build_runtime(Settings(data_dir=tmp_path), clock=clock, backend=backend, views=views)
    built.start()
    yield built
    built.stop()


def at(days: int = 0, hours: int = 0, minutes: int = 0) -> datetime:
    """A moment of the imported history: ``days``, ``hours`` and ``minutes`` after T0."""
    return T0 + timedelta(days=days, hours=hours, minutes=minutes)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# Sending lines


def jsonl(lines: Iterable[ImportLine | bytes]) -> bytes:
    """JSON Lines: each line made by ``line`` written as JSON, raw bytes as they are."""
    return b"".join(item if isinstance(item, bytes) else dump_line(item) for item in lines)


def send(
    client: TestClient,
    headers: Headers,
    import_id: str,
    lines: Iterable[ImportLine | bytes],
    *,
    from_line: int | None = None,
) -> Response:
    params = {} if from_line is None else {"from_line": from_line}
    return client.post(
        "/v1/import",
        content=jsonl(lines),
        params=params,
        headers={**headers, "Content-Type": "application/x-ndjson", "Import-ID": import_id},
    )


def imported(response: Response) -> dict[str, Any]:
    """The answer of an import that took every line it was sent."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    answer: dict[str, Any] = response.json()
    assert ImportAnswer.model_validate(answer).model_dump(mode="json", exclude_unset=True) == answer
    assert answer["complete"] is True
    assert answer["error"] is None
    return answer


def refused(
    response: Response, status: int, code: str, number: int, *, field: str | None = None
) -> dict[str, Any]:
    """The problem document of an import stopped at line ``number``; its ``import`` answer."""
    problem = assert_problem(response, status, code, field=field)
    assert problem["line"] == number
    assert problem["detail"].startswith(f"line {number}: ")
    answer: dict[str, Any] = problem["import"]
    assert ImportAnswer.model_validate(answer).model_dump(mode="json", exclude_unset=True) == answer
    assert answer["complete"] is False
    error = answer["error"]
    assert (error["line"], error["status"], error["code"]) == (number, status, code)
    assert error.get("errors", []) == problem.get("errors", [])
    return answer


# Reading it back


def read(
    client: TestClient, headers: Headers, path: str, position: int, **params: Any
) -> dict[str, Any]:
    """``path`` once its view has applied ``position``. A view meeting history older than what
    it applied is derived again first (after the import has been quiet for a second), so the
    client asks again while it answers ``409 not_caught_up``, for up to 30 s."""
    deadline = time.monotonic() + 30
    while True:
        response = client.get(path, params={"min_position": position, **params}, headers=headers)
        if response.status_code != 409 or time.monotonic() > deadline:
            break
        assert response.json()["code"] == "not_caught_up", response.text
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def history(
    client: TestClient, headers: Headers, object_id: UUID, position: int
) -> list[dict[str, Any]]:
    page = read(client, headers, "/v1/history", position, object_id=str(object_id), limit=500)
    assert page["next_cursor"] is None
    items: list[dict[str, Any]] = page["items"]
    return items


# The history imported


@dataclass(frozen=True)
class Payments:
    """The ids a file of history gives the objects it creates."""

    team: UUID
    ada: UUID
    grace: UUID
    project: UUID
    task: UUID
    bug: UUID


def payments() -> Payments:
    return Payments(uuid4(), uuid4(), uuid4(), uuid4(), uuid4(), uuid4())


def member_body(name: str, team_id: UUID, role: str = "member") -> dict[str, Any]:
    return {
        "name": name,
        "email": f"{name.lower()}@example.com",
        "role": role,
        "weekly_capacity": 20,
        "team_ids": [str(team_id)],
    }


def organisation(ids: Payments) -> list[ImportLine]:
    """Lines 1-3: a team and two members of it."""
    team = {"name": "Payments", "weekly_capacity": 40}
    ada = member_body("Ada", ids.team, "manager")
    grace = member_body("Grace", ids.team)
    return [
        line("POST /v1/teams", at(), None, team, id=ids.team),
        line("POST /v1/members", at(minutes=5), None, ada, id=ids.ada),
        line("POST /v1/members", at(minutes=10), None, grace, id=ids.grace),
    ]


def issue_body(ids: Payments, title: str, kind: str, estimate: float) -> dict[str, Any]:
    return {
        "title": title,
        "kind": kind,
        "team_id": str(ids.team),
        "project_id": str(ids.project),
        "estimate": estimate,
    }


def work(ids: Payments) -> list[ImportLine]:
    """Lines 4-11: a project and two issues in it, worked on over two weeks."""
    task = f"/v1/issues/{ids.task}"
    project = {
        "name": "Payments v2",
        "key": "PAY",
        "owner_id": str(ids.ada),
        "team_id": str(ids.team),
        "start_date": "2026-01-05",
        "target_date": "2026-03-31",
    }
    retries = issue_body(ids, "Retry failed payouts", "task", 3)
    refunds = issue_body(ids, "Refunds double-count fees", "bug", 5)
    note = {"body": "Payouts are retried with the same idempotency key."}
    return [
        line("POST /v1/projects", at(hours=1), ids.ada, project, id=ids.project),
        line("POST /v1/issues", at(days=1), ids.ada, retries, id=ids.task),
        line("POST /v1/issues", at(days=1, hours=1), ids.grace, refunds, id=ids.bug),
        line(f"POST {task}/assign", at(days=2, hours=1), ids.ada, {"assignee_id": str(ids.grace)}),
        line(f"POST {task}/transition", at(days=3, minutes=30), ids.grace, {"status": "todo"}),
        line(f"POST {task}/transition", at(days=4, hours=5), ids.grace, {"status": "in_progress"}),
        line(f"POST {task}/comments", at(days=7, hours=2), ids.grace, note),
        line(f"POST {task}/transition", at(days=9, hours=7), ids.grace, {"status": "done"}),
    ]


def everything(ids: Payments) -> list[ImportLine]:
    return organisation(ids) + work(ids)


# The history, imported


@reading("entities", "history")
def test_imported_history_keeps_its_original_times_in_the_objects_and_the_history(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    ids = payments()
    lines = everything(ids)

    answer = imported(send(client, admin, "payments-2026-01", lines))

    events = log(runtime)
    assert answer == {
        "import_id": "payments-2026-01",
        "first_line": 1,
        "lines_read": 11,
        "applied": 11,
        "skipped": 0,
        "lines_done": 11,
        "next_line": 12,
        "events": len(events),
        "position": last_position(runtime),
        "complete": True,
        "error": None,
    }
    # Each line wrote its events at its own time, by its own actor (the system when none).
    times = [datetime.fromisoformat(made["occurred_at"]) for made in lines]
    assert [e.metadata.occurred_at for e in events] == sorted(
        e.metadata.occurred_at for e in events
    )
    assert {e.metadata.occurred_at for e in events} == set(times)
    actor_at = {datetime.fromisoformat(m["occurred_at"]): m["actor_id"] for m in lines}
    assert all(e.metadata.actor == (actor_at[e.metadata.occurred_at] or "system") for e in events)
    assert types(stream(runtime, str(ids.task))) == [
        "IssueCreated",
        "IssueAssigned",
        "IssueTransitioned",
        "IssueTransitioned",
        "IssueCommented",
        "IssueTransitioned",
    ]

    # The objects have the ids the lines gave them, and their original times.
    position = answer["position"]
    task = read(client, admin, f"/v1/issues/{ids.task}", position)
    assert {k: task[k] for k in ("id", "key", "status", "assignee_id", "comment_count")} == {
        "id": str(ids.task),
        "key": "PAY-1",
        "status": "done",
        "assignee_id": str(ids.grace),
        "comment_count": 1,
    }
    assert (task["created_at"], task["updated_at"]) == (iso(at(days=1)), iso(at(days=9, hours=7)))
    bug = read(client, admin, f"/v1/issues/{ids.bug}", position)
    assert (bug["key"], bug["status"], bug["created_at"]) == (
        "PAY-2",
        "triage",
        iso(at(days=1, hours=1)),
    )
    for path, created_at in [
        (f"/v1/teams/{ids.team}", at()),
        (f"/v1/members/{ids.grace}", at(minutes=10)),
        (f"/v1/projects/{ids.project}", at(hours=1)),
    ]:
        assert read(client, admin, path, position)["created_at"] == iso(created_at), path

    # As of a moment between two lines, the task is as those before it left it.
    then = read(client, admin, f"/v1/issues/{ids.task}", position, as_of=iso(at(days=4)))
    assert (then["status"], then["assignee_id"], then["comment_count"]) == (
        "todo",
        str(ids.grace),
        0,
    )
    assert then["updated_at"] == iso(at(days=3, minutes=30))
    before = client.get(
        f"/v1/issues/{ids.task}", params={"as_of": iso(at(hours=23))}, headers=admin
    )
    assert_problem(before, 404, "not_found")

    # The history tells when each change occurred and that it was recorded now; its chain holds.
    entries = history(client, admin, ids.task, position)
    assert [(e["event_type"], e["occurred_at"], e["recorded_at"]) for e in entries] == [
        ("IssueCreated", at(days=1).isoformat(), NOW),
        ("IssueAssigned", at(days=2, hours=1).isoformat(), NOW),
        ("IssueTransitioned", at(days=3, minutes=30).isoformat(), NOW),
        ("IssueTransitioned", at(days=4, hours=5).isoformat(), NOW),
        ("IssueCommented", at(days=7, hours=2).isoformat(), NOW),
        ("IssueTransitioned", at(days=9, hours=7).isoformat(), NOW),
    ]
    assert [e["actor"] for e in entries] == [str(ids.ada)] * 2 + [str(ids.grace)] * 4
    verdict = read(client, admin, "/v1/history/verify", position)
    assert (verdict["valid"], verdict["entries"]) == (True, len(events))


# A refused line


ORGANISATION_EVENTS = [
    "TeamCreated",
    "MemberRegistered",
    "TeamMemberAdded",
    "MemberRegistered",
    "TeamMemberAdded",
]


def test_a_refused_command_stops_the_import_at_its_line_with_what_it_was_refused_for(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    ids = payments()
    task = f"/v1/issues/{ids.task}"
    lines = [
        *everything(ids)[:6],
        # A task in the backlog can't be done without being worked on.
        line(f"POST {task}/transition", at(days=2), ids.grace, {"status": "done"}),
        line(f"POST {task}/comments", at(days=3), ids.grace, {"body": "Never written."}),
    ]

    answer = refused(send(client, admin, "payments", lines), 409, "invalid_transition", 7)

    events = log(runtime)
    assert answer == {
        "import_id": "payments",
        "first_line": 1,
        "lines_read": 7,
        "applied": 6,
        "skipped": 0,
        "lines_done": 6,
        "next_line": 7,
        "events": len(events),
        "position": last_position(runtime),
        "complete": False,
        "error": answer["error"],
    }
    # The lines before it are in the log; nothing of it, or after it, is.
    assert types(stream(runtime, str(ids.task))) == ["IssueCreated"]
    assert max(e.metadata.occurred_at for e in events) == at(days=1, hours=1)
    in_project = ["ProjectIssueAdded", "IssueCreated"]
    assert types(events) == [*ORGANISATION_EVENTS, "ProjectCreated", *in_project, *in_project]
    progress = client.get("/v1/import/payments", headers=admin).json()
    assert (progress["lines_done"], progress["events"]) == (6, len(events))


def team_line(**fields: Any) -> dict[str, Any]:
    """A line that would make a team at 10:00, with ``fields`` in place of its own."""
    return {**line("POST /v1/teams", at(hours=1), None, {"name": "Ops"}), **fields}


def bad(
    case: str,
    make: Callable[[Payments], object],
    *fields: str,
    status: int = 422,
    code: str = "validation_error",
) -> Any:
    """A case of a bad line: how to make it, and the status, code and error fields it gets."""
    return pytest.param(make, status, code, list(fields), id=case)


FUTURE = "2026-03-02T09:00:01Z"  # a second after now
WRONG_ISSUE = {"title": "", "kind": "chore", "team_id": str(uuid4()), "colour": "red"}
BAD_LINES = [
    bad("malformed JSON", lambda _: b'{"command": "POST /v1/teams", \n', status=400,
        code="malformed_json"),
    bad("not an object", lambda _: b'["POST /v1/teams"]\n'),
    bad("unknown field", lambda _: team_line(when="now"), "when"),
    bad("unknown command", lambda _: team_line(command="POST /v1/payouts"), "command"),
    bad("method the path does not take",
        lambda ids: team_line(command=f"PUT /v1/teams/{ids.team}"), "command"),
    bad("body the route refuses",
        lambda _: team_line(command="POST /v1/issues", body=WRONG_ISSUE),
        "body.title", "body.kind", "body.colour"),
    bad("occurred_at missing",
        lambda _: {k: v for k, v in team_line().items() if k != "occurred_at"}, "occurred_at"),
    bad("occurred_at without a zone",
        lambda _: team_line(occurred_at="2026-01-05T10:00:00"), "occurred_at"),
    bad("occurred_at in the future", lambda _: team_line(occurred_at=FUTURE), "occurred_at"),
    bad("unknown actor", lambda _: team_line(actor_id=str(uuid4())), "actor_id", status=404,
        code="not_found"),
    bad("actor that is no UUID", lambda _: team_line(actor_id="ada"), "actor_id"),
    bad("id on a command that creates nothing",
        lambda ids: team_line(command=f"PATCH /v1/teams/{ids.team}", id=str(uuid4())), "id"),
    bad("id on a tick",
        lambda _: team_line(command="POST /v1/operations/tick", body={}, id=str(uuid4())), "id"),
    bad("tick more than a year ahead",
        lambda _: team_line(command="POST /v1/operations/tick", body={"until": "2027-01-07"}),
        "body.until"),
    # The team last changed when Grace joined it, at 09:10.
    bad("change before the object's latest",
        lambda ids: team_line(command=f"PATCH /v1/teams/{ids.team}",
                              occurred_at=at(minutes=7).isoformat()),
        "occurred_at", status=409, code="occurred_out_of_order"),
]  # fmt: skip


@pytest.mark.parametrize(("bad_line", "status", "code", "fields"), BAD_LINES)
def test_a_bad_line_is_refused_with_its_number_and_nothing_of_it_or_after_it_is_written(
    client: TestClient,
    admin: Headers,
    runtime: Runtime,
    bad_line: Callable[[Payments], Any],
    status: int,
    code: str,
    fields: list[str],
) -> None:
    ids = payments()
    after = line("POST /v1/teams", at(hours=2), None, {"name": "Never written"})
    lines = [*organisation(ids), bad_line(ids), after]

    response = send(client, admin, "bad-line", lines)

    answer = refused(response, status, code, 4, field=fields[0] if fields else None)
    assert [error["field"] for error in response.json().get("errors", [])] == fields
    assert (answer["lines_read"], answer["applied"], answer["lines_done"]) == (4, 3, 3)
    assert answer["next_line"] == 4
    assert types(log(runtime)) == ORGANISATION_EVENTS
    assert (answer["events"], answer["position"]) == (5, last_position(runtime))


def test_a_line_refused_when_its_batch_is_written_stops_the_import_at_that_line(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    # Ada's email belongs to a member made live, which the import finds only when it writes
    # its batch of lines (here, before the tick of line 5), and then writes them one by one:
    # the progress it records must stop at line 1 too, not at the last line it had read.
    create_member(client, admin, "ADA@example.com")
    live = last_position(runtime)
    ids = payments()
    lines = [
        *organisation(ids),
        work(ids)[0],
        line("POST /v1/operations/tick", at(hours=2), None, {}),
        line("POST /v1/issues", at(days=1), ids.ada, issue_body(ids, "Payouts", "task", 3)),
    ]

    answer = refused(
        send(client, admin, "payments", lines), 409, "already_exists", 2, field="email"
    )

    # Only line 1 is in the log, and the import says so: resuming skips nothing unwritten.
    assert types(log(runtime)[live:]) == ["TeamCreated"]
    assert (answer["lines_done"], answer["next_line"], answer["applied"]) == (1, 2, 1)
    assert (answer["events"], answer["position"]) == (1, live + 1)
    progress = client.get("/v1/import/payments", headers=admin).json()
    assert (progress["lines_done"], progress["events"], progress["position"]) == (1, 1, live + 1)

    renamed = {**member_body("Ada", ids.team, "manager"), "email": "ada.lovelace@example.com"}
    lines[1] = line("POST /v1/members", at(minutes=5), None, renamed, id=ids.ada)
    resumed = imported(send(client, admin, "payments", lines[1:], from_line=2))

    assert (resumed["first_line"], resumed["applied"], resumed["lines_done"]) == (2, 5, 6)
    assert resumed["position"] == last_position(runtime)
    assert types(stream(runtime, str(ids.ada))) == ["MemberRegistered"]
    assert types(stream(runtime, str(ids.project))) == ["ProjectCreated", "ProjectIssueAdded"]


# Ticks


@reading("entities")
def test_a_tick_line_schedules_occurrences_at_its_time_and_later_lines_settle_them(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    # An operation made live (now) is left alone by the imported ticks, which came before it.
    team_id = create_team(client, admin, "Live")
    owner = create_member(client, admin, "lin@example.com", team_ids=[team_id])
    live = create_operation(
        client, admin, team_id, owner, {"every": "week"}, start_date="2026-01-05"
    )
    ids = payments()
    operation = uuid4()
    occurrences = f"/v1/operations/{operation}/occurrences"
    reconcile = {
        "title": "Reconcile the ledger",
        "team_id": str(ids.team),
        "owner_id": str(ids.ada),
        "assignee_id": str(ids.grace),
        "cadence": {"every": "week"},
        "start_date": "2026-01-05",
        "estimate": 1,
    }
    lines = [
        *organisation(ids),
        line("POST /v1/operations", at(hours=2), ids.ada, reconcile, id=operation),
        line("POST /v1/operations/tick", at(hours=3), None, {"until": "2026-01-26"}),
        line(f"POST {occurrences}/2026-01-05/complete", at(hours=8), ids.grace, {"note": "Even."}),
        line(f"POST {occurrences}/2026-01-12/skip", at(days=7), ids.grace, {"note": "Holiday."}),
        # Without until, a tick schedules as far ahead of its own time as a live one of now.
        line("POST /v1/operations/tick", at(days=14), None),
    ]

    answer = imported(send(client, admin, "ops", lines))

    events = stream(runtime, str(operation))
    ticked = ["OccurrenceScheduled"] * 4
    settled = ["OccurrenceCompleted", "OccurrenceSkipped"]
    assert types(events) == ["OperationCreated", *ticked, *settled, "OccurrenceScheduled"]
    assert [(e.data.due_date.isoformat(), e.metadata.occurred_at) for e in events[1:]] == [
        ("2026-01-05", at(hours=3)),
        ("2026-01-12", at(hours=3)),
        ("2026-01-19", at(hours=3)),
        ("2026-01-26", at(hours=3)),
        ("2026-01-05", at(hours=8)),
        ("2026-01-12", at(days=7)),
        ("2026-02-02", at(days=14)),
    ]
    assert types(stream(runtime, live)) == ["OperationCreated"]

    position = answer["position"]
    now = read(client, admin, f"/v1/operations/{operation}", position)
    assert [(o["due_date"], o["status"], o["late"]) for o in now["occurrences"]] == [
        ("2026-01-05", "completed", False),
        ("2026-01-12", "skipped", False),
        ("2026-01-19", "scheduled", True),
        ("2026-01-26", "scheduled", True),
        ("2026-02-02", "scheduled", True),
    ]
    then = read(client, admin, f"/v1/operations/{operation}", position, as_of=iso(at(hours=4)))
    assert [(o["due_date"], o["status"]) for o in then["occurrences"]] == [
        ("2026-01-05", "scheduled"),
        ("2026-01-12", "scheduled"),
        ("2026-01-19", "scheduled"),
        ("2026-01-26", "scheduled"),
    ]
