"""Answers of the command API: the acknowledgement and the problem document."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict


class CommandAccepted(BaseModel):
    """What every command answers: the object, its new version, and the log position written.

    Commands that create a child also name it (``key_result_id``, ``milestone_id`` ...).
    """

    model_config = ConfigDict(extra="allow")

    id: UUID
    version: int
    position: int


class TickAnswer(BaseModel):
    """What a scheduler tick answers: the operations it looked at, the occurrences it scheduled,
    and the log position it reached (the log's last position when it scheduled none)."""

    operations: int
    scheduled: int
    position: int


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document with a stable ``code``."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None
