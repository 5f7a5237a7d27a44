"""Fixtures of the HTTP API tests: a small organisation and tokens of every role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from services.app import Runtime
from tests.api.helpers import Headers, create_member, create_team
from tests.conftest import FrozenClock, bearer


@dataclass(frozen=True)
class Org:
    """A team with one active member in it."""

    team_id: str
    member_id: str


@pytest.fixture
def org(client: TestClient, admin: Headers) -> Org:
    team_id = create_team(client, admin)
    member_id = create_member(client, admin, team_ids=[team_id])
    return Org(team_id, member_id)


@pytest.fixture
def now(clock: FrozenClock) -> datetime:
    """The frozen time at which every command of a test occurs."""
    return clock()


@pytest.fixture
def viewer(runtime: Runtime) -> Headers:
    return bearer(runtime.tokens.create("viewer"))


@pytest.fixture
def manager(runtime: Runtime) -> Headers:
    return bearer(runtime.tokens.create("manager"))


@pytest.fixture
def member(runtime: Runtime, org: Org) -> Headers:
    """A member-role token acting as the organisation's member."""
    return bearer(runtime.tokens.create("member", UUID(org.member_id)))
