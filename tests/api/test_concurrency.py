"""Commands racing each other over HTTP, on SQLite and on PostgreSQL.

Each test releases its requests together from a barrier, so they really overlap in the server:
what it checks is what the log holds afterwards — no lost update, no duplicate, no cycle.
"""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient
from httpx2 import Response

from services.app import Runtime
from tests.api.conftest import Org
from tests.api.helpers import (
    Headers,
    assert_accepted,
    assert_problem,
    concurrently,
    create_issue,
    create_member,
    create_project,
    events_after,
    issue_body,
    last_position,
    log,
    member_body,
    of_type,
    stream,
    transition,
)


def test_of_two_writers_with_the_same_if_match_exactly_one_wins_and_the_other_gets_412(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issues = [create_issue(client, admin, org.team_id) for _ in range(5)]
    before = last_position(runtime)

    def edit(n: int) -> Response:
        return client.patch(
            f"/v1/issues/{issues[n // 2]}",
            json={"title": f"Title {n}"},
            headers={**admin, "If-Match": '"1"'},
        )

    answers = concurrently(10, edit)

    written = events_after(runtime, before)
    for index, issue_id in enumerate(issues):
        pair = answers[2 * index : 2 * index + 2]
        assert sorted(a.status_code for a in pair) == [200, 412], [a.text for a in pair]
        [winner] = [a for a in pair if a.status_code == 200]
        [loser] = [a for a in pair if a.status_code == 412]
        assert assert_accepted(winner, 200)["version"] == 2
        assert assert_problem(loser, 412, "version_mismatch")["current_version"] == 2
        [event] = [e for e in written if str(e.stream_id) == issue_id]
        assert event.data.title == f"Title {answers.index(winner)}"
    assert len(written) == len(issues)


def test_concurrent_edits_without_if_match_lose_no_update(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)

    answers = concurrently(
        16,
        lambda n: client.patch(
            f"/v1/issues/{issue_id}", json={"title": f"Title {n}"}, headers=admin
        ),
    )

    accepted = [a for a in answers if a.status_code == 200]
    assert len(accepted) == len(answers), [a.text for a in answers if a not in accepted]
    events = stream(runtime, issue_id)
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    assert len(of_type(events, "IssueRetitled")) == len(accepted)
    versions = sorted(assert_accepted(a, 200)["version"] for a in accepted)
    assert versions == list(range(2, len(events) + 1))
    last = max(accepted, key=lambda a: int(a.json()["version"]))
    assert events[-1].data.title == f"Title {answers.index(last)}"


def test_concurrent_transitions_without_if_match_keep_the_workflow_chain_intact(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)

    answers = concurrently(
        16,
        lambda n: client.post(
            f"/v1/issues/{issue_id}/transition",
            json={"status": "todo" if n % 2 == 0 else "backlog"},
            headers=admin,
        ),
    )

    accepted = [a for a in answers if a.status_code == 200]
    for answer in answers:
        if answer.status_code != 200:
            assert_problem(answer, 409, "invalid_transition")
    assert accepted
    events = stream(runtime, issue_id)
    moves = of_type(events, "IssueTransitioned")
    assert len(moves) == len(accepted)
    assert len(events) == 1 + len(moves)
    status = "backlog"
    for move in moves:
        assert move.data.from_status == status
        status = move.data.to_status
    versions = sorted(assert_accepted(a, 200)["version"] for a in accepted)
    assert versions == list(range(2, len(events) + 1))


def test_twenty_concurrent_retries_with_one_idempotency_key_create_one_issue(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)
    before = last_position(runtime)
    headers = {**admin, "Idempotency-Key": "create-the-payout-retry-issue"}
    body = issue_body(org.team_id, project_id=project_id)

    answers = concurrently(20, lambda _: client.post("/v1/issues", json=body, headers=headers))

    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    assert answers[0].json()["key"] == "PAY-1"
    originals = [a for a in answers if "Idempotent-Replayed" not in a.headers]
    assert len(originals) == 1
    assert {a.headers.get("Idempotent-Replayed") for a in answers} == {None, "true"}
    assert [e.type for e in events_after(runtime, before)] == ["ProjectIssueAdded", "IssueCreated"]


def test_of_concurrent_registrations_with_one_email_exactly_one_succeeds(
    client: TestClient, admin: Headers, runtime: Runtime
) -> None:
    emails = ["grace@example.com", "Grace@Example.com", "GRACE@EXAMPLE.COM"] * 2

    answers = concurrently(
        len(emails),
        lambda n: client.post("/v1/members", json=member_body(emails[n]), headers=admin),
    )

    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 1, 409: len(emails) - 1}, [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert_problem(answer, 409, "already_exists", field="email")
    [registered] = of_type(log(runtime), "MemberRegistered")
    assert registered.data.email == "grace@example.com"


def test_of_concurrent_dependencies_a_on_b_and_b_on_a_at_most_one_is_recorded(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    pairs = [
        (create_issue(client, admin, org.team_id), create_issue(client, admin, org.team_id))
        for _ in range(6)
    ]

    def depend(n: int) -> Response:
        a, b = pairs[n // 2]
        waiter, blocker = (a, b) if n % 2 == 0 else (b, a)
        return client.post(
            f"/v1/issues/{waiter}/dependencies", json={"blocked_by_id": blocker}, headers=admin
        )

    answers = concurrently(2 * len(pairs), depend)

    added = of_type(log(runtime), "IssueDependencyAdded")
    for index, (a, b) in enumerate(pairs):
        pair = answers[2 * index : 2 * index + 2]
        assert {x.status_code for x in pair} <= {200, 409}, [x.text for x in pair]
        assert [x.status_code for x in pair].count(200) <= 1, [x.text for x in pair]
        for answer in pair:
            if answer.status_code != 200:
                assert_problem(answer, 409, answer.json()["code"])
                assert answer.json()["code"] == "dependency_cycle"
        edges = {(str(e.stream_id), str(e.data.blocked_by_id)) for e in added}
        assert not {(a, b), (b, a)} <= edges
        assert len(edges & {(a, b), (b, a)}) == [x.status_code for x in pair].count(200)


def test_concurrent_issues_in_one_project_get_distinct_consecutive_keys(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    project_id = create_project(client, admin, org.member_id, org.team_id)
    body = issue_body(org.team_id, project_id=project_id)

    answers = concurrently(12, lambda _: client.post("/v1/issues", json=body, headers=admin))

    created = [a for a in answers if a.status_code == 201]
    assert len(created) == len(answers), [a.text for a in answers if a not in created]
    keys = sorted((a.json()["key"] for a in created), key=lambda k: int(k.split("-")[1]))
    assert keys == [f"PAY-{n}" for n in range(1, len(created) + 1)]
    assert len(of_type(log(runtime), "IssueCreated")) == len(created)


def test_no_issue_is_assigned_to_a_member_after_their_concurrent_deactivation(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    assignee_id = create_member(client, admin)
    issues = [create_issue(client, admin, org.team_id) for _ in range(8)]

    def act(n: int) -> Response:
        if n == len(issues):
            return client.post(f"/v1/members/{assignee_id}/deactivate", headers=admin)
        return client.post(
            f"/v1/issues/{issues[n]}/assign", json={"assignee_id": assignee_id}, headers=admin
        )

    answers = concurrently(len(issues) + 1, act)

    assert_accepted(answers[-1], 200)
    for answer in answers[:-1]:
        if answer.status_code != 200:
            assert_problem(answer, 409, answer.json()["code"])
            assert answer.json()["code"] == "member_deactivated"
    events = log(runtime)
    [deactivated] = of_type(events, "MemberDeactivated")
    assigned = of_type(events, "IssueAssigned")
    assert len(assigned) == [a.status_code for a in answers[:-1]].count(200)
    assert all(e.position < deactivated.position for e in assigned)


def test_concurrent_blocks_and_comments_on_one_issue_are_each_recorded_once(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issue_id = create_issue(client, admin, org.team_id)
    transition(client, admin, issue_id, "in_progress")

    answers = concurrently(
        6,
        lambda n: client.post(
            f"/v1/issues/{issue_id}/block" if n % 2 == 0 else f"/v1/issues/{issue_id}/comments",
            json={"reason": f"reason {n}"} if n % 2 == 0 else {"body": f"comment {n}"},
            headers=admin,
        ),
    )

    ok = [a for a in answers if a.status_code in (200, 201)]
    for answer in answers:
        if answer not in ok:
            assert answer.json()["code"] != "conflict", answer.text
    events = stream(runtime, issue_id)
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    assert len(events) == 2 + len(ok)
