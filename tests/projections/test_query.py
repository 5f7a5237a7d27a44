"""What every view and list does with ``min_position``: it waits, bounded, until the view has
applied that position, and past the bound answers 409 with the position it has applied."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from services.app import Runtime
from services.infrastructure.store import MAX_POSITION
from tests.api.helpers import Headers, assert_problem, created, last_position

# One route of each view (a fixed id: test ids must be the same in every collecting process).
PATHS = [
    "/v1/views/portfolio",
    "/v1/views/workload",
    "/v1/views/queue/7d0c2f4e-58a1-4b6e-9a43-1c5e8f20b6d9",
    "/v1/history",
    "/v1/teams",
]
WAIT = 0.3


@pytest.mark.parametrize("path", PATHS)
def test_a_view_still_short_of_min_position_after_the_wait_answers_409_with_its_position(
    runtime: Runtime, client: TestClient, admin: Headers, path: str
) -> None:
    runtime.read_models.max_wait = WAIT
    created(client.post("/v1/teams", json={"name": "Payments"}, headers=admin))
    written = last_position(runtime)
    ahead = written + 1_000

    started = time.monotonic()
    response = client.get(path, params={"min_position": ahead}, headers=admin)
    waited = time.monotonic() - started

    body = assert_problem(response, 409, "not_caught_up")
    assert body["min_position"] == ahead
    assert 0 <= body["position"] <= written
    assert response.headers["retry-after"] == "1"
    assert waited >= WAIT
    caught_up = client.get(path, params={"min_position": written}, headers=admin)
    assert caught_up.status_code in (200, 404), caught_up.text


@pytest.mark.parametrize("min_position", ["-1", str(MAX_POSITION + 1), "latest"])
def test_a_min_position_that_is_no_log_position_is_a_validation_problem(
    client: TestClient, admin: Headers, min_position: str
) -> None:
    response = client.get(
        "/v1/views/portfolio", params={"min_position": min_position}, headers=admin
    )
    assert_problem(response, 422, "validation_error", field="min_position")
