"""One router per resource of the command API."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute

from services.command.routes import (
    goals,
    imports,
    issues,
    members,
    operations,
    projects,
    teams,
    tokens,
)
from services.command.routes.common import describe_roles
from services.infrastructure.http import include_routes


def include_command_api(app: FastAPI) -> None:
    """Every command route under ``/v1``, and the token routes. Each declares the least role
    that may call it and takes ``Run`` (or, for tokens, ``Caller``), the dependency that
    authorises the caller for that role (tests check that every route does)."""
    for module in (teams, members, goals, projects, issues, operations, imports, tokens):
        describe_roles(module.router.routes)
        include_routes(app, module.router, prefix="/v1")


def command_routes() -> list[APIRoute]:
    """Every route that runs one command (paths without ``/v1``): what an import line may name.
    Imports themselves are not among them."""
    return [
        route
        for module in (teams, members, goals, projects, issues, operations)
        for route in module.router.routes
        if isinstance(route, APIRoute)
    ]
