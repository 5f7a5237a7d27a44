"""Routers that turn away paths outside their routes' fixed beginnings route as any router does."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.infrastructure.http import Routes, include_routes


def _app() -> tuple[FastAPI, Routes, Routes]:
    teams = Routes()
    items = Routes()

    @teams.get("/teams/{team_id}")
    def team(team_id: str) -> dict[str, str]:
        return {"team": team_id}

    @teams.post("/teams")
    def create_team() -> dict[str, str]:
        return {"created": "team"}

    @items.get("/items{suffix}")
    def item(suffix: str) -> dict[str, str]:
        return {"item": suffix}

    app = FastAPI()
    include_routes(app, teams, prefix="/v1")
    include_routes(app, items, prefix="/v1")
    return app, teams, items


def test_each_router_knows_the_fixed_beginnings_of_its_paths() -> None:
    _, teams, items = _app()

    assert teams.beginnings == ("/v1/teams",)
    assert items.beginnings == ("/v1/items",)


def test_requests_reach_their_routes_whichever_router_holds_them() -> None:
    app, _, _ = _app()
    client = TestClient(app)

    assert client.get("/v1/teams/t1").json() == {"team": "t1"}
    assert client.post("/v1/teams").json() == {"created": "team"}
    assert client.get("/v1/items.csv").json() == {"item": ".csv"}


def test_a_path_no_router_begins_is_404_and_a_known_path_with_another_method_is_405() -> None:
    app, _, _ = _app()
    client = TestClient(app)

    assert client.get("/v1/projects/p1").status_code == 404
    assert client.get("/v2/teams/t1").status_code == 404
    assert client.delete("/v1/teams/t1").status_code == 405
