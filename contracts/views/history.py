"""The history view, as ``GET /v1/history`` and ``GET /v1/history/verify`` answer it.

Every event of the log is one entry: when it occurred and when it was recorded, who caused it,
which object it changed, and each field of that object before and after. The entries form a hash
chain in log order, so a stored entry changed after the fact is detected by ``verify``.

How an entry's ``hash`` is made, so anyone can check it: take the entry as answered here without
``hash`` (``previous_hash`` included), serialise it as JSON with the keys of every object sorted,
no whitespace and UTF-8 text, and take the SHA-256 of those bytes, in lower-case hex. The first
entry's ``previous_hash`` is ``GENESIS_HASH``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

GENESIS_HASH = "0" * 64
"""The ``previous_hash`` of the first entry of the chain."""

ObjectKind = Literal["team", "member", "goal", "project", "issue", "operation"]
IsoTime = Annotated[
    str,
    Field(
        json_schema_extra={"format": "date-time"},
        description="An ISO 8601 time in UTC, exactly as it was hashed.",
        examples=["2026-03-02T09:00:00+00:00"],
    ),
]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="A SHA-256, in hex.")]


class FieldChange(BaseModel):
    """One field of the object, before and after the event (``before`` is null on creation).

    Fields of parts of an object are named by their path: ``key_results.<id>.current``,
    ``milestones.<id>.done``, ``occurrences.<due date>.status``.
    """

    field: str
    before: Any
    after: Any


class HistoryEntry(BaseModel):
    """One event of the log, as the history keeps it."""

    position: int = Field(description="The event's position in the log: the order of the chain.")
    event_id: UUID
    occurred_at: IsoTime
    recorded_at: IsoTime
    actor: str = Field(description="The member who caused the event, or `system`.")
    object_kind: ObjectKind
    object_id: UUID
    event_type: str = Field(examples=["IssueAssigned"])
    team_id: UUID | None = Field(
        description="The object's team (a team's own id for team events); null if it has none."
    )
    correlation_id: UUID
    causation_id: UUID
    data: dict[str, Any] = Field(description="The event's own fields, as recorded.")
    changes: list[FieldChange]
    previous_hash: Sha256
    hash: Sha256


class HistoryPage(BaseModel):
    """A page of entries in position order; ``next_cursor`` is null on the last page."""

    items: list[HistoryEntry]
    next_cursor: str | None


class ChainIntact(BaseModel):
    """Every entry's hash matched its content and the entry before it."""

    valid: Literal[True]
    entries: int
    last_hash: Sha256 = Field(description=f"The last entry's hash ({GENESIS_HASH} if none).")


class ChainBroken(BaseModel):
    """The first entry whose content, link or presence does not hold."""

    valid: Literal[False]
    first_bad_position: int
    reason: str


ChainVerdict = ChainIntact | ChainBroken
