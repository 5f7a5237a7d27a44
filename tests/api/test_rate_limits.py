"""Rate limits per token: a bucket for commands and another for queries, ``429 rate_limited``
with ``Retry-After``, and the ``RateLimit-*`` fields on every answer to a limited request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from services.app import build_runtime, create_app
from services.infrastructure.ratelimit import Limit, RateLimiter
from services.infrastructure.settings import Settings
from services.infrastructure.sqlite import SQLiteBackend
from tests.api.helpers import Headers, assert_problem
from tests.conftest import FrozenClock, bearer


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_token_sends_its_burst_at_once_then_waits_for_the_bucket_to_refill() -> None:
    ticks = Ticks()
    limiter = RateLimiter(Limit(rate=2, burst=3), None, clock=ticks)
    token = uuid4()

    taken = [limiter.take(token, "command") for _ in range(4)]

    assert [decision.allowed for decision in taken if decision] == [True, True, True, False]
    refused = taken[-1]
    assert refused is not None
    assert refused.headers == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "2",
        "Retry-After": "1",
    }
    ticks.now += 0.5
    again = limiter.take(token, "command")
    assert again is not None
    assert again.allowed
    assert again.headers["RateLimit-Remaining"] == "0"


def test_commands_and_queries_and_tokens_are_counted_apart() -> None:
    limiter = RateLimiter(Limit(rate=1, burst=1), Limit(rate=1, burst=1), clock=Ticks())
    first, second = uuid4(), uuid4()

    decisions = [
        limiter.take(first, "command"),
        limiter.take(first, "query"),
        limiter.take(second, "command"),
        limiter.take(first, "command"),
    ]

    assert [decision.allowed for decision in decisions if decision] == [True, True, True, False]


def test_a_kind_without_a_limit_is_not_counted() -> None:
    limiter = RateLimiter(None, Limit(rate=1, burst=1), clock=Ticks())

    assert limiter.take(uuid4(), "command") is None


def test_limits_are_off_unless_set_and_a_burst_defaults_to_a_second_s_worth(
    tmp_path: Path,
) -> None:
    assert RateLimiter.from_settings(Settings(data_dir=tmp_path)) is None
    assert Limit.of(0, 10) is None
    assert Limit.of(2.5, 0) == Limit(2.5, 3)
    assert Limit.of(0.1, 0) == Limit(0.1, 1)


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[TestClient, Headers, Headers]]:
    """An app that lets each token send 2 commands and 3 queries (and barely refills), with
    two admin tokens."""
    settings = Settings(
        data_dir=tmp_path,
        rate_limit_commands_per_second=0.001,
        rate_limit_commands_burst=2,
        rate_limit_queries_per_second=0.001,
        rate_limit_queries_burst=3,
    )
    backend = SQLiteBackend(str(tmp_path / "limited.sqlite3"))
    runtime = build_runtime(
        settings, clock=FrozenClock(), backend=backend, run_workers=False, views=()
    )
    first = bearer(runtime.tokens.create("admin"))
    second = bearer(runtime.tokens.create("admin"))
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield client, first, second
    backend.close()


def test_a_token_past_its_limit_is_answered_429_rate_limited_with_retry_after(
    limited: tuple[TestClient, Headers, Headers],
) -> None:
    client, first, second = limited

    commands = [client.post("/v1/teams", json={"name": f"T{n}"}, headers=first) for n in range(3)]
    query = client.get("/v1/tokens", headers=first)
    other = client.post("/v1/teams", json={"name": "Theirs"}, headers=second)

    assert [response.status_code for response in commands] == [201, 201, 429]
    assert [
        commands[0].headers["RateLimit-Remaining"],
        commands[1].headers["RateLimit-Remaining"],
    ] == ["1", "0"]
    refused = commands[2]
    assert_problem(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Limit"] == "2"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert int(refused.headers["RateLimit-Reset"]) >= int(refused.headers["Retry-After"])
    assert query.status_code == 200
    assert query.headers["RateLimit-Limit"] == "3"
    assert other.status_code == 201


def test_a_request_without_a_valid_token_is_refused_before_it_is_counted(
    limited: tuple[TestClient, Headers, Headers],
) -> None:
    client, first, _ = limited

    for _ in range(5):
        assert_problem(client.get("/v1/tokens"), 401, "unauthorized")

    assert client.get("/v1/tokens", headers=first).headers["RateLimit-Remaining"] == "2"
