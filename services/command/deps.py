"""Dependencies of the command routes, as ``Annotated`` aliases: one place for all of them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal
from uuid import UUID

import orjson
from fastapi import Depends, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel

from contracts.inputs import canonical_uuid
from domain.catalog import Aggregate
from services.command.authority import EVERY_TEAM, Authority, leading
from services.command.handler import Action, CommandContext, CommandHandler
from services.command.outcomes import Accepted
from services.command.scheduler import Scheduler
from services.infrastructure.http import ProblemError, authenticate
from services.infrastructure.http_observer import correlation_of
from services.infrastructure.ids import new_id
from services.infrastructure.tokens import Principal

Role = Literal["member", "manager", "admin"]
MEMBER: Final = "member"
MANAGER: Final = "manager"
ADMIN: Final = "admin"
# Where a command route declares the least role that may call it (see ``routes.common``).
ROLE_EXTENSION = "x-workledger-role"

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
# What the OpenAPI document says ``If-Match`` holds: ``*``, or a version as the ETag gives it.
_IF_MATCH_PATTERN = r'^\s*(\*|(W/)?"?[0-9]{1,18}"?)\s*$'


async def get_scheduler(request: Request) -> Scheduler:
    scheduler: Scheduler = request.app.state.scheduler
    return scheduler


def required_role(route: object) -> str:
    """The least role a command route declared; ``admin`` for one that declared none."""
    extra = getattr(route, "openapi_extra", None) or {}
    role: str = extra.get(ROLE_EXTENSION, ADMIN)
    return role


def _authorized(request: Request, principal: Principal) -> Principal:
    """The caller, if their role may run this route's command; a ``403`` otherwise."""
    needed = required_role(request.scope.get("route"))
    if not principal.may(needed):
        raise ProblemError(
            403,
            "forbidden",
            f"this command needs the {needed} role; the token has {principal.role}",
        )
    return principal


def authority_of(principal: Principal, needed: str) -> Authority:
    """How far the caller's command reaches: a manager using a manager's powers reaches the
    teams their member leads; any other caller allowed the route reaches everything it may."""
    if principal.role == MANAGER and needed == MANAGER:
        return leading(principal.member_id)
    return EVERY_TEAM


def command_context(request: Request, principal: Principal, needed: str) -> CommandContext:
    """The context of a command the caller runs with the powers of the role ``needed``: its
    actor, time, correlation and causation, and how far it reaches."""
    clock: Callable[[], datetime] = request.app.state.clock
    correlation = _uuid_header(request, "x-correlation-id") or correlation_of(request)
    causation = _uuid_header(request, "x-causation-id") or new_id()
    return CommandContext(
        actor=principal.actor,
        principal=str(principal.token_id),
        now=clock(),
        correlation_id=correlation,
        causation_id=causation,
        authority=authority_of(principal, needed),
    )


def _uuid_header(request: Request, name: str) -> UUID | None:
    value = request.headers.get(name)
    if value is None:
        return None
    try:
        return canonical_uuid(value)
    except ValueError:
        raise ProblemError(
            400,
            "validation_error",
            f"{name} must be a UUID",
            errors=[{"field": name, "message": "must be a UUID"}],
        ) from None


def parse_if_match(value: str | None) -> int | None:
    """The version ``If-Match`` asks for; ``None`` for none or ``*``, which asks only that the
    object exist (RFC 9110), as every command on an object already does."""
    if value is None or value.strip() == "*":
        return None
    match = _ETAG.match(value.strip())
    if match is None:
        raise ProblemError(
            400,
            "validation_error",
            'If-Match must be a version as the ETag gives it, such as "3"',
            errors=[{"field": "If-Match", "message": "not a version"}],
        )
    return int(match.group(1))


def parse_idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not _KEY.match(value):
        raise ProblemError(
            400,
            "validation_error",
            "Idempotency-Key must be 1 to 200 visible ASCII characters",
            errors=[{"field": "Idempotency-Key", "message": "1 to 200 visible ASCII characters"}],
        )
    return value


@dataclass
class CommandRunner:
    """Runs one command for a route and turns the outcome into an HTTP answer."""

    handler: CommandHandler
    context: CommandContext
    principal: Principal
    request: Request
    if_match: int | None
    idempotency_key: str | None

    def __call__(
        self,
        action: Action,
        *,
        target: tuple[Aggregate[Any, Any, Any], UUID] | None = None,
        payload: BaseModel | None = None,
    ) -> Response:
        self._require_active_member()
        accepted = self.handler.execute(
            self.context,
            action,
            target=target,
            if_match=self.if_match,
            idempotency_key=self.idempotency_key,
            fingerprint=self._fingerprint(payload),
        )
        return _respond(accepted, {"ETag": f'"{accepted.body["version"]}"'})

    def once(
        self, run: Callable[[], tuple[int, dict[str, Any]]], *, payload: BaseModel | None = None
    ) -> Response:
        """A command whose work is itself safe to repeat: ``run`` answers ``(status, body)``,
        and a retry with the same ``Idempotency-Key`` replays the first answer."""
        self._require_active_member()
        accepted = self.handler.answer_once(
            self.context,
            run,
            idempotency_key=self.idempotency_key,
            fingerprint=self._fingerprint(payload),
        )
        return _respond(accepted, {})

    def _require_active_member(self) -> None:
        member_id = self.principal.member_id
        if member_id is not None and not self.handler.member_is_active(self.context, member_id):
            raise ProblemError(403, "forbidden", "the token's member is deactivated")

    def _fingerprint(self, payload: BaseModel | None) -> str:
        """What a retry with the same ``Idempotency-Key`` must repeat: the route and the body.
        Without a key nothing is compared, so nothing is computed."""
        if self.idempotency_key is None:
            return ""
        digest = hashlib.sha256()
        digest.update(f"{self.request.method} {self.request.url.path}\n".encode())
        if payload is not None:
            digest.update(payload.model_dump_json(exclude_unset=True).encode())
        return digest.hexdigest()


def _respond(accepted: Accepted, headers: dict[str, str]) -> Response:
    if accepted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        orjson.dumps(accepted.body), accepted.status, headers=headers, media_type="application/json"
    )


async def command_runner(
    request: Request,
    if_match: Annotated[
        str | None, Header(alias="If-Match", json_schema_extra={"pattern": _IF_MATCH_PATTERN})
    ] = None,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", json_schema_extra={"pattern": _KEY.pattern})
    ] = None,
) -> CommandRunner:
    """The caller authorised for the route, the command's context and its conditions.

    One dependency rather than a tree of them (caller, role, context): FastAPI's solving of
    each dependency costs more than the dependency itself, on every command.
    """
    principal = _authorized(request, await authenticate(request))
    handler: CommandHandler = request.app.state.command_handler
    return CommandRunner(
        handler,
        command_context(request, principal, required_role(request.scope.get("route"))),
        principal,
        request,
        parse_if_match(if_match),
        parse_idempotency_key(idempotency_key),
    )


async def authorized_caller(request: Request) -> Principal:
    """The caller, if their role may call the route: for routes that run no command of the log
    (tokens), which declare their role as command routes do."""
    return _authorized(request, await authenticate(request))


Run = Annotated[CommandRunner, Depends(command_runner)]
Caller = Annotated[Principal, Depends(authorized_caller)]
SchedulerDep = Annotated[Scheduler, Depends(get_scheduler)]
