"""Schema evolution for real: a comment stored as version 1 is read, replayed and published as
version 2, and still served as version 1 to a consumer that asks for it."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import orjson
import pytest
from fastapi.testclient import TestClient

from contracts import commands as body
from domain.catalog import ISSUE
from domain.issue import IssueCommented
from services.app import Runtime
from services.command.actions import issues as issues_actions
from services.command.actions import teams as teams_actions
from services.stream.feed import EventFeed
from tests.conftest import bearer
from tests.stream.conftest import assert_matches_its_schema, feed_app
from tests.stream.workload import created, run

# How the log stores events differs by backend; replaying and serving them does not.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def store_version_1_comment(runtime: Runtime, issue_id: UUID, comment_id: UUID) -> int:
    """Writes the bytes the code before version 2 wrote for a comment; the new position."""
    stored_at = datetime(2025, 11, 3, 14, 30, tzinfo=UTC).isoformat()
    state = orjson.dumps(
        {
            "id": str(uuid4()),
            "type": "IssueCommented",
            "schema_version": 1,
            "actor": "member:grace",
            "occurred_at": stored_at,
            "recorded_at": stored_at,
            "correlation_id": str(uuid4()),
            "causation_id": str(uuid4()),
            "data": {"comment_id": str(comment_id), "author": "member:grace", "body": "Old"},
        }
    )
    version = len(runtime.store.load(issue_id))
    with runtime.backend.write_transaction() as tx:
        (position,) = tx.insert_events([(issue_id, version + 1, "IssueCommented", state)])
    return position


def test_a_stored_version_1_comment_is_read_as_version_2(runtime: Runtime) -> None:
    team_id = created(runtime, teams_actions.create_team(body.CreateTeam(name="Support")))
    issue_id = created(
        runtime,
        issues_actions.create_issue(
            body.CreateIssue(title="Refund", kind="request", team_id=team_id)
        ),
    )
    comment_id = uuid4()
    position = store_version_1_comment(runtime, issue_id, comment_id)

    (recorded,) = runtime.store.read(position - 1, 1)
    assert recorded.position == position
    assert recorded.schema_version == 2
    assert recorded.data == IssueCommented(comment_id, "member:grace", "Old", reply_to=None)
    assert recorded.metadata.actor == "member:grace"


@sqlite_only
def test_an_issue_with_a_version_1_comment_replays_and_takes_new_commands(
    runtime: Runtime,
) -> None:
    team_id = created(runtime, teams_actions.create_team(body.CreateTeam(name="Support")))
    issue_id = created(
        runtime,
        issues_actions.create_issue(
            body.CreateIssue(title="Refund", kind="request", team_id=team_id)
        ),
    )
    store_version_1_comment(runtime, issue_id, uuid4())
    run(runtime, issues_actions.comment_on_issue(issue_id, body.Comment(body="New")))
    state = ISSUE.replay([event.data for event in runtime.store.load(issue_id)])
    assert state is not None
    assert state.comment_count == 2


@sqlite_only
def test_the_feed_serves_version_2_and_version_1_to_whoever_asks_for_it(
    runtime: Runtime,
) -> None:
    team_id = created(runtime, teams_actions.create_team(body.CreateTeam(name="Support")))
    issue_id = created(
        runtime,
        issues_actions.create_issue(
            body.CreateIssue(title="Refund", kind="request", team_id=team_id)
        ),
    )
    old_comment = uuid4()
    store_version_1_comment(runtime, issue_id, old_comment)
    run(runtime, issues_actions.comment_on_issue(issue_id, body.Comment(body="New")))
    headers = bearer(runtime.tokens.create("viewer"))

    with TestClient(feed_app(runtime, EventFeed(runtime.store))) as client:
        latest = client.get(
            "/v1/events", params={"type": "workledger.issue.commented"}, headers=headers
        ).json()["items"]
        pinned = client.get(
            "/v1/events", params={"type": "workledger.issue.commented.v1"}, headers=headers
        ).json()["items"]

    assert [e["type"] for e in latest] == ["workledger.issue.commented.v2"] * 2
    assert latest[0]["data"] == {
        "comment_id": str(old_comment),
        "author": "member:grace",
        "body": "Old",
        "reply_to": None,
    }
    assert [e["type"] for e in pinned] == ["workledger.issue.commented.v1"] * 2
    assert [e["id"] for e in pinned] == [e["id"] for e in latest]
    assert [set(e["data"]) for e in pinned] == [{"comment_id", "author", "body"}] * 2
    assert pinned[0]["dataschema"].endswith("workledger.issue.commented.v1.json")
    for event in latest + pinned:
        assert_matches_its_schema(event)
