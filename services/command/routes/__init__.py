"""One router per resource of the command API."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from services.command.deps import authorize
from services.command.routes import goals, issues, members, operations, projects, teams


def include_command_api(app: FastAPI) -> None:
    """Every command route under ``/v1``; each is authorised by its role in one dependency."""
    for module in (teams, members, goals, projects, issues, operations):
        app.include_router(module.router, prefix="/v1", dependencies=[Depends(authorize)])
