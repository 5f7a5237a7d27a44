"""What a batch of commands commits: the events each appends, the conditions each is written
under (expected versions, unique claims, an idempotency key), and the outcome each gets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import orjson

from services.infrastructure.codec import EventMetadata, JsonObject


@dataclass(frozen=True)
class NewEvent:
    event: Any
    metadata: EventMetadata


@dataclass(frozen=True)
class StreamAppend:
    stream_id: UUID
    expected_version: int
    events: tuple[NewEvent, ...]


@dataclass(frozen=True)
class Claim:
    """A value that only one object may hold, such as a member's email or a project's key."""

    scope: str
    value: str
    owner_id: UUID


@dataclass(frozen=True)
class IdempotencyKey:
    principal: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: JsonObject
    fingerprint: str = ""


class LoadedEvent(Protocol):
    """What deciding needs of a stream's event: the fact, its version and its log position."""

    @property
    def data(self) -> Any: ...

    @property
    def version(self) -> int: ...

    @property
    def position(self) -> int: ...


class LockedReads(Protocol):
    """The log as a command sees it when it is decided again under the write lock: everything
    committed, and what the commands before it in the same batch are writing."""

    @property
    def now(self) -> datetime:
        """The batch's time, taken under the lock."""
        ...

    def load(self, stream_id: UUID, after_version: int = 0) -> Sequence[LoadedEvent]: ...


@dataclass(frozen=True)
class Refused:
    """A command decided again under the write lock, on the latest state, that its rules (or
    its ``If-Match``) now refuse."""

    error: Exception


Render = Callable[[Sequence[int], int], StoredResponse]
"""The answer of a committed command, from its own events' positions and the batch's last."""


@dataclass
class PendingCommit:
    """Everything one command writes, and every condition under which it may be written.

    ``redecide`` lets a command that lost a race (a stream it read moved on) be decided again
    inside the batch's transaction, on the state that holds then, instead of being refused:
    commands that don't contradict each other never fail because they ran at the same time.
    ``occurs_at_commit`` stamps its events with the time the batch commits, so occurred times
    follow commit order along every stream (an import keeps the times it brings).
    """

    appends: list[StreamAppend]
    observed: dict[UUID, int] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    idempotency: IdempotencyKey | None = None
    render: Render | None = None
    redecide: Callable[[LockedReads], PendingCommit | Refused] | None = None
    occurs_at_commit: bool = False


@dataclass(frozen=True)
class ImportProgress:
    """How far an import has come: written in the same transaction as its lines' events, so a
    retried or resumed import knows exactly which lines are in the log."""

    import_id: str
    principal: str
    lines: int
    events: int
    position: int
    started_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Committed:
    positions: tuple[int, ...]
    response: StoredResponse | None


@dataclass(frozen=True)
class VersionConflict:
    stream_id: UUID
    expected: int
    actual: int


@dataclass(frozen=True)
class ClaimTaken:
    claim: Claim
    owner_id: UUID


@dataclass(frozen=True)
class Replayed:
    response: StoredResponse


CommitOutcome = Committed | VersionConflict | ClaimTaken | Replayed | Refused


class CommitOutcomeUnknown(Exception):
    """The connection was lost while the batch's ``COMMIT`` was under way, and reading the log
    back could not tell whether it was written (the database stayed out of reach)."""


def dump_response(response: StoredResponse) -> bytes:
    return orjson.dumps({"status": response.status, "body": response.body})


def load_response(fingerprint: str, data: bytes) -> StoredResponse:
    parsed = orjson.loads(data)
    return StoredResponse(int(parsed["status"]), parsed["body"], fingerprint)
