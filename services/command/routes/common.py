"""What every command route declares: its answer, its errors, and the least role that may call it.

The role is declared at the route, shown in the OpenAPI document as part of the route's
description, and checked by ``Run`` (a route whose role is missing needs an admin, so a forgotten
declaration fails closed).
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel

from contracts.answers import CommandAccepted
from services.command.deps import ADMIN, MANAGER, MEMBER, ROLE_EXTENSION, Role, required_role
from services.infrastructure.http import problem_responses

__all__ = ["ADMIN", "MANAGER", "MEMBER", "RESPONSES", "command", "describe_roles"]

WHO: dict[str, str] = {
    MEMBER: "any member, manager or admin (not a viewer)",
    MANAGER: "a manager or an admin",
    ADMIN: "an admin",
}

RESPONSES = problem_responses(400, 403, 404, 408, 409, 412, 413, 415)


def command(
    role: Role, *, created: bool = False, answer: type[BaseModel] = CommandAccepted
) -> dict[str, Any]:
    """The route arguments of a command that ``role`` (or a higher one) may run."""
    return {
        "status_code": 201 if created else 200,
        "response_model": answer,
        "responses": RESPONSES,
        "openapi_extra": {ROLE_EXTENSION: role},
    }


def describe_roles(routes: list[Any]) -> None:
    """Adds who may call each command route to its description in the OpenAPI document."""
    for route in routes:
        if isinstance(route, APIRoute):
            who = f"**Who may call it:** {WHO[required_role(route)]}."
            route.description = f"{route.description}\n\n{who}" if route.description else who
