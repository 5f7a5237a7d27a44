"""Fixtures of the HTTP API tests: one reusable app, a small organisation, tokens of each role."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from services.app import Runtime, build_runtime, create_app
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from tests.api.helpers import Headers, create_member, create_team
from tests.conftest import FrozenClock, bearer


class ReusableApp:
    """One app from ``create_app``, served in turn over each test's own runtime.

    Building the app costs about 0.3 s (FastAPI analyses every route when the app is made and
    again on its first request), far more than a test of the API itself. So the app is made once,
    over a *shell* runtime, and each test copies its runtime's parts into the shell, which
    ``create_app``'s lifespan and routes read, and into ``app.state``. Whatever ``create_app``
    puts in ``app.state`` must be the shell or one of its parts: anything else fails loudly here
    rather than leak from one test into another.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.shell = dataclasses.replace(runtime, _started=False)
        self.app: FastAPI = create_app(self.shell)
        self.settings = runtime.settings
        self.state_parts: dict[str, str] = {}
        for key, value in self.app.state._state.items():
            if value is self.shell:
                continue
            names = [
                f.name for f in dataclasses.fields(Runtime) if getattr(runtime, f.name) is value
            ]
            if not names:
                raise AssertionError(
                    f"create_app put {key!r} in app.state, which is not a part of the runtime: "
                    "tests/api/conftest.py can't give each test its own"
                )
            self.state_parts[key] = names[0]

    def serve(self, runtime: Runtime) -> FastAPI:
        """The app, now over ``runtime``."""
        data_dir = self.settings.data_dir
        assert runtime.settings.model_copy(update={"data_dir": data_dir}) == self.settings, (
            "the reusable app was made with other settings"
        )
        for part in dataclasses.fields(Runtime):
            setattr(self.shell, part.name, getattr(runtime, part.name))
        for key, name in self.state_parts.items():
            setattr(self.app.state, key, getattr(runtime, name))
        return self.app

    def release(self, runtime: Runtime) -> None:
        """What the app's lifespan changed in the shell (it stops the runtime) goes back to
        ``runtime``, as if the app had been made over it."""
        for part in dataclasses.fields(Runtime):
            setattr(runtime, part.name, getattr(self.shell, part.name))


_reusable: list[ReusableApp] = []


@pytest.fixture
def runtime(backend: Backend, clock: FrozenClock, tmp_path: Path) -> Iterator[Runtime]:
    """The root suite's runtime, without projections: the command API only writes the log,
    and reading it into views is tested where the views are. Making the views' tables and
    starting and stopping their workers would triple the time of every test here.
    """
    built = build_runtime(
        Settings(data_dir=tmp_path), clock=clock, backend=backend, run_workers=False, views=()
    )
    built.start()
    yield built
    built.stop()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """A client of the app over this test's runtime (on SQLite, then on PostgreSQL).

    Whatever a test asks, the API never answers with a server error: any ``5xx`` fails it.
    """
    if not _reusable:
        _reusable.append(ReusableApp(runtime))
    app = _reusable[0].serve(runtime)
    server_errors: list[str] = []

    def watch(response: Response) -> None:
        if response.status_code >= 500:
            response.read()
            request = response.request
            server_errors.append(f"{request.method} {request.url.path}: {response.text}")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.event_hooks = {"response": [watch]}
        yield test_client
    _reusable[0].release(runtime)
    assert server_errors == [], "the API answered with a server error"


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
