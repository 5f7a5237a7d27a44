"""``POST /v1/import`` as a request: retried and resumed under its ``Import-ID``, bounded, for
admins only, its progress readable while it runs, and imported history beside live work.

The clock is frozen at Monday 2026-03-02 09:00 UTC; the imported history (``test_import``'s file
of a team, two members, a project and two issues) happens in January 2026. Each test runs on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from services.app import Runtime, build_runtime, create_app
from services.importing.lines import line
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from services.infrastructure.tokens import Role
from tests.api.helpers import (
    Headers,
    assert_problem,
    create_issue,
    create_member,
    create_project,
    create_team,
    last_position,
    log,
    of_type,
    stream,
    types,
)
from tests.api.test_import import (
    ORGANISATION_EVENTS,
    at,
    everything,
    imported,
    iso,
    jsonl,
    organisation,
    payments,
    read,
    reading,
    refused,
    send,
    work,
)
from tests.conftest import FrozenClock, bearer, serving, wait_until

NDJSON = "application/x-ndjson"


@pytest.fixture
def views() -> tuple[str, ...]:
    """The views whose workers run: none unless a test reads some back (``reading``)."""
    return ()


@pytest.fixture
def runtime(
    backend: Backend, clock: FrozenClock, tmp_path: Path, views: tuple[str, ...]
) -> Iterator[Runtime]:
    built = build_runtime(Settings(data_dir=tmp_path), clock=clock, backend=backend, views=views)
    built.start()
    yield built
    built.stop()


def headers(admin: Headers, import_id: str = "payments", **more: str) -> dict[str, str]:
    return {**admin, "Content-Type": NDJSON, "Import-ID": import_id, **more}


# Retried, resumed


def test_the_same_import_again_skips_every_line_and_writes_nothing(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    lines = everything(payments())
    first = imported(send(client, admin, "payments", lines))
    written = last_position(runtime)

    again = imported(send(client, admin, "payments", lines))

    assert again == {
        **first,
        "lines_read": 11,
        "applied": 0,
        "skipped": 11,
        "lines_done": 11,
        "next_line": 12,
        "events": 0,
        "position": written,
    }
    assert first["position"] == written
    assert last_position(runtime) == written


def test_the_same_lines_under_another_import_id_are_refused_at_the_first_create(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    lines = everything(payments())
    imported(send(client, admin, "payments", lines))
    written = last_position(runtime)

    answer = refused(send(client, admin, "payments-again", lines), 409, "already_exists", 1)

    assert (answer["lines_read"], answer["lines_done"], answer["events"]) == (1, 0, 0)
    assert last_position(runtime) == written
    assert_problem(client.get("/v1/import/payments-again", headers=admin), 404, "not_found")


@reading("entities")
@pytest.mark.parametrize(("resume_at", "skipped"), [(9, 0), (1, 8)], ids=["from-line", "whole"])
def test_an_import_stopped_by_a_line_resumes_once_the_line_is_fixed(
    client: TestClient, admin: Headers, runtime: Runtime, resume_at: int, skipped: int
) -> None:
    ids = payments()
    fixed = everything(ids)
    # Line 9 moves the task from todo straight to done, which the workflow refuses.
    done = line(f"POST /v1/issues/{ids.task}/transition", at(days=4), ids.grace, {"status": "done"})
    lines = [*fixed[:8], done, *fixed[9:]]
    refused(send(client, admin, "payments", lines), 409, "invalid_transition", 9)
    stopped = last_position(runtime)

    gap = send(client, admin, "payments", fixed[9:], from_line=10)
    assert_problem(gap, 409, "import_gap")
    assert last_position(runtime) == stopped

    answer = imported(send(client, admin, "payments", fixed[resume_at - 1 :], from_line=resume_at))

    assert answer == {
        "import_id": "payments",
        "first_line": resume_at,
        "lines_read": 12 - resume_at,
        "applied": 3,
        "skipped": skipped,
        "lines_done": 11,
        "next_line": 12,
        "events": last_position(runtime) - stopped,
        "position": last_position(runtime),
        "complete": True,
        "error": None,
    }
    transitions = of_type(stream(runtime, str(ids.task)), "IssueTransitioned")
    assert [e.data.to_status for e in transitions] == ["todo", "in_progress", "done"]
    task = read(client, admin, f"/v1/issues/{ids.task}", answer["position"])
    assert (task["status"], task["updated_at"]) == ("done", iso(at(days=9, hours=7)))


def test_a_new_import_can_not_start_past_its_first_line(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    response = send(client, admin, "payments", everything(payments())[1:], from_line=2)

    problem = assert_problem(response, 409, "import_gap")
    assert problem["detail"] == (
        "import payments has 0 lines in the log; resume it from line 1, not 2"
    )
    assert last_position(runtime) == 0


# Bounds


def test_a_request_takes_at_most_the_configured_lines_and_says_where_to_go_on(
    backend: Backend, clock: FrozenClock, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, import_max_lines=3)
    runtime = build_runtime(settings, clock=clock, backend=backend, views=())
    runtime.start()
    admin = bearer(runtime.tokens.create("admin"))
    ids = payments()
    lines = [*organisation(ids), *work(ids)[:3]]
    try:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
            first = client.post("/v1/import", content=jsonl(lines), headers=headers(admin))
            taken = types(log(runtime))
            rest = client.post(
                "/v1/import",
                content=jsonl(lines[3:]),
                params={"from_line": 4},
                headers=headers(admin),
            )
    finally:
        runtime.stop()

    assert first.status_code == 200, first.text
    assert first.json() == {
        "import_id": "payments",
        "first_line": 1,
        "lines_read": 3,
        "applied": 3,
        "skipped": 0,
        "lines_done": 3,
        "next_line": 4,
        "events": 5,
        "position": 5,
        "complete": False,
        "error": None,
    }
    assert taken == ORGANISATION_EVENTS
    answer = imported(rest)
    assert (answer["first_line"], answer["lines_read"], answer["applied"]) == (4, 3, 3)
    assert (answer["lines_done"], answer["next_line"]) == (6, 7)
    assert answer["position"] == last_position(runtime)


def test_a_line_longer_than_a_request_body_may_be_is_refused_with_its_number(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    ids = payments()
    lines = organisation(ids)
    huge = {"name": "Payments", "weekly_capacity": 40, "description": "x" * 70_000}
    lines[1] = line("POST /v1/teams", at(minutes=5), None, huge)
    limit = runtime.settings.max_body_bytes
    assert len(jsonl(lines[1:2])) > limit

    answer = refused(send(client, admin, "payments", lines), 413, "line_too_long", 2)

    assert (answer["lines_read"], answer["lines_done"], answer["next_line"]) == (2, 1, 2)
    assert types(log(runtime)) == ["TeamCreated"]
    assert answer["error"]["detail"].endswith(f"a line may have at most {limit}")


# Who may import, and how


def test_only_an_admin_may_import_or_read_an_import(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    imported(send(client, admin, "payments", organisation(payments())))
    written = last_position(runtime)
    lines = organisation(payments())
    roles: list[Role] = ["viewer", "member", "manager"]

    for role in roles:
        other = bearer(runtime.tokens.create(role))
        assert_problem(send(client, other, "theirs", lines), 403, "forbidden")
        assert_problem(client.get("/v1/import/payments", headers=other), 403, "forbidden")
    assert_problem(send(client, {}, "theirs", lines), 401, "unauthorized")
    assert_problem(client.get("/v1/import/payments"), 401, "unauthorized")

    assert last_position(runtime) == written
    assert_problem(client.get("/v1/import/theirs", headers=admin), 404, "not_found")


def test_lines_are_taken_as_json_lines_by_any_of_their_names_and_as_nothing_else(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    team = jsonl([line("POST /v1/teams", at(), None, {"name": "Payments"})])

    for content_type in ["application/json", "application/x-www-form-urlencoded"]:
        sent = headers(admin, **{"Content-Type": content_type})
        response = client.post("/v1/import", content=team, headers=sent)
        assert_problem(response, 415, "unsupported_media_type")
    assert last_position(runtime) == 0

    json_lines = [
        "application/x-ndjson",
        "application/jsonl",
        "application/json-lines; charset=utf-8",
        "text/plain",
    ]
    for number, content_type in enumerate(json_lines):
        sent = headers(admin, f"team-{number}", **{"Content-Type": content_type})
        answer = imported(client.post("/v1/import", content=team, headers=sent))
        assert answer["lines_done"] == 1, content_type
    assert types(log(runtime)) == ["TeamCreated"] * 4


def test_an_import_needs_its_id_and_a_line_to_start_from(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    lines = jsonl(organisation(payments()))
    for sent, params, field in [
        ({}, {}, "Import-ID"),
        ({"Import-ID": "pay ments"}, {}, "Import-ID"),
        ({"Import-ID": "p" * 201}, {}, "Import-ID"),
        ({"Import-ID": "payments"}, {"from_line": 0}, "from_line"),
    ]:
        response = client.post(
            "/v1/import",
            content=lines,
            params=params,
            headers={**admin, "Content-Type": NDJSON, **sent},
        )
        assert_problem(response, 422, "validation_error", field=field)

    assert last_position(runtime) == 0


# Progress


def progress(client: TestClient | httpx2.Client, admin: Headers, import_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/import/{import_id}", headers=admin)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_the_progress_of_an_import_is_readable_while_it_runs_and_after(
    runtime: Runtime, admin: Headers
) -> None:
    # Lines are written in batches of two, and the body stops after line 3 until let go: lines
    # 1 and 2 are then in the log, line 3 is read and waits for its batch.
    runtime.importer.batch_lines = 2
    lines = everything(payments())
    go_on = threading.Event()

    def body() -> Iterator[bytes]:
        yield jsonl(lines[:3])
        go_on.wait(30)
        yield jsonl(lines[3:])

    with (
        serving(create_app(runtime)) as url,
        httpx2.Client(base_url=url, timeout=30) as http,
        ThreadPoolExecutor(1) as pool,
    ):
        running = pool.submit(http.post, "/v1/import", content=body(), headers=headers(admin))
        try:
            wait_until(
                lambda: http.get("/v1/import/payments", headers=admin).status_code == 200,
                10,
                "the first batch is written",
            )
            during = progress(http, admin, "payments")
            busy = httpx2.post(
                f"{url}/v1/import", content=jsonl(lines), headers=headers(admin), timeout=30
            )
            written = (len(log(runtime)), last_position(runtime))
        finally:
            go_on.set()
        answer = imported(running.result(30))
        after = progress(http, admin, "payments")

    assert during == {
        "import_id": "payments",
        "first_line": 1,
        "lines_read": 0,
        "applied": 0,
        "skipped": 0,
        "lines_done": 2,
        "next_line": 3,
        "events": written[0],
        "position": written[1],
        "complete": True,
        "error": None,
    }
    assert types(log(runtime))[: written[0]] == ORGANISATION_EVENTS[:3]
    assert_problem(busy, 409, "import_in_progress")
    assert (answer["lines_done"], answer["applied"]) == (11, 11)
    assert after == {
        **during,
        "lines_done": 11,
        "next_line": 12,
        "events": len(log(runtime)),
        "position": last_position(runtime),
    }
    assert answer["position"] == last_position(runtime)


def test_the_progress_of_an_unknown_import_is_404(client: TestClient, admin: Headers) -> None:
    assert_problem(client.get("/v1/import/never-sent", headers=admin), 404, "not_found")


# Imported history beside live work


def test_an_imported_line_can_not_change_live_work_before_its_latest_change(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    live_issue = create_issue(client, admin, create_team(client, admin, "Live ops"))
    ids = payments()
    early = {"body": "Commented in January on an issue opened in March."}
    lines = [
        *organisation(ids),
        line(f"POST /v1/issues/{live_issue}/comments", at(days=1), ids.ada, early),
    ]

    refused(
        send(client, admin, "payments", lines), 409, "occurred_out_of_order", 4, field="occurred_at"
    )

    assert types(stream(runtime, live_issue)) == ["IssueCreated"]


@reading("entities", "history", "portfolio", "queue", "workload")
def test_history_imported_into_a_store_with_live_work_appears_where_it_occurred_in_the_views(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    # Live work, made now through the API.
    live_team = create_team(client, admin, "Live ops")
    lin = create_member(client, admin, "lin@example.com", team_ids=[live_team])
    live_project = create_project(client, admin, lin, live_team, key="OPS")
    live_issue = create_issue(
        client, admin, live_team, project_id=live_project, assignee_id=lin, estimate=2
    )
    ids = payments()

    answer = imported(send(client, admin, "payments", everything(ids)))

    # Each view meets history older than what it applied, and is derived again in the order
    # the facts occurred; a read that waits for the import's position waits for that.
    position = answer["position"]
    past = {"as_of": iso(at(days=5))}  # the task in progress, the bug in triage

    workload = read(client, admin, "/v1/views/workload", position)
    assert [team_figures(team) for team in workload["items"]] == [
        ("Live ops", (1, 2.0), 0, (0, 0.0), 0),
        ("Payments", (0, 0.0), 0, (1, 5.0), 1),
    ]
    workload = read(client, admin, "/v1/views/workload", position, **past)
    assert [team_figures(team) for team in workload["items"]] == [
        ("Payments", (1, 3.0), 1, (1, 5.0), 1),
    ]
    team = read(client, admin, f"/v1/views/workload/{ids.team}", position)
    completed = {week["week"]: week["completed"] for week in team["throughput"]}
    assert completed == {f"2026-W{week:02}": int(week == 3) for week in range(3, 11)}

    portfolio = read(client, admin, "/v1/views/portfolio", position)
    assert [project_figures(project) for project in portfolio["items"]] == [
        ("OPS", 1, (0, 1)),
        ("PAY", 1, (1, 2)),
    ]
    portfolio = read(client, admin, "/v1/views/portfolio", position, **past)
    assert [project_figures(project) for project in portfolio["items"]] == [("PAY", 2, (0, 2))]
    assert portfolio["totals"]["projects"]["proposed"] == 1

    queue = read(client, admin, f"/v1/views/queue/{ids.grace}", position, **past)
    assert [(item["id"], item["status"], item["created_at"]) for item in queue["items"]] == [
        (str(ids.task), "in_progress", iso(at(days=1)))
    ]
    assert read(client, admin, f"/v1/views/queue/{ids.grace}", position)["items"] == []
    queue = read(client, admin, f"/v1/views/queue/{lin}", position)
    assert [item["id"] for item in queue["items"]] == [live_issue]

    verdict = read(client, admin, "/v1/history/verify", position)
    assert (verdict["valid"], verdict["entries"]) == (True, len(log(runtime)))


def team_figures(team: dict[str, Any]) -> tuple[Any, ...]:
    """A team's name, open assigned work, work in progress, unassigned backlog and untriaged."""
    assigned, backlog = team["open_assigned"], team["unassigned_backlog"]
    return (
        team["name"],
        (assigned["count"], assigned["estimate"]),
        team["work_in_progress"],
        (backlog["count"], backlog["estimate"]),
        team["untriaged"],
    )


def project_figures(project: dict[str, Any]) -> tuple[Any, ...]:
    """A project's key, its open issues, and its issues done of all."""
    progress = project["progress"]
    return (
        project["key"],
        project["open_issues"],
        (progress["issues_done"], progress["issues_total"]),
    )
