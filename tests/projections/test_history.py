"""The history view: every event as an entry with field-level changes, in a verified hash chain.

Given commands over HTTP (so the events are the ones the service really records), then the
entries ``GET /v1/history`` answers; on SQLite and on PostgreSQL. The clock is frozen at
2026-03-02 09:00 UTC unless a test moves it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from contracts.views.history import GENESIS_HASH, HistoryPage
from domain.catalog import EVENT_CLASSES
from domain.team import TeamCreated, TeamRenamed
from services.app import Runtime, build_runtime
from services.infrastructure.codec import EventMetadata
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend, Committed, NewEvent, PendingCommit, StreamAppend
from services.projections.runner import rebuild
from services.projections.views.history import ENTRIES, PROJECTION
from tests.api.conftest import ReusableApp
from tests.api.helpers import Headers, log
from tests.conftest import FrozenClock, bearer


@pytest.fixture
def runtime(backend: Backend, clock: FrozenClock, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime with the history's worker alone (the other views are not under test here);
    the app's lifespan starts and stops it."""
    built = build_runtime(
        Settings(data_dir=tmp_path), clock=clock, backend=backend, views=[PROJECTION.name]
    )
    yield built
    built.stop()


_app: list[ReusableApp] = []


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """A client of one app made once, served over each test's runtime (a new app's first
    request costs far more than a test)."""
    if not _app:
        _app.append(ReusableApp(runtime))
    with TestClient(_app[0].serve(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


def send(
    client: TestClient, headers: Headers, method: str, path: str, body: Any = None
) -> dict[str, Any]:
    response = client.request(method, f"/v1{path}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


def entries(
    client: TestClient, headers: Headers, position: int, **params: Any
) -> list[dict[str, Any]]:
    """Every entry the history answers (one page of up to 500), once it has seen ``position``."""
    response = client.get(
        "/v1/history",
        params={"min_position": position, "limit": 500, **params},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    assert HistoryPage.model_validate(page).model_dump(mode="json") == page
    assert page["next_cursor"] is None
    items: list[dict[str, Any]] = page["items"]
    return items


def verify(client: TestClient, headers: Headers, position: int) -> dict[str, Any]:
    response = client.get("/v1/history/verify", params={"min_position": position}, headers=headers)
    assert response.status_code == 200, response.text
    verdict: dict[str, Any] = response.json()
    return verdict


def changes(entry: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {c["field"]: (c["before"], c["after"]) for c in entry["changes"]}


def entry_table(runtime: Runtime) -> str:
    return runtime.read_models.snapshot("history", None).name(ENTRIES)


def team(client: TestClient, headers: Headers, name: str = "Payments") -> str:
    return str(send(client, headers, "POST", "/teams", {"name": name})["id"])


def member(client: TestClient, headers: Headers, email: str, team_ids: list[str]) -> str:
    body = {
        "name": "Ada Lovelace",
        "email": email,
        "role": "member",
        "weekly_capacity": 20,
        "team_ids": team_ids,
    }
    return str(send(client, headers, "POST", "/members", body)["id"])


def issue(client: TestClient, headers: Headers, team_id: str, **fields: Any) -> dict[str, Any]:
    return send(
        client,
        headers,
        "POST",
        "/issues",
        {"title": "Retry payouts", "kind": "task", "team_id": team_id, **fields},
    )


# Every event, in one scenario


# The fields each event changes, by the history's field model; ``*`` stands for a part's id.
CHANGED_FIELDS: dict[str, set[str]] = {
    "TeamCreated": {
        "name",
        "weekly_capacity",
        "member_ids",
        "working_agreement",
        "agreement_revision",
        "definition_of_done",
    },
    "TeamRenamed": {"name"},
    "TeamCapacitySet": {"weekly_capacity"},
    "TeamMemberAdded": {"member_ids"},
    "TeamMemberRemoved": {"member_ids"},
    "TeamLeadAdded": {"lead_ids"},
    "TeamLeadRemoved": {"lead_ids"},
    "WorkingAgreementUpdated": {"working_agreement", "agreement_revision"},
    "DefinitionOfDoneUpdated": {"definition_of_done"},
    "MemberRegistered": {"name", "email", "role", "weekly_capacity", "active"},
    "MemberRenamed": {"name"},
    "MemberRoleChanged": {"role"},
    "MemberCapacitySet": {"weekly_capacity"},
    "MemberDeactivated": {"active"},
    "MemberReactivated": {"active"},
    "GoalCreated": {
        "title",
        "owner_id",
        "team_id",
        "period_start",
        "period_end",
        "parent_id",
        "status",
    },
    "GoalActivated": {"status"},
    "GoalClosed": {"status"},
    "KeyResultAdded": {
        "key_results.*.title",
        "key_results.*.unit",
        "key_results.*.start",
        "key_results.*.target",
        "key_results.*.current",
    },
    "KeyResultCheckedIn": {"key_results.*.current"},
    "GoalRetitled": {"title"},
    "GoalParentChanged": {"parent_id"},
    "ProjectCreated": {
        "name",
        "key",
        "owner_id",
        "team_id",
        "start_date",
        "target_date",
        "status",
        "goal_ids",
        "health",
        "health_note",
        "issue_count",
    },
    "ProjectRenamed": {"name"},
    "ProjectRescheduled": {"target_date"},
    "ProjectStatusChanged": {"status"},
    "MilestoneAdded": {"milestones.*.name", "milestones.*.due_date", "milestones.*.done"},
    "MilestoneCompleted": {"milestones.*.done"},
    "ProjectGoalLinked": {"goal_ids"},
    "ProjectHealthPosted": {"health", "health_note"},
    "ProjectIssueAdded": {"issue_count"},
    "IssueCreated": {
        "kind",
        "title",
        "description",
        "team_id",
        "project_id",
        "number",
        "key",
        "status",
        "priority",
        "severity",
        "estimate",
        "due_date",
        "labels",
        "parent_id",
        "assignee_id",
        "blocked_reason",
        "blocked_by",
        "goal_ids",
        "affects",
        "watchers",
        "comment_count",
    },
    "IssueRetitled": {"title"},
    "IssueDescriptionChanged": {"description"},
    "IssuePriorityChanged": {"priority"},
    "IssueSeverityChanged": {"severity"},
    "IssueEstimated": {"estimate"},
    "IssueDueDateChanged": {"due_date"},
    "IssueLabelsChanged": {"labels"},
    "IssueParentChanged": {"parent_id"},
    "IssueAssigned": {"assignee_id"},
    "IssueUnassigned": {"assignee_id"},
    "IssueTransitioned": {"status"},
    "IssueBlocked": {"blocked_reason"},
    "IssueUnblocked": {"blocked_reason"},
    "IssueDependencyAdded": {"blocked_by"},
    "IssueDependencyRemoved": {"blocked_by"},
    "IssueLinked": {"affects"},
    "IssueUnlinked": {"affects"},
    "IssueCommented": {"comment_count"},
    "IssueWatcherAdded": {"watchers"},
    "IssueWatcherRemoved": {"watchers"},
    "OperationCreated": {
        "title",
        "team_id",
        "owner_id",
        "assignee_id",
        "cadence",
        "cadence_from",
        "start_date",
        "end_date",
        "runbook",
        "estimate",
        "status",
    },
    "OperationCadenceChanged": {"cadence", "cadence_from"},
    "OperationPaused": {"status"},
    "OperationResumed": {"status"},
    "OperationRetired": {"status"},
    "OccurrenceScheduled": {
        "occurrences.*.id",
        "occurrences.*.assignee_id",
        "occurrences.*.estimate",
        "occurrences.*.status",
        "occurrences.*.note",
    },
    "OccurrenceCompleted": {"occurrences.*.status", "occurrences.*.note"},
    "OccurrenceSkipped": {"occurrences.*.status", "occurrences.*.note"},
    "OperationAssigneeChanged": {"assignee_id"},
    "RunbookEdited": {"runbook"},
}

_PART = re.compile(r"^(key_results|milestones|occurrences)\.[^.]+\.")


def every_event(client: TestClient, h: Headers) -> int:
    """Commands that record every kind of event at least once; the last position written."""
    t = team(client, h)
    send(client, h, "PATCH", f"/teams/{t}", {"name": "Payments Core", "weekly_capacity": 30})
    m = member(client, h, "ada@example.com", [t])
    m2 = member(client, h, "bob@example.com", [])
    send(client, h, "POST", f"/teams/{t}/members", {"member_id": m2})
    send(client, h, "DELETE", f"/teams/{t}/members/{m2}")
    send(client, h, "POST", f"/teams/{t}/leads", {"member_id": m2})
    send(client, h, "DELETE", f"/teams/{t}/leads/{m2}")
    send(client, h, "PUT", f"/teams/{t}/working-agreement", {"text": "Review within a day"})
    send(client, h, "PUT", f"/teams/{t}/definition-of-done", {"items": ["Tested"]})
    send(
        client,
        h,
        "PATCH",
        f"/members/{m2}",
        {"name": "Bob", "role": "manager", "weekly_capacity": 12},
    )
    send(client, h, "POST", f"/members/{m2}/deactivate")
    send(client, h, "POST", f"/members/{m2}/reactivate")
    g = send(
        client,
        h,
        "POST",
        "/goals",
        {
            "title": "Boring payments",
            "owner_id": m,
            "team_id": t,
            "period_start": "2026-01-01",
            "period_end": "2026-06-30",
        },
    )["id"]
    g2 = send(
        client,
        h,
        "POST",
        "/goals",
        {
            "title": "Fewer refunds",
            "owner_id": m,
            "period_start": "2026-01-01",
            "period_end": "2026-06-30",
        },
    )["id"]
    send(client, h, "PATCH", f"/goals/{g2}", {"title": "No refunds", "parent_id": g})
    send(client, h, "POST", f"/goals/{g}/activate")
    kr = send(
        client,
        h,
        "POST",
        f"/goals/{g}/key-results",
        {"title": "Failed payouts", "unit": "number", "start": 100, "target": 10},
    )
    send(
        client,
        h,
        "POST",
        f"/goals/{g}/key-results/{kr['key_result_id']}/check-ins",
        {"value": 40, "note": "halfway"},
    )
    send(client, h, "POST", f"/goals/{g2}/close", {"outcome": "abandoned"})
    p = send(
        client,
        h,
        "POST",
        "/projects",
        {
            "name": "Payouts",
            "key": "PAY",
            "owner_id": m,
            "team_id": t,
            "start_date": "2026-03-01",
            "target_date": "2026-06-30",
            "goal_ids": [g],
        },
    )["id"]
    send(client, h, "PATCH", f"/projects/{p}", {"name": "Payouts v2", "target_date": "2026-07-31"})
    send(client, h, "POST", f"/projects/{p}/status", {"status": "active"})
    send(client, h, "POST", f"/projects/{p}/health", {"health": "at_risk", "note": "vendor"})
    ms = send(
        client, h, "POST", f"/projects/{p}/milestones", {"name": "Beta", "due_date": "2026-04-01"}
    )
    send(client, h, "POST", f"/projects/{p}/milestones/{ms['milestone_id']}/complete")
    i = issue(client, h, t, kind="incident", project_id=p, severity="sev2", labels=["ops"])["id"]
    i2 = issue(client, h, t)["id"]
    send(
        client,
        h,
        "PATCH",
        f"/issues/{i}",
        {
            "title": "Payouts fail",
            "description": "Since 8",
            "priority": "urgent",
            "severity": "sev1",
            "estimate": 3,
            "due_date": "2026-03-05",
            "labels": ["ops", "payouts"],
            "parent_id": i2,
        },
    )
    send(client, h, "POST", f"/issues/{i}/assign", {"assignee_id": m})
    send(client, h, "POST", f"/issues/{i}/assign", {"assignee_id": None})
    send(client, h, "POST", f"/issues/{i}/transition", {"status": "todo"})
    send(client, h, "POST", f"/issues/{i}/block", {"reason": "vendor down"})
    send(client, h, "POST", f"/issues/{i}/unblock")
    send(client, h, "POST", f"/issues/{i}/dependencies", {"blocked_by_id": i2})
    send(client, h, "DELETE", f"/issues/{i}/dependencies/{i2}")
    send(client, h, "POST", f"/issues/{i}/links", {"kind": "affects", "target_id": p})
    send(client, h, "DELETE", f"/issues/{i}/links/affects/{p}")
    send(client, h, "POST", f"/issues/{i}/comments", {"body": "On it"})
    send(client, h, "POST", f"/issues/{i}/watchers", {"member_id": m})
    send(client, h, "DELETE", f"/issues/{i}/watchers/{m}")
    o = send(
        client,
        h,
        "POST",
        "/operations",
        {
            "title": "Reconcile",
            "team_id": t,
            "owner_id": m,
            "cadence": {"every": "day"},
            "start_date": "2026-03-02",
        },
    )["id"]
    send(client, h, "PUT", f"/operations/{o}/cadence", {"cadence": {"every": "week"}})
    send(client, h, "PATCH", f"/operations/{o}", {"assignee_id": m, "runbook": ["Export"]})
    send(client, h, "POST", "/operations/tick", {"until": "2026-03-03"})
    send(client, h, "POST", f"/operations/{o}/occurrences/2026-03-02/complete", {"note": "ok"})
    send(client, h, "POST", f"/operations/{o}/occurrences/2026-03-03/skip", {"note": "holiday"})
    send(client, h, "POST", f"/operations/{o}/pause")
    send(client, h, "POST", f"/operations/{o}/resume")
    return int(send(client, h, "POST", f"/operations/{o}/retire")["position"])


def test_every_event_of_the_log_becomes_one_entry_naming_the_fields_it_changed(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    position = every_event(client, admin)

    history = entries(client, admin, position)

    recorded = log(runtime)
    assert [(e["position"], e["event_type"], e["object_id"]) for e in history] == [
        (event.position, event.type, str(event.stream_id)) for event in recorded
    ]
    assert {e["event_type"] for e in history} == {cls.__name__ for cls in EVENT_CLASSES}
    assert set(CHANGED_FIELDS) == {cls.__name__ for cls in EVENT_CLASSES}
    for entry in history:
        named = {_PART.sub(r"\1.*.", change["field"]) for change in entry["changes"]}
        assert named == CHANGED_FIELDS[entry["event_type"]], entry


# What an entry says


def test_a_created_team_is_an_entry_with_both_times_its_actor_and_every_field_before_null(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    created = send(client, admin, "POST", "/teams", {"name": "Payments", "weekly_capacity": 40})

    [entry] = entries(client, admin, created["position"])

    [event] = log(runtime)
    assert entry["position"] == created["position"]
    assert entry["event_id"] == str(event.event_id)
    assert entry["occurred_at"] == "2026-03-02T09:00:00+00:00"
    assert entry["recorded_at"] == event.recorded_at.isoformat()
    assert entry["actor"] == "system"
    assert (entry["object_kind"], entry["object_id"]) == ("team", created["id"])
    assert entry["event_type"] == "TeamCreated"
    assert entry["team_id"] == created["id"]
    assert entry["correlation_id"] == str(event.metadata.correlation_id)
    assert entry["data"] == {"team_id": created["id"], "name": "Payments", "weekly_capacity": 40.0}
    assert changes(entry) == {
        "name": (None, "Payments"),
        "weekly_capacity": (None, 40.0),
        "member_ids": (None, []),
        "working_agreement": (None, ""),
        "agreement_revision": (None, 0),
        "definition_of_done": (None, []),
    }


def test_a_change_is_shown_against_the_objects_previous_state_with_the_acting_member(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    t = team(client, admin)
    first = member(client, admin, "ada@example.com", [t])
    second = member(client, admin, "bob@example.com", [t])
    i = issue(client, admin, t, assignee_id=first)["id"]
    as_member = bearer(runtime.tokens.create("member", UUID(first)))

    moved = send(client, as_member, "POST", f"/issues/{i}/assign", {"assignee_id": second})

    last = entries(client, admin, moved["position"], object_id=i)[-1]
    assert last["event_type"] == "IssueAssigned"
    assert last["actor"] == first
    assert changes(last) == {"assignee_id": (first, second)}


def test_each_entry_names_its_objects_team_and_objects_without_one_name_none(
    client: TestClient, admin: Headers
) -> None:
    t = team(client, admin)
    m = member(client, admin, "ada@example.com", [])
    g = send(
        client,
        admin,
        "POST",
        "/goals",
        {
            "title": "Org goal",
            "owner_id": m,
            "period_start": "2026-01-01",
            "period_end": "2026-03-31",
        },
    )["id"]
    i = issue(client, admin, t)
    position = send(client, admin, "POST", f"/issues/{i['id']}/transition", {"status": "todo"})[
        "position"
    ]

    teams = {
        (e["object_id"], e["event_type"]): e["team_id"] for e in entries(client, admin, position)
    }

    assert teams == {
        (t, "TeamCreated"): t,
        (m, "MemberRegistered"): None,
        (g, "GoalCreated"): None,
        (i["id"], "IssueCreated"): t,
        (i["id"], "IssueTransitioned"): t,
    }


def test_a_part_of_an_object_is_changed_under_its_path_against_its_own_previous_value(
    client: TestClient, admin: Headers
) -> None:
    m = member(client, admin, "ada@example.com", [])
    g = send(
        client,
        admin,
        "POST",
        "/goals",
        {
            "title": "Faster payouts",
            "owner_id": m,
            "period_start": "2026-01-01",
            "period_end": "2026-03-31",
        },
    )["id"]
    send(client, admin, "POST", f"/goals/{g}/activate")
    kr = send(
        client,
        admin,
        "POST",
        f"/goals/{g}/key-results",
        {"title": "Hours to pay out", "unit": "number", "start": 48, "target": 4},
    )
    kr_id = kr["key_result_id"]
    send(client, admin, "POST", f"/goals/{g}/key-results/{kr_id}/check-ins", {"value": 24})

    checked = send(
        client,
        admin,
        "POST",
        f"/goals/{g}/key-results/{kr_id}/check-ins",
        {"value": 12, "note": "new batch job"},
    )

    last = entries(client, admin, checked["position"], object_id=g)[-1]
    assert changes(last) == {f"key_results.{kr_id}.current": (24.0, 12.0)}
    assert last["data"] == {"kr_id": kr_id, "value": 12.0, "note": "new batch job"}


# Filters and pages


@pytest.fixture
def two_teams(client: TestClient, admin: Headers) -> dict[str, Any]:
    """Two teams, each with an issue; the second team's issue assigned by its member."""
    payments = team(client, admin, "Payments")
    risk = team(client, admin, "Risk")
    m = member(client, admin, "ada@example.com", [risk])
    first = issue(client, admin, payments)["id"]
    second = issue(client, admin, risk)["id"]
    last = send(client, admin, "POST", f"/issues/{second}/assign", {"assignee_id": m})
    return {
        "payments": payments,
        "risk": risk,
        "member": m,
        "first": first,
        "second": second,
        "position": last["position"],
    }


def test_the_object_filter_answers_only_that_objects_entries(
    client: TestClient, admin: Headers, two_teams: dict[str, Any]
) -> None:
    found = entries(client, admin, two_teams["position"], object_id=two_teams["second"])

    assert [e["event_type"] for e in found] == ["IssueCreated", "IssueAssigned"]


def test_the_actor_filter_answers_only_what_that_actor_did(
    client: TestClient, admin: Headers, runtime: Runtime, two_teams: dict[str, Any]
) -> None:
    as_member = bearer(runtime.tokens.create("member", UUID(two_teams["member"])))
    done = send(
        client, as_member, "POST", f"/issues/{two_teams['second']}/transition", {"status": "todo"}
    )

    found = entries(client, admin, done["position"], actor_id=two_teams["member"])

    assert [(e["event_type"], e["object_id"]) for e in found] == [
        ("IssueTransitioned", two_teams["second"])
    ]


def test_the_team_filter_answers_the_team_and_its_objects_entries(
    client: TestClient, admin: Headers, two_teams: dict[str, Any]
) -> None:
    found = entries(client, admin, two_teams["position"], team_id=two_teams["risk"])

    assert [(e["event_type"], e["object_id"]) for e in found] == [
        ("TeamCreated", two_teams["risk"]),
        ("TeamMemberAdded", two_teams["risk"]),
        ("IssueCreated", two_teams["second"]),
        ("IssueAssigned", two_teams["second"]),
    ]


def test_the_kind_filter_answers_only_entries_of_that_kind_of_object(
    client: TestClient, admin: Headers, two_teams: dict[str, Any]
) -> None:
    found = entries(client, admin, two_teams["position"], kind="member")

    assert [(e["event_type"], e["object_id"]) for e in found] == [
        ("MemberRegistered", two_teams["member"])
    ]


def test_since_and_until_answer_the_entries_that_occurred_in_that_range(
    client: TestClient, admin: Headers, clock: FrozenClock
) -> None:
    team(client, admin, "Early")
    clock.advance(timedelta(hours=1))
    middle = team(client, admin, "Middle")
    clock.advance(timedelta(hours=1))
    last = send(client, admin, "POST", "/teams", {"name": "Late"})

    found = entries(
        client,
        admin,
        last["position"],
        since="2026-03-02T10:00:00Z",
        until="2026-03-02T11:00:00Z",
    )

    assert [e["object_id"] for e in found] == [middle]


def test_entries_that_occurred_before_earlier_ones_are_found_in_the_time_they_occurred(
    client: TestClient, admin: Headers, clock: FrozenClock, runtime: Runtime
) -> None:
    early = team(client, admin, "Early")
    clock.advance(timedelta(hours=2))
    late = team(client, admin, "Late")
    # Recorded after the others but occurred before them, as imported history is.
    imported_id = uuid4()
    at = clock() - timedelta(hours=4)
    [outcome] = runtime.store.commit(
        [
            PendingCommit(
                [
                    StreamAppend(
                        imported_id,
                        0,
                        tuple(
                            NewEvent(event, EventMetadata(uuid4(), "system", at, uuid4(), uuid4()))
                            for event in (
                                TeamCreated(imported_id, "Imported", None),
                                TeamRenamed("Imported twice"),
                            )
                        ),
                    )
                ]
            )
        ]
    )
    assert isinstance(outcome, Committed)
    imported = str(imported_id)
    last = {"position": outcome.positions[-1]}

    def found(**params: Any) -> list[tuple[str, str]]:
        return [
            (e["object_id"], e["event_type"])
            for e in entries(client, admin, last["position"], **params)
        ]

    assert found(since="2026-03-02T06:00:00Z", until="2026-03-02T08:00:00Z") == [
        (imported, "TeamCreated"),
        (imported, "TeamRenamed"),
    ]
    assert found(as_of="2026-03-02T10:00:00Z") == [
        (early, "TeamCreated"),
        (imported, "TeamCreated"),
        (imported, "TeamRenamed"),
    ]
    assert found(since="2026-03-02T10:00:00Z") == [(late, "TeamCreated")]
    assert found(as_of="2026-03-02T10:00:00Z", newest_first=True) == [
        (imported, "TeamRenamed"),
        (imported, "TeamCreated"),
        (early, "TeamCreated"),
    ]
    assert verify(client, admin, last["position"])["valid"] is True


def test_pages_walk_the_entries_in_position_order_from_cursor_to_cursor(
    client: TestClient, admin: Headers
) -> None:
    position = 0
    for number in range(5):
        position = send(client, admin, "POST", "/teams", {"name": f"Team {number}"})["position"]
    seen: list[int] = []
    cursor: str | None = None
    pages = 0

    while True:
        params: dict[str, Any] = {"min_position": position, "limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = client.get("/v1/history", params=params, headers=admin).json()
        assert HistoryPage.model_validate(page).model_dump(mode="json") == page
        seen.extend(e["position"] for e in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 5


def test_newest_first_pages_back_from_the_latest_entry(client: TestClient, admin: Headers) -> None:
    position = 0
    for number in range(3):
        position = send(client, admin, "POST", "/teams", {"name": f"Team {number}"})["position"]

    page = client.get(
        "/v1/history",
        params={"min_position": position, "limit": 2, "newest_first": True},
        headers=admin,
    ).json()
    rest = client.get(
        "/v1/history",
        params={"limit": 2, "newest_first": True, "cursor": page["next_cursor"]},
        headers=admin,
    ).json()

    assert [e["position"] for e in page["items"] + rest["items"]] == [3, 2, 1]
    assert rest["next_cursor"] is None


def test_as_of_a_past_moment_answers_only_the_entries_that_had_occurred_by_then(
    client: TestClient, admin: Headers, clock: FrozenClock
) -> None:
    t = team(client, admin)
    clock.advance(timedelta(hours=2))
    renamed = send(client, admin, "PATCH", f"/teams/{t}", {"name": "Payments Core"})

    past = entries(client, admin, renamed["position"], as_of="2026-03-02T10:00:00Z")
    now = entries(client, admin, renamed["position"])

    assert [e["event_type"] for e in past] == ["TeamCreated"]
    assert [e["event_type"] for e in now] == ["TeamCreated", "TeamRenamed"]


def test_malformed_filters_answer_a_problem_naming_the_parameter(
    client: TestClient, admin: Headers
) -> None:
    cases = [
        ({"since": "yesterday"}, 422, "since"),
        ({"until": "2026-13-01"}, 422, "until"),
        ({"kind": "spaceship"}, 422, "kind"),
        ({"object_id": "not-a-uuid"}, 422, "object_id"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, 400, "cursor"),
    ]

    answers = [client.get("/v1/history", params=params, headers=admin) for params, _, _ in cases]

    for answer, (_, status, field) in zip(answers, cases, strict=True):
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in [error["field"] for error in answer.json()["errors"]]


# The chain


def test_each_entry_chains_to_the_one_before_and_verify_answers_valid_with_the_last_hash(
    client: TestClient, admin: Headers
) -> None:
    t = team(client, admin)
    last = send(client, admin, "PATCH", f"/teams/{t}", {"name": "Payments Core"})

    history = entries(client, admin, last["position"])
    verdict = verify(client, admin, last["position"])

    assert history[0]["previous_hash"] == GENESIS_HASH
    assert history[1]["previous_hash"] == history[0]["hash"]
    assert verdict == {"valid": True, "entries": 2, "last_hash": history[1]["hash"]}


def test_an_entrys_hash_is_the_sha256_of_its_content_as_answered(
    client: TestClient, admin: Headers
) -> None:
    t = team(client, admin)
    created = issue(client, admin, t, labels=["ops"], estimate=2.5, due_date="2026-03-09")

    for entry in entries(client, admin, created["position"]):
        content = {name: value for name, value in entry.items() if name != "hash"}
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(canonical.encode()).hexdigest() == entry["hash"]


def test_an_entry_changed_in_the_table_is_named_by_verify_as_the_first_bad_one(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    t = team(client, admin)
    send(client, admin, "PATCH", f"/teams/{t}", {"name": "Payments Core"})
    last = send(client, admin, "PATCH", f"/teams/{t}", {"weekly_capacity": 25})
    tampered = entries(client, admin, last["position"])[1]["position"]

    runtime.backend.execute(
        f"UPDATE {entry_table(runtime)} SET actor = %s WHERE position = %s",
        ("mallory", tampered),
    )

    verdict = verify(client, admin, last["position"])
    assert verdict["valid"] is False
    assert verdict["first_bad_position"] == tampered
    assert "hash" in verdict["reason"]


def test_an_entry_whose_time_index_was_changed_is_named_by_verify(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    t = team(client, admin)
    last = send(client, admin, "PATCH", f"/teams/{t}", {"name": "Payments Core"})
    entries(client, admin, last["position"])

    runtime.backend.execute(
        f"UPDATE {entry_table(runtime)} SET occurred_max = 0 WHERE position = %s",
        (last["position"],),
    )

    verdict = verify(client, admin, last["position"])
    assert verdict["valid"] is False
    assert verdict["first_bad_position"] == last["position"]
    assert "time index" in verdict["reason"]


def test_an_entry_whose_hash_was_recomputed_after_a_change_breaks_the_next_link(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    t = team(client, admin)
    send(client, admin, "PATCH", f"/teams/{t}", {"name": "Payments Core"})
    last = send(client, admin, "PATCH", f"/teams/{t}", {"weekly_capacity": 25})
    first, second, _ = entries(client, admin, last["position"])
    forged = {**first, "actor": "mallory"}
    del forged["hash"]
    forged_hash = hashlib.sha256(
        json.dumps(forged, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()

    runtime.backend.execute(
        f"UPDATE {entry_table(runtime)} SET actor = %s, hash = %s WHERE position = %s",
        ("mallory", forged_hash, first["position"]),
    )

    verdict = verify(client, admin, last["position"])
    assert verdict["valid"] is False
    assert verdict["first_bad_position"] == second["position"]


def test_an_entry_removed_from_the_end_of_the_table_is_named_as_missing(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    t = team(client, admin)
    last = send(client, admin, "PATCH", f"/teams/{t}", {"name": "Payments Core"})
    entries(client, admin, last["position"])

    runtime.backend.execute(
        f"DELETE FROM {entry_table(runtime)} WHERE position = %s", (last["position"],)
    )

    verdict = verify(client, admin, last["position"])
    assert verdict["valid"] is False
    assert verdict["first_bad_position"] == last["position"]


# Rebuilding


def pages(client: TestClient, headers: Headers, position: int) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"min_position": position, "limit": 7}
        if cursor is not None:
            params["cursor"] = cursor
        page: dict[str, Any] = client.get("/v1/history", params=params, headers=headers).json()
        yield page
        cursor = page["next_cursor"]
        if cursor is None:
            return


def test_the_history_rebuilt_from_zero_answers_exactly_as_the_live_one(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    position = every_event(client, admin)
    live = list(pages(client, admin, position))
    live_verdict = verify(client, admin, position)

    rebuild(runtime.store, runtime.backend, PROJECTION, page_size=17)

    assert runtime.read_models.snapshot("history", None).generation == 2
    assert list(pages(client, admin, position)) == live
    assert verify(client, admin, position) == live_verdict
