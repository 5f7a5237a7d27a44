"""``GET /metrics`` moves as the service works: commands by name and outcome, requests by route
template and status class, the committer's batches, what the views applied and where they stand,
the scheduler's ticks and the connections in use; with no ids in any label."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.app import Runtime, build_runtime, create_app
from services.infrastructure.codec import RecordedEvent
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from services.projections.page_writer import PageWriter
from tests.api.helpers import create_member, create_operation, create_team, unknown_id
from tests.conftest import bearer, wait_until
from tests.integration.scraped import Scrape

Headers = dict[str, str]


def scrape(client: TestClient) -> Scrape:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Scrape.of(response.text)


def views_at(client: TestClient, position: int) -> bool:
    scraped = scrape(client)
    positions = [s.value for s in scraped.samples if s.name == "workledger_view_position"]
    return bool(positions) and min(positions) >= position


def test_commands_are_counted_by_name_and_outcome(client: TestClient, admin: Headers) -> None:
    team = create_team(client, admin)
    stale = client.patch(
        f"/v1/teams/{team}", json={"name": "Refunds"}, headers=admin | {"If-Match": '"9"'}
    )
    invalid = client.post("/v1/teams", json={}, headers=admin)
    unknown = client.patch(f"/v1/teams/{unknown_id()}", json={"name": "X"}, headers=admin)

    scraped = scrape(client)

    assert (stale.status_code, invalid.status_code, unknown.status_code) == (412, 422, 404)
    commands = "workledger_commands_total"
    assert scraped.value(commands, command="create_team", outcome="accepted") == 1
    assert scraped.value(commands, command="update_team", outcome="conflict") == 1
    assert scraped.value(commands, command="create_team", outcome="rejected") == 1
    assert scraped.value(commands, command="update_team", outcome="rejected") == 1
    assert scraped.label_values(commands, "outcome") <= {
        "accepted",
        "rejected",
        "conflict",
        "error",
    }


def test_requests_are_timed_by_route_template_and_status_class(
    client: TestClient, admin: Headers
) -> None:
    team = create_team(client, admin)
    client.patch(f"/v1/teams/{team}", json={"name": "Refunds"}, headers=admin)
    client.get(f"/v1/sprints/{unknown_id()}", headers=admin)

    scraped = scrape(client)

    timed = "workledger_http_request_duration_seconds_count"
    assert scraped.value(timed, method="POST", route="/v1/teams", status_class="2xx") == 1
    assert (
        scraped.value(timed, method="PATCH", route="/v1/teams/{team_id}", status_class="2xx") == 1
    )
    assert scraped.value(timed, method="GET", route="unmatched", status_class="4xx") == 1
    assert scraped.id_like_labels() == []


def test_a_request_without_a_valid_token_is_timed_but_is_no_command(client: TestClient) -> None:
    answer = client.post("/v1/teams", json={"name": "Payments"})

    scraped = scrape(client)

    assert answer.status_code == 401
    timed = "workledger_http_request_duration_seconds_count"
    assert scraped.value(timed, method="POST", route="unmatched", status_class="4xx") == 1
    assert scraped.value("workledger_commands_total") == 0


def test_what_the_views_apply_moves_their_counters_positions_and_lags(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    before = scrape(client)
    team = create_team(client, admin)
    create_member(client, admin, team_ids=[team])
    position = runtime.store.last_position()
    wait_until(lambda: views_at(client, position), what="every view applied the commands")

    after = scrape(client)

    names = {worker.name for worker in runtime.workers}
    assert after.label_values("workledger_view_position", "view") == names
    assert after.value("workledger_log_position") == position
    for view in names:
        assert after.value("workledger_view_position", view=view) == position
        assert after.value("workledger_view_lag_events", view=view) == 0
        assert after.value("workledger_view_lag_seconds", view=view) == 0
        assert after.value("workledger_view_failures_total", view=view) == 0
        assert after.value("workledger_view_pages_applied_total", view=view) > before.value(
            "workledger_view_pages_applied_total", view=view
        )
    history = "workledger_view_events_applied_total"
    assert after.value(history, view="history") - before.value(history, view="history") == position


def test_a_view_whose_worker_fails_counts_its_failures(
    client: TestClient, admin: Headers, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    [worker] = [w for w in runtime.workers if w.name == "portfolio"]

    def broken(writer: PageWriter, event: RecordedEvent) -> None:
        raise RuntimeError("the portfolio can't take this event")

    monkeypatch.setattr(worker.projection, "apply", broken)
    create_team(client, admin)

    wait_until(
        lambda: scrape(client).value("workledger_view_failures_total", view="portfolio") >= 1,
        what="the failure is counted",
    )
    assert scrape(client).value("workledger_view_lag_events", view="portfolio") >= 1


def test_the_committer_and_the_scheduler_are_measured(client: TestClient, admin: Headers) -> None:
    team = create_team(client, admin)
    owner = create_member(client, admin, team_ids=[team])
    create_operation(client, admin, team, owner)

    ticked = client.post("/v1/operations/tick", headers=admin)
    scraped = scrape(client)

    assert ticked.status_code == 200, ticked.text
    assert scraped.value("workledger_committer_batch_size_count") >= 1
    assert scraped.value("workledger_committer_batch_size_sum") >= 3
    assert scraped.value("workledger_committer_commit_duration_seconds_count") >= 1
    assert scraped.value("workledger_scheduler_ticks_total") == 1
    assert scraped.value("workledger_scheduler_occurrences_total") == ticked.json()["scheduled"]
    assert scraped.has("workledger_sse_clients")
    assert scraped.has("workledger_db_pool_connections_in_use")
    assert scraped.has("workledger_db_pool_waiting")


@pytest.fixture
def quiet_runtime(backend: Backend, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime whose workers don't run, so that nothing else takes connections."""
    built = build_runtime(Settings(data_dir=tmp_path), backend=backend, run_workers=False)
    yield built
    built.stop()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_connection_taken_from_the_pool_is_counted_until_it_is_given_back(
    quiet_runtime: Runtime,
) -> None:
    def in_use() -> float:
        body, _ = quiet_runtime.metrics.exposition()
        return Scrape.of(body.decode()).value("workledger_db_pool_connections_in_use")

    idle = in_use()
    with quiet_runtime.backend.transaction():
        taken = in_use()

    assert (idle, taken, in_use()) == (0, 1, 0)


def test_metrics_behind_a_token_answer_only_that_token(backend: Backend, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, metrics_token=SecretStr("scrape-me"))
    runtime = build_runtime(settings, backend=backend, run_workers=False)
    with TestClient(create_app(runtime)) as client:
        anonymous = client.get("/metrics")
        wrong = client.get("/metrics", headers=bearer("scrape-you"))
        right = client.get("/metrics", headers=bearer("scrape-me"))

    assert (anonymous.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert "workledger_log_position" in right.text


def test_two_apps_in_one_process_count_apart(backend: Backend, tmp_path: Path) -> None:
    first = build_runtime(Settings(data_dir=tmp_path), backend=backend, run_workers=False)
    second = build_runtime(Settings(data_dir=tmp_path), backend=backend, run_workers=False)
    with TestClient(create_app(first)) as one, TestClient(create_app(second)) as other:
        create_team(one, bearer(first.tokens.create("admin")))

        assert scrape(one).value("workledger_commands_total") == 1
        assert scrape(other).value("workledger_commands_total") == 0
