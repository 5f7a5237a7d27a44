"""API tokens as an admin manages them: what creating one takes, and how each is shown.

A token's secret is answered once, when it is created; it is stored only as a hash.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema

from contracts.commands import Body
from contracts.inputs import Id

Role = Literal["admin", "manager", "member", "viewer"]
TokenStatus = Literal["active", "expired", "revoked"]


def aware_moment(value: Any) -> datetime:
    """``value`` as a ``datetime`` with a zone, if it is one or is one written in ISO 8601; a
    ``ValueError`` otherwise (a bare date, a number of seconds or a time without a zone)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a time in ISO 8601, such as 2026-12-31T17:00:00Z") from None
    else:
        raise ValueError("must be a time in ISO 8601, such as 2026-12-31T17:00:00Z")
    if moment.tzinfo is None:
        raise ValueError("must be a time with its zone, such as 2026-12-31T17:00:00Z")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # Year 9999 with a zone west of UTC is past the last moment a time can hold.
        raise ValueError("must be a time before the year 10000 in UTC") from None


Moment = Annotated[
    datetime,
    BeforeValidator(aware_moment),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A moment with its zone, ``2026-12-31T17:00:00Z``."""


class CreateToken(Body):
    role: Role
    member_id: Id | None = Field(
        None, description="The member the token acts as: what it does is recorded as theirs."
    )
    expires_at: Moment | None = Field(
        None, description="When the token stops being accepted; without it, it never expires."
    )


class TokenInfo(BaseModel):
    """A token as it is kept: everything but its secret."""

    id: UUID
    role: Role
    member_id: UUID | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(
        description="When it was last used, to within a minute; null if never."
    )
    revoked_at: datetime | None
    status: TokenStatus = Field(description="`active`, or why it is refused: `expired`, `revoked`.")


class TokenCreated(TokenInfo):
    token: str = Field(
        description="The secret, to send as `Authorization: Bearer <token>`: "
        "answered this once, and kept nowhere."
    )


class TokenList(BaseModel):
    items: list[TokenInfo]
    next_cursor: str | None
