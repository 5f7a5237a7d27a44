"""Every route by every caller: exactly the allowed calls succeed; a refused one writes nothing.

The routes are read from the app itself, so a route added without an entry in
``permissions_routes.ROUTES`` fails the test. Each entry names its *kind* of call and how to call
it; ``ALLOWED`` says, once for each kind, which callers may. A caller allowed a call gets fresh
objects (made by an admin) so that its call can succeed; the refused callers share one set. The
outcome, summed up by kind, is the permission matrix of ``docs/reliability.md``, which must say
the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Route

from services.app import build_runtime, create_app
from services.infrastructure.settings import Settings
from services.infrastructure.sqlite import SQLiteBackend
from services.projections.runner import read_state
from services.projections.views import all_projections
from services.web.page import WebRoute
from tests.api.permissions_routes import ROUTES
from tests.api.permissions_world import ROLES, UNAUTHENTICATED, World, build_world
from tests.conftest import FrozenClock, wait_until

ALLOWED: dict[str, frozenset[str]] = {
    "open": frozenset(ROLES),
    "read": frozenset({"admin", "lead", "manager", "member", "viewer"}),
    "work": frozenset({"admin", "lead", "manager", "member"}),
    "team": frozenset({"admin", "lead"}),
    "tick": frozenset({"admin", "lead", "manager"}),
    "admin": frozenset({"admin"}),
}
KINDS = {
    "open": "Health, readiness, metrics and the API's documentation",
    "read": "Queries: views, objects and lists, history, insights, the event feed",
    "work": "Work: issues, occurrences, key-result check-ins, project health",
    "team": "Manage a team and its projects, goals and operations",
    "tick": "Tick operations (a manager's tick schedules the teams they lead)",
    "admin": "Create teams, name leads, register members, import, manage tokens",
}
CALLERS = {
    "admin": "admin",
    "lead": "manager leading the team",
    "manager": "manager not leading it",
    "member": "member",
    "viewer": "viewer",
    "none": "no token",
    "expired": "expired token",
    "revoked": "revoked token",
}


# The test


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, path) the app answers, read from its routers however they nest."""

    def walk(routes: list[BaseRoute], prefix: str) -> Iterator[tuple[str, str]]:
        for route in routes:
            # FastAPI includes a router as a route of its own that keeps the router whole.
            included = getattr(route, "original_router", None)
            if included is not None:
                context = getattr(route, "include_context", None)
                yield from walk(included.routes, prefix + getattr(context, "prefix", ""))
            elif isinstance(route, WebRoute):
                # The workspace's pages: signed in with a cookie, not a bearer token, and
                # checked page by page in tests/web (test_access.py).
                continue
            elif isinstance(route, Route):
                for method in sorted(route.methods or ()):
                    if method != "HEAD":
                        yield method, prefix + route.path

    return walk(app.routes, "")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, FastAPI]]:
    """One app on SQLite with every view's worker, over the organisation of ``build_world``.
    Tokens are trusted for a tenth of a second, so revoking one waits no longer."""
    directory = tmp_path_factory.mktemp("permissions")
    backend = SQLiteBackend(str(directory / "workledger.sqlite3"))
    clock = FrozenClock()
    settings = Settings(data_dir=directory, token_check_seconds=0.1)
    runtime = build_runtime(settings, clock=clock, backend=backend)
    app = create_app(runtime)
    with TestClient(app, raise_server_exceptions=False) as client:
        built = build_world(client, runtime, clock)
        last = runtime.store.last_position()
        names = [projection.name for projection in all_projections()]

        def caught_up() -> bool:
            states = [read_state(backend, name) for name in names]
            return all(state is not None and state.position >= last for state in states)

        wait_until(caught_up, 30, "every view has applied the organisation")
        yield built, app
    runtime.event_feed.close()
    backend.close()


@pytest.fixture(scope="module")
def outcomes(world: tuple[World, FastAPI]) -> dict[tuple[str, str, str], int]:
    """The status of every route for every caller (a refused call's status is ``-1`` when it
    wrote anything)."""
    w, app = world
    seen: dict[tuple[str, str, str], int] = {}
    for method, path in sorted(set(app_routes(app))):
        if (method, path) not in ROUTES:
            continue
        kind, make = ROUTES[(method, path)]
        refused = [role for role in ROLES if role not in ALLOWED[kind]]
        if refused:
            call = make(w)
            before = w.runtime.store.last_position()
            for role in refused:
                seen[(method, path, role)] = w.send(call, role)
            if w.runtime.store.last_position() != before:
                for role in refused:
                    seen[(method, path, role)] = -1
        for role in sorted(ALLOWED[kind]):
            seen[(method, path, role)] = w.send(make(w), role)
    return seen


def test_every_route_of_the_app_has_an_entry_and_every_entry_a_route(
    world: tuple[World, FastAPI],
) -> None:
    _, app = world
    routes = set(app_routes(app))

    assert sorted(routes - set(ROUTES)) == [], "routes the permission table doesn't know"
    assert sorted(set(ROUTES) - routes) == [], "entries of routes the app doesn't have"


def test_exactly_the_allowed_calls_succeed_and_refusals_are_401_or_403(
    outcomes: dict[tuple[str, str, str], int],
) -> None:
    wrong = []
    for (method, path, role), status in sorted(outcomes.items()):
        kind = ROUTES[(method, path)][0]
        if role in ALLOWED[kind]:
            expected = "2xx"
            right = 200 <= status < 300
        else:
            expected = "401" if role in UNAUTHENTICATED else "403"
            right = str(status) == expected
        if not right:
            wrong.append(f"{method} {path} by {role}: {status}, not {expected}")

    assert wrong == []


def permission_matrix(outcomes: dict[tuple[str, str, str], int]) -> str:
    """The outcome by kind of call and caller, as the Markdown table of the docs."""
    lines = [
        "| kind of call (routes) | " + " | ".join(CALLERS.values()) + " |",
        "|---|" + "---|" * len(CALLERS),
    ]
    for kind, text in KINDS.items():
        routes = [key for key, (of, _) in ROUTES.items() if of == kind]
        cells = []
        for role in CALLERS:
            statuses = {outcomes[(method, path, role)] for method, path in routes}
            succeeded = {200 <= status < 300 for status in statuses}
            cells.append("some" if len(succeeded) > 1 else "yes" if True in succeeded else "no")
        lines.append(f"| {text} ({len(routes)}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def test_the_reliability_document_holds_the_matrix_this_test_finds(
    outcomes: dict[tuple[str, str, str], int],
) -> None:
    document = Path(__file__).parents[2] / "docs" / "reliability.md"
    text = document.read_text()
    start, end = "<!-- permissions -->\n", "<!-- /permissions -->"
    found = text[text.index(start) + len(start) : text.index(end)]

    expected = permission_matrix(outcomes)
    assert found == expected, (
        "docs/reliability.md's permission matrix is not what the test finds; put this between "
        f"its <!-- permissions --> markers:\n{expected}"
    )
