"""API tokens: an admin creates, lists and revokes them.

Tokens are not objects of the work model: they live beside the log, not in it, so these routes
answer the token itself rather than ``{id, version, position}``, and take no ``If-Match`` or
``Idempotency-Key`` (an answer kept for a retry would keep the secret).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Request

from contracts.inputs import Id
from contracts.tokens import CreateToken, TokenCreated, TokenInfo, TokenList
from domain.catalog import MEMBER
from domain.member import Member
from services.command.deps import ADMIN, ROLE_EXTENSION, Caller
from services.infrastructure.http import ProblemError, Routes, problem_responses
from services.infrastructure.store import EventStore
from services.infrastructure.tokens import Principal, TokenRecord, TokenStore, UnknownToken

router = Routes(tags=["tokens"])

MAX_PAGE = 500
ADMIN_ONLY: dict[str, Any] = {ROLE_EXTENSION: ADMIN}


def info(record: TokenRecord, now: datetime) -> dict[str, Any]:
    """A token as it is shown: its record and its status now."""
    return {
        "id": record.id,
        "role": record.role,
        "member_id": record.member_id,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "last_used_at": record.last_used_at,
        "revoked_at": record.revoked_at,
        "status": record.status(now),
    }


def member_in_log(store: EventStore, member_id: UUID) -> Member | None:
    """The member ``member_id`` as the log has them; ``None`` if the id names no member."""
    events = [recorded.data for recorded in store.load(member_id)]
    if not events or not isinstance(events[0], MEMBER.created_event):
        return None
    return MEMBER.replay(events)


def _parts(request: Request) -> tuple[TokenStore, Callable[[], datetime], EventStore]:
    state = request.app.state
    return state.tokens, state.clock, state.event_store


def _require_active(store: EventStore, caller: Principal) -> None:
    """A deactivated member's tokens change nothing, as for every command."""
    if caller.member_id is not None:
        member = member_in_log(store, caller.member_id)
        if member is None or not member.active:
            raise ProblemError(403, "forbidden", "the token's member is deactivated")


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenCreated,
    responses=problem_responses(400, 403, 404, 409, 413, 415),
    openapi_extra=ADMIN_ONLY,
)
def create_token(data: CreateToken, caller: Caller, request: Request) -> dict[str, Any]:
    """Creates a token with a role, optionally acting as a member and expiring at a moment.

    The answer holds the token's secret, `token`: it is shown this once and kept only as a
    hash."""
    tokens, clock, store = _parts(request)
    _require_active(store, caller)
    now = clock()
    if data.expires_at is not None and data.expires_at <= now:
        raise ProblemError(
            422,
            "validation_error",
            "expires_at must be in the future",
            errors=[{"field": "expires_at", "message": "must be in the future"}],
        )
    if data.member_id is not None:
        member = member_in_log(store, data.member_id)
        if member is None:
            raise ProblemError(
                404,
                "not_found",
                f"no member with id {data.member_id}",
                errors=[{"field": "member_id", "message": "no such member"}],
            )
        if not member.active:
            raise ProblemError(
                409,
                "member_deactivated",
                "a deactivated member can't be given a token",
                errors=[{"field": "member_id", "message": "deactivated"}],
            )
    created = tokens.issue(data.role, data.member_id, expires_at=data.expires_at)
    return {**info(created.record, now), "token": created.secret}


@router.get(
    "/tokens",
    response_model=TokenList,
    responses=problem_responses(403),
    openapi_extra=ADMIN_ONLY,
)
def list_tokens(
    caller: Caller,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="At most this many.")] = 100,
    cursor: Annotated[
        Id | None, Query(description="The `next_cursor` of the previous page.")
    ] = None,
) -> dict[str, Any]:
    """Every token, in the order they were created, each with its status: active, expired or
    revoked. Secrets are never shown again."""
    tokens, clock, _store = _parts(request)
    now = clock()
    records = tokens.list(after=cursor, limit=limit + 1)
    page = records[:limit]
    more = len(records) > limit
    return {
        "items": [info(record, now) for record in page],
        "next_cursor": str(page[-1].id) if more else None,
    }


@router.delete(
    "/tokens/{token_id}",
    response_model=TokenInfo,
    responses=problem_responses(403, 404),
    openapi_extra=ADMIN_ONLY,
)
def revoke_token(token_id: UUID, caller: Caller, request: Request) -> dict[str, Any]:
    """Revokes a token for good (revoking it again changes nothing). The answer comes once no
    API process accepts the token any more, within `WORKLEDGER_TOKEN_CHECK_SECONDS`."""
    tokens, clock, store = _parts(request)
    _require_active(store, caller)
    try:
        record = tokens.revoke(token_id)
    except UnknownToken as unknown:
        raise ProblemError(404, "not_found", str(unknown)) from None
    return info(record, clock())
