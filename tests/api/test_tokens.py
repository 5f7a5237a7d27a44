"""Tokens: created, listed and revoked by an admin; expiring; refused by every process once
revoked; stored only as a hash; their last use recorded at most once a minute."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from services.app import Runtime
from services.infrastructure.tokens import TokenStore
from tests.api.conftest import Org
from tests.api.helpers import Headers, assert_problem, create_member, issue_body
from tests.conftest import FrozenClock, bearer


def _create(client: TestClient, admin: Headers, **body: object) -> dict[str, object]:
    response = client.post("/v1/tokens", json=body, headers=admin)
    assert response.status_code == 201, response.text
    answer: dict[str, object] = response.json()
    return answer


def _works(client: TestClient, token: str, team_id: str) -> int:
    """The status of a command sent with ``token``."""
    return client.post("/v1/issues", json=issue_body(team_id), headers=bearer(token)).status_code


@pytest.fixture
def feed_closed_after(runtime: Runtime) -> Iterator[None]:
    """The runtime's event feed, closed before its store: a stream started its watcher."""
    yield
    runtime.event_feed.close()


# Creating and listing


def test_a_token_s_secret_is_answered_once_and_kept_only_as_a_hash(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org, clock: FrozenClock
) -> None:
    expires = (clock() + timedelta(days=30)).isoformat()

    created = _create(client, admin, role="member", member_id=org.member_id, expires_at=expires)
    listed = client.get("/v1/tokens", headers=admin).json()["items"]

    secret = str(created["token"])
    assert secret.startswith("wl_")
    assert created["role"] == "member"
    assert created["member_id"] == org.member_id
    assert created["status"] == "active"
    assert created["expires_at"] is not None
    mine = [item for item in listed if item["id"] == created["id"]]
    assert mine == [{key: value for key, value in created.items() if key != "token"}]
    assert _works(client, secret, org.team_id) == 201
    stored = runtime.backend.fetchall("SELECT * FROM workledger_tokens")
    assert all(secret not in str(value) for row in stored for value in row)


def test_tokens_are_listed_a_page_at_a_time_in_the_order_they_were_made(
    client: TestClient, admin: Headers, clock: FrozenClock
) -> None:
    made = []
    for _ in range(3):
        clock.advance(timedelta(seconds=1))
        made.append(_create(client, admin, role="viewer")["id"])

    first = client.get("/v1/tokens", params={"limit": 2}, headers=admin).json()
    rest = client.get(
        "/v1/tokens", params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin
    ).json()

    ids = [item["id"] for item in [*first["items"], *rest["items"]]]
    assert ids[-3:] == made
    assert rest["next_cursor"] is None


def test_a_token_needs_a_known_active_member_and_an_expiry_ahead_with_its_zone(
    client: TestClient, admin: Headers, runtime: Runtime, clock: FrozenClock
) -> None:
    gone = create_member(client, admin)
    client.post(f"/v1/members/{gone}/deactivate", headers=admin)
    before = runtime.backend.fetchall("SELECT COUNT(*) FROM workledger_tokens")
    past = (clock() - timedelta(minutes=1)).isoformat()

    def sent(**body: object) -> Response:
        return client.post("/v1/tokens", json={"role": "member", **body}, headers=admin)

    assert_problem(sent(member_id=str(UUID(int=9))), 404, "not_found", field="member_id")
    assert_problem(sent(member_id=gone), 409, "member_deactivated", field="member_id")
    unrepresentable = "9999-12-31T23:00:00-14:00"
    for expires in (past, "2027-01-01T00:00:00", "2027-01-01", 1_900_000_000, unrepresentable):
        assert_problem(sent(expires_at=expires), 422, "validation_error", field="expires_at")
    assert_problem(sent(role="owner"), 422, "validation_error", field="role")
    assert runtime.backend.fetchall("SELECT COUNT(*) FROM workledger_tokens") == before


def test_only_an_admin_creates_lists_or_revokes_tokens(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    target = _create(client, admin, role="viewer")["id"]
    member_token = bearer(runtime.tokens.create("member", UUID(org.member_id)))
    others = [bearer(runtime.tokens.create(role)) for role in ("viewer", "manager")]
    count = runtime.backend.fetchall("SELECT COUNT(*) FROM workledger_tokens")

    for headers in (member_token, *others):
        created = client.post("/v1/tokens", json={"role": "admin"}, headers=headers)
        assert_problem(created, 403, "forbidden")
        assert_problem(client.get("/v1/tokens", headers=headers), 403, "forbidden")
        assert_problem(client.delete(f"/v1/tokens/{target}", headers=headers), 403, "forbidden")
    assert_problem(client.get("/v1/tokens"), 401, "unauthorized")
    assert runtime.backend.fetchall("SELECT COUNT(*) FROM workledger_tokens") == count
    kept = runtime.tokens.get(UUID(str(target)))
    assert kept is not None
    assert kept.revoked_at is None


# Expiry and revocation


def test_an_expired_token_is_refused_from_the_moment_it_expires(
    client: TestClient, admin: Headers, org: Org, clock: FrozenClock
) -> None:
    expires = (clock() + timedelta(hours=1)).isoformat()
    secret = str(_create(client, admin, role="member", expires_at=expires)["token"])
    assert _works(client, secret, org.team_id) == 201

    clock.advance(timedelta(hours=1))

    refused = client.post("/v1/issues", json=issue_body(org.team_id), headers=bearer(secret))
    assert_problem(refused, 401, "unauthorized")
    listed = client.get("/v1/tokens", headers=admin).json()["items"]
    assert [item["status"] for item in listed if item["expires_at"]] == ["expired"]


def test_a_revoked_token_is_refused_as_soon_as_revoking_answers(
    client: TestClient, admin: Headers, org: Org
) -> None:
    created = _create(client, admin, role="member")
    secret = str(created["token"])
    assert _works(client, secret, org.team_id) == 201

    revoked = client.delete(f"/v1/tokens/{created['id']}", headers=admin)
    again = client.delete(f"/v1/tokens/{created['id']}", headers=admin)

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    refused = client.post("/v1/issues", json=issue_body(org.team_id), headers=bearer(secret))
    assert_problem(refused, 401, "unauthorized")
    assert_problem(client.delete(f"/v1/tokens/{UUID(int=5)}", headers=admin), 404, "not_found")


def test_revoking_waits_until_no_other_process_still_trusts_the_token(runtime: Runtime) -> None:
    backend = runtime.backend
    check = 0.3
    serving = TokenStore(backend, clock=runtime.clock, check_seconds=check)
    revoking = TokenStore(backend, clock=runtime.clock, check_seconds=check)
    secret = serving.create("viewer")
    principal = serving.authenticate(secret)
    assert principal is not None
    assert serving.cached(secret) == principal

    started = time.monotonic()
    revoking.revoke(principal.token_id)

    assert time.monotonic() - started >= check
    assert serving.cached(secret) is None
    assert serving.authenticate(secret) is None


def test_a_process_trusts_a_token_it_checked_for_check_seconds_and_then_looks_again(
    runtime: Runtime,
) -> None:
    backend = runtime.backend
    check = 0.2
    serving = TokenStore(backend, clock=runtime.clock, check_seconds=check)
    secret = serving.create("viewer")
    principal = serving.authenticate(secret)
    assert principal is not None
    # Revoked behind its back, without waiting (as no revocation through the API or CLI does).
    backend.execute("UPDATE workledger_tokens SET revoked_at = '2026-03-02T09:00:00+00:00'")

    assert serving.cached(secret) == principal
    time.sleep(check)
    assert serving.cached(secret) is None
    assert serving.authenticate(secret) is None


def test_a_token_s_last_use_is_written_at_most_once_a_minute(
    runtime: Runtime, clock: FrozenClock
) -> None:
    tokens = runtime.tokens
    secret = tokens.create("viewer")
    principal = tokens.authenticate(secret)
    assert principal is not None
    first = clock()

    clock.advance(timedelta(seconds=59))
    tokens.authenticate(secret)
    after_59s = tokens.get(principal.token_id)
    clock.advance(timedelta(seconds=1))
    tokens.authenticate(secret)
    after_60s = tokens.get(principal.token_id)

    assert after_59s is not None
    assert after_60s is not None
    assert after_59s.last_used_at == first
    assert after_60s.last_used_at == clock()


def test_tokens_made_before_expiry_existed_keep_working(runtime: Runtime) -> None:
    backend = runtime.backend
    backend.execute("DROP TABLE IF EXISTS workledger_tokens")
    backend.execute(
        "CREATE TABLE workledger_tokens (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE,"
        " role TEXT NOT NULL, member_id TEXT, created_at TEXT NOT NULL, revoked_at TEXT)"
    )
    backend.execute(
        "INSERT INTO workledger_tokens (id, token_hash, role, created_at) VALUES (%s, %s, %s, %s)",
        (
            str(UUID(int=1)),
            hashlib.sha256(b"wl_old").hexdigest(),
            "viewer",
            "2026-01-01T00:00:00+00:00",
        ),
    )

    tokens = TokenStore(backend)
    old = tokens.get(UUID(int=1))

    assert old is not None
    assert (old.expires_at, old.last_used_at, old.status(old.created_at)) == (None, None, "active")
    assert tokens.authenticate("wl_old") == old.principal
    assert tokens.authenticate(tokens.create("viewer")) is not None


@pytest.mark.usefixtures("feed_closed_after")
def test_a_live_event_stream_goes_on_while_its_token_is_valid(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    viewer = bearer(runtime.tokens.create("viewer"))

    with client.stream("GET", "/v1/events/stream", headers=viewer) as stream:
        lines = stream.iter_lines()
        assert next(lines) == "retry: 2000"
        client.post("/v1/issues", json=issue_body(org.team_id), headers=admin)
        first = next(line for line in lines if line.startswith("data:"))

    assert '"workledger.issue.created.v1"' in first


@pytest.mark.usefixtures("feed_closed_after")
def test_a_live_event_stream_ends_at_its_next_event_once_its_token_is_revoked(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    issued = runtime.tokens.issue("viewer")
    received: list[str] = []

    with client.stream("GET", "/v1/events/stream", headers=bearer(issued.secret)) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        assert next(lines) == "retry: 2000"
        runtime.tokens.revoke(issued.record.id)
        client.post("/v1/issues", json=issue_body(org.team_id), headers=admin)
        received.extend(lines)

    assert not [line for line in received if line.startswith("data:")]
    refused = client.get("/v1/events/stream", headers=bearer(issued.secret))
    assert_problem(refused, 401, "unauthorized")
