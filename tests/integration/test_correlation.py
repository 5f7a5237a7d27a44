"""One correlation id follows a command: from its request (given or made, answered in
``X-Correlation-ID``) to its events, its history entries, the request's log line and the line of
every view's worker that applied it; and the log lines hold no token and no body."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.app import Runtime
from services.infrastructure.logs import JsonFormatter, TextFormatter, request_correlation
from tests.api.helpers import log as event_log
from tests.conftest import wait_until

Headers = dict[str, str]


def page_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "workledger.projections" and hasattr(r, "view")]


def views_that_apply(runtime: Runtime, event_type: str) -> set[str]:
    return {
        worker.name
        for worker in runtime.workers
        if worker.projection.event_types is None or event_type in worker.projection.event_types
    }


def test_a_correlation_id_follows_a_command_from_its_request_to_every_view_that_applies_it(
    client: TestClient, admin: Headers, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="workledger")
    correlation = str(uuid.uuid4())

    answer = client.post(
        "/v1/teams", json={"name": "Payments"}, headers=admin | {"X-Correlation-ID": correlation}
    )

    assert answer.status_code == 201, answer.text
    assert answer.headers["X-Correlation-ID"] == correlation
    [event] = event_log(runtime)
    assert event.metadata.correlation_id_text == correlation
    history = client.get(
        "/v1/history", params={"min_position": answer.json()["position"]}, headers=admin
    )
    assert [entry["correlation_id"] for entry in history.json()["items"]] == [correlation]
    [request_line] = [r for r in caplog.records if r.name == "workledger.http"]
    assert request_line.levelno == logging.INFO
    assert request_line.__dict__["correlation_id"] == correlation
    assert request_line.__dict__["route"] == "/v1/teams"
    applying = views_that_apply(runtime, event.type)
    assert {"history", "entities"} <= applying

    def lines_of_every_view() -> bool:
        return {r.__dict__["view"] for r in page_lines(caplog)} >= applying

    wait_until(lines_of_every_view, what="every view applying the event wrote its page's line")
    for line in page_lines(caplog):
        assert line.levelno == logging.INFO
        assert line.__dict__["correlation_ids"] == [correlation]
        assert line.__dict__["position"] == event.position


def test_a_request_without_a_correlation_id_is_given_one_and_answers_it(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    answer = client.post("/v1/teams", json={"name": "Payments"}, headers=admin)

    given = answer.headers["X-Correlation-ID"]
    assert uuid.UUID(given)
    [event] = event_log(runtime)
    assert event.metadata.correlation_id_text == given


def test_a_query_answers_a_correlation_id_too(client: TestClient, admin: Headers) -> None:
    correlation = str(uuid.uuid4())

    answer = client.get("/v1/history", headers=admin | {"X-Correlation-ID": correlation})

    assert answer.headers["X-Correlation-ID"] == correlation


def test_log_lines_hold_neither_the_token_nor_the_body(
    client: TestClient, admin: Headers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="workledger")
    token = admin["Authorization"].removeprefix("Bearer ")

    client.post("/v1/teams", json={"name": "Secret Squirrel Team"}, headers=admin)
    client.post("/v1/teams", json={"name": "Secret Squirrel Team", "nope": 1}, headers=admin)

    formatter = JsonFormatter()
    written = "\n".join(formatter.format(record) for record in caplog.records)
    assert "workledger.http" in written
    assert token not in written
    assert "Secret Squirrel" not in written


def record(message: str, **extra: Any) -> logging.LogRecord:
    made = logging.LogRecord("workledger.test", logging.WARNING, __file__, 1, message, (), None)
    made.__dict__.update(extra)
    return made


def test_a_json_line_carries_the_correlation_id_of_the_request_it_was_written_for() -> None:
    correlation = str(uuid.uuid4())
    reset = request_correlation.set(correlation)
    try:
        line = json.loads(JsonFormatter().format(record("the store is away", view="queue")))
    finally:
        request_correlation.reset(reset)

    assert line["level"] == "warning"
    assert line["logger"] == "workledger.test"
    assert line["message"] == "the store is away"
    assert line["correlation_id"] == correlation
    assert line["view"] == "queue"
    assert line["time"].endswith("+00:00")


def test_a_line_outside_any_request_has_no_correlation_id() -> None:
    line = json.loads(JsonFormatter().format(record("ticked")))

    assert "correlation_id" not in line


def test_a_json_line_of_an_error_carries_its_traceback() -> None:
    try:
        raise ValueError("no such page")
    except ValueError:
        failed = logging.LogRecord(
            "workledger.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )

    line = json.loads(JsonFormatter().format(failed))

    assert "ValueError: no such page" in line["exception"]
    assert "Traceback" in line["exception"]


def test_a_text_line_shows_its_fields_after_the_message() -> None:
    text = TextFormatter().format(record("page applied", view="queue", correlation_ids=["a", "b"]))

    assert text.endswith("WARNING workledger.test page applied  view=queue correlation_ids=a,b")
