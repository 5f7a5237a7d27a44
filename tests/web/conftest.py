"""Fixtures of the workspace's tests: a small demo organisation, its app, and people signed in.

The organisation is the demo's (``services.importing.demo``) at a small scale, imported once per
test process through the same importer as ``workledger demo``, on SQLite, with every view caught
up: every page has real work to show, history to travel through, and insights to explain.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.app import Runtime, build_runtime, create_app
from services.importing.demo import generate
from services.infrastructure.settings import Settings
from services.infrastructure.sqlite import SQLiteBackend
from services.infrastructure.tokens import Role
from services.projections.state import read_state

# Big enough for every kind of object and situation the demo plants, small enough to import in
# a few seconds.
DEMO_SCALE = 0.03
FORM_TOKEN = re.compile(r'name="form_token" value="([0-9a-f]{64})"')


def caught_up(runtime: Runtime, timeout: float = 120.0) -> int:
    """Waits until every view has applied the whole log; its last position."""
    last = runtime.store.last_position()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [read_state(runtime.backend, w.name) for w in runtime.workers]
        if all(state is not None and state.position >= last for state in states):
            return last
        time.sleep(0.05)
    raise AssertionError("the views did not catch up with the demo organisation")


def days_ago(days: float) -> str:
    """The moment ``days`` before now, as a page's ``as_of`` and ``compare`` take it."""
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture(scope="session")
def demo_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    data = tmp_path_factory.mktemp("web-demo")
    backend = SQLiteBackend(str(Path(data) / "workledger.sqlite3"))
    runtime = build_runtime(Settings(data_dir=data), backend=backend)
    lines = list(generate(seed=7, scale=DEMO_SCALE, end=datetime.now(UTC)))
    report = runtime.importer.run("demo", lines)
    assert report.error is None, report.error and report.error.as_dict()
    runtime.start()
    caught_up(runtime)
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def web_app(demo_runtime: Runtime) -> Iterator[FastAPI]:
    app = create_app(demo_runtime)
    with TestClient(app):  # runs the app's lifespan for the whole session
        yield app


@dataclass
class Person:
    """A browser-like client signed in with a token of a role."""

    client: TestClient
    token: str
    member_id: str | None

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def form_token(self, page: str = "/portfolio") -> str:
        found = FORM_TOKEN.search(self.client.get(page).text)
        assert found, "the page carries no form token"
        return found.group(1)

    def post(self, url: str, data: dict[str, Any], **kwargs: Any) -> Any:
        """A form post as a page of the workspace sends it (with its form token)."""
        return self.client.post(
            url, data={"form_token": self.form_token(), **data}, follow_redirects=False, **kwargs
        )


def sign_in(app: FastAPI, runtime: Runtime, role: Role, member_id: str | None = None) -> Person:
    from uuid import UUID

    token = runtime.tokens.create(role, UUID(member_id) if member_id else None)
    client = TestClient(app, base_url="http://testserver", raise_server_exceptions=True)
    answer = client.post("/sign-in", data={"token": token, "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return Person(client, token, member_id)


@pytest.fixture(scope="session")
def admin(web_app: FastAPI, demo_runtime: Runtime) -> Person:
    return sign_in(web_app, demo_runtime, "admin")


@pytest.fixture(scope="session")
def viewer(web_app: FastAPI, demo_runtime: Runtime) -> Person:
    return sign_in(web_app, demo_runtime, "viewer")


@dataclass
class Api:
    """The admin's JSON API, in process. A read first waits until every view has applied the
    whole log, so it answers what every write before it did (an admin reads what any role does)."""

    client: TestClient
    runtime: Runtime

    def get(self, path: str, **params: Any) -> Any:
        caught_up(self.runtime)
        answer = self.client.get(path, params=params or None)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        if method == "GET":
            caught_up(self.runtime)
        answer = self.client.request(method, path, json=body)
        assert answer.status_code in (200, 201), answer.text
        content: dict[str, Any] = answer.json()
        return content

    def new_issue(self, title: str, kind: str = "task", **fields: Any) -> dict[str, Any]:
        """An issue of the test's own (in the demo's first team unless ``fields`` name one), as
        the API answers it once the views have applied it."""
        team = fields.pop("team_id", None) or self.get("/v1/teams")["items"][0]["id"]
        body = {"title": title, "kind": kind, "team_id": team, **fields}
        created = self.client.post("/v1/issues", json=body)
        assert created.status_code == 201, created.text
        issue: dict[str, Any] = self.get(f"/v1/issues/{created.json()['id']}")
        return issue


@pytest.fixture(scope="session")
def api(web_app: FastAPI, demo_runtime: Runtime) -> Api:
    token = demo_runtime.tokens.create("admin")
    client = TestClient(web_app, headers={"Authorization": f"Bearer {token}"})
    return Api(client, demo_runtime)


def main_part(person: Person, url: str) -> str:
    """What a live update fetches: the page's main part alone, without the frame around it."""
    part = person.get(url, headers={"X-Page-Part": "main"})
    assert part.status_code == 200
    assert "<html" not in part.text
    return str(part.text)


def assert_error_page(person: Person, url: str, status: int) -> None:
    """A refusal the person reads as a page of its own, never a crash."""
    answer = person.get(url)
    assert answer.status_code == status, url
    assert answer.headers["content-type"].startswith("text/html"), url
    assert "<h1>" in answer.text


def page_text(person: Person, url: str) -> str:
    """A page as the person reads it, once it answered and has its one ``<h1>``."""
    page = person.get(url)
    assert page.status_code == 200
    assert page.text.count("<h1>") == 1
    return str(page.text)


def past_page(person: Person, url: str, moment: str) -> str:
    """The page as it was at ``moment``, once it answered and says it shows the past."""
    page = person.get(f"{url}{'&' if '?' in url else '?'}as_of={moment}")
    assert page.status_code == 200
    assert 'class="banner"' in page.text
    return str(page.text)
