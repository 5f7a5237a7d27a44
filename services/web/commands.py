"""How a page changes work: the command API's own route functions, run for the person signed in.

A form on a page names the route function ``POST /v1/...`` runs and the body it takes. It runs
with the same role check, the same reach (a manager's powers over the teams they lead), the same
context (actor, correlation) and the same ``If-Match``: a page opened on version 3 of an issue
sends ``If-Match: 3``, and an issue changed since is refused with "changed since you opened it",
never overwritten.

A form sends text; the command bodies are strict JSON types. ``FormFields`` reads a form's text
into the types a body takes, and says which field is wrong when one is not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qs
from uuid import UUID

import anyio.to_thread
import orjson
from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import ValidationError

from services.command.deps import CommandRunner, command_context, required_role
from services.command.handler import CommandHandler
from services.command.routes import command_routes
from services.infrastructure.http import ProblemError
from services.web.page import Page
from services.web.session import FORM_TOKEN_FIELD, check_form

T = TypeVar("T")

# A form of the workspace is a few fields; anything larger is not one of ours.
MAX_FORM_BYTES = 64 * 1024

_ROUTES: dict[Callable[..., Any], APIRoute] = {}


def _route_of(endpoint: Callable[..., Any]) -> APIRoute:
    if not _ROUTES:
        _ROUTES.update({route.endpoint: route for route in command_routes()})
    return _ROUTES[endpoint]


class FormFields:
    """A submitted form's fields, read into the types the command bodies take."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self._fields = fields

    def text(self, name: str) -> str | None:
        values = self._fields.get(name)
        if not values:
            return None
        value = values[-1].strip()
        return value or None

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise _invalid(name, "is required")
        return value

    def number(self, name: str) -> float | None:
        return self._parsed(name, float, "must be a number")

    def whole(self, name: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if not value.isdigit():
            raise _invalid(name, "must be a whole number")
        return int(value)

    def uuid(self, name: str) -> UUID | None:
        return self._parsed(name, UUID, "must be chosen from the list")

    def day(self, name: str) -> date | None:
        return self._parsed(name, date.fromisoformat, "must be a date")

    def _parsed(self, name: str, parse: Callable[[str], T], complaint: str) -> T | None:
        """The field read by ``parse``; ``None`` when empty, ``complaint`` when unreadable."""
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError:
            raise _invalid(name, complaint) from None

    def present(self, name: str) -> bool:
        return name in self._fields


def _invalid(field: str, message: str) -> ProblemError:
    return ProblemError(
        422,
        "validation_error",
        f"{field.replace('_', ' ')} {message}",
        errors=[{"field": field, "message": message}],
    )


async def read_form(page: Page) -> FormFields:
    """The form a page sent, once it is known to come from a page of this workspace."""
    request = page.request
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise ProblemError(415, "unsupported_media_type", "a form of this workspace was expected")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise ProblemError(413, "payload_too_large", "the form is larger than any of ours")
    try:
        fields = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise ProblemError(400, "validation_error", "the form is not UTF-8 text") from None
    sent = fields.get(FORM_TOKEN_FIELD, [None])[-1]
    check_form(request, page.session, sent)
    return FormFields(fields)


def body_of(model: type[Any], values: dict[str, Any]) -> Any:
    """The command body ``model`` validated from ``values``, as the API validates a request's:
    a refusal names its fields."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        errors = [
            {"field": ".".join(str(part) for part in item["loc"]), "message": item["msg"]}
            for item in error.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ProblemError(422, "validation_error", detail, errors=errors) from None


async def run_command(
    page: Page,
    endpoint: Callable[..., Response],
    *,
    if_match: int | None = None,
    **arguments: Any,
) -> dict[str, Any]:
    """Runs the command route ``endpoint`` with ``arguments`` for the person signed in; its
    answer (``id``, ``version``, ``position``), or the route's refusal raised as a problem."""
    route = _route_of(endpoint)
    needed = required_role(route)
    principal = page.principal
    if not principal.may(needed):
        raise ProblemError(
            403, "forbidden", f"this needs the {needed} role; you are signed in as {principal.role}"
        )
    request: Request = page.request
    handler: CommandHandler = request.app.state.command_handler
    runner = CommandRunner(
        handler,
        command_context(request, principal, needed),
        principal,
        request,
        if_match,
        None,
    )
    response = await anyio.to_thread.run_sync(partial(endpoint, **arguments, run=runner))
    answer: dict[str, Any] = orjson.loads(bytes(response.body))
    return answer
