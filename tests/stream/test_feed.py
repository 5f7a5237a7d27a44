"""``GET /v1/events``: the log as CloudEvents, a page at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from services.app import Runtime
from services.stream.feed import EventFeed
from tests.api.helpers import assert_problem
from tests.conftest import bearer
from tests.stream.conftest import assert_matches_its_schema, feed_app
from tests.stream.workload import Organisation, record_changes, record_every_kind_of_event

Headers = dict[str, str]
# Parsing parameters and checking tokens don't touch the store: one backend is enough.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(feed_app(runtime, EventFeed(runtime.store))) as test_client:
        yield test_client


@pytest.fixture
def viewer(runtime: Runtime) -> Headers:
    return bearer(runtime.tokens.create("viewer"))


@pytest.fixture
def organisation(runtime: Runtime) -> Organisation:
    return record_every_kind_of_event(runtime)


def page(client: TestClient, headers: Headers, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def test_pages_follow_the_whole_log_in_order_with_no_gap_or_repeat(
    runtime: Runtime, client: TestClient, viewer: Headers, organisation: Organisation
) -> None:
    head = runtime.store.last_position()
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 7}
    while True:
        body = page(client, viewer, **params)
        seen.extend(int(event["sequence"]) for event in body["items"])
        for event in body["items"]:
            assert_matches_its_schema(event)
        if body["next_cursor"] is None:
            break
        params = {"limit": 7, "cursor": body["next_cursor"]}
    assert seen == list(range(1, head + 1))
    assert body["position"] == head
    assert [e["id"] for e in page(client, viewer, limit=1000)["items"]] == [
        str(e.event_id) for e in runtime.store.read(0, head)
    ]


@sqlite_only
def test_a_caught_up_reader_polls_with_after_and_gets_only_newer_events(
    runtime: Runtime, client: TestClient, viewer: Headers, organisation: Organisation
) -> None:
    caught_up = page(client, viewer, limit=1000)
    assert caught_up["next_cursor"] is None
    assert page(client, viewer, after=caught_up["position"])["items"] == []
    record_changes(runtime, organisation.issue_ids, 3)
    newer = page(client, viewer, after=caught_up["position"])
    assert [int(e["sequence"]) for e in newer["items"]] == [
        caught_up["position"] + n for n in (1, 2, 3)
    ]
    assert {e["type"] for e in newer["items"]} == {"workledger.issue.commented.v2"}


def test_type_and_object_filters_select_events(
    runtime: Runtime, client: TestClient, viewer: Headers, organisation: Organisation
) -> None:
    incident = organisation.issue_ids[1]
    record_changes(runtime, (incident,), 2)
    log = runtime.store.read(0, 1000)
    comments = page(client, viewer, type="workledger.issue.commented")["items"]
    assert [e["id"] for e in comments] == [
        str(e.event_id) for e in log if e.type == "IssueCommented"
    ]
    assert {e["type"] for e in comments} == {"workledger.issue.commented.v2"}
    of_incident = page(client, viewer, object_id=str(incident), limit=1000)["items"]
    assert [e["id"] for e in of_incident] == [
        str(e.event_id) for e in log if e.stream_id == incident
    ]
    assert {e["subject"] for e in of_incident} == {f"issue/{incident}"}
    several = page(
        client,
        viewer,
        type=["workledger.issue.assigned.v1", "workledger.team.created"],
        limit=1000,
    )["items"]
    assert {e["type"] for e in several} == {
        "workledger.issue.assigned.v1",
        "workledger.team.created.v1",
    }


@sqlite_only
def test_a_type_filtered_poll_moves_past_events_of_other_types(
    runtime: Runtime, client: TestClient, viewer: Headers, organisation: Organisation
) -> None:
    head = runtime.store.last_position()
    record_changes(runtime, organisation.issue_ids, 3)
    body = page(client, viewer, after=head, type="workledger.issue.assigned")
    assert body == {"items": [], "next_cursor": None, "position": head + 3}


@sqlite_only
def test_a_filtered_page_may_be_short_and_says_where_to_go_on(
    runtime: Runtime, client: TestClient, viewer: Headers, organisation: Organisation
) -> None:
    incident = organisation.issue_ids[1]
    first = page(client, viewer, object_id=str(incident), limit=2)
    assert len(first["items"]) == 2
    assert first["next_cursor"] == str(first["position"])
    rest = page(client, viewer, object_id=str(incident), limit=1000, cursor=first["next_cursor"])
    assert rest["next_cursor"] is None
    positions = [int(e["sequence"]) for e in first["items"] + rest["items"]]
    assert positions == sorted(positions)
    assert len(positions) == len(
        [e for e in runtime.store.read(0, 1000) if e.stream_id == incident]
    )


@sqlite_only
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": -1}, "after"),
        ({"after": 2**63}, "after"),
        ({"cursor": str(2**63)}, "cursor"),
        ({"cursor": "²"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"cursor": "abc"}, "cursor"),
        ({"type": "workledger.issue.exploded.v1"}, "type"),
        ({"type": ["workledger.issue.commented.v1", "workledger.issue.commented.v2"]}, "type"),
        ({"object_id": "not-an-id"}, "object_id"),
    ],
)
def test_bad_parameters_are_problems(
    client: TestClient, viewer: Headers, params: dict[str, Any], field: str
) -> None:
    response = client.get("/v1/events", params=params, headers=viewer)
    assert_problem(response, 422, "validation_error", field=field)


@sqlite_only
def test_the_feed_needs_a_token(client: TestClient) -> None:
    assert_problem(client.get("/v1/events"), 401, "unauthorized")
    assert_problem(client.get("/v1/events", headers=bearer("wl_not-a-token")), 401, "unauthorized")


@sqlite_only
def test_an_unknown_object_has_no_events(client: TestClient, viewer: Headers) -> None:
    body = page(client, viewer, object_id=str(uuid4()))
    assert body == {"items": [], "next_cursor": None, "position": 0}
