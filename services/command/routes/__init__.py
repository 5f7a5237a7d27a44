"""One router per resource of the command API."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from services.command.deps import authorize
from services.command.routes import goals, issues, members, operations, projects, teams


def command_router() -> APIRouter:
    """Every command route under ``/v1``; each is authorised by its role in one dependency."""
    router = APIRouter(prefix="/v1", dependencies=[Depends(authorize)])
    for module in (teams, members, goals, projects, issues, operations):
        router.include_router(module.router)
    return router
