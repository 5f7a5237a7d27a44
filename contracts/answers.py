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
    """What a scheduler tick answers: the operations it looked at (for a manager, those of the
    teams they lead), the occurrences it scheduled, and the log position it reached (the log's
    last position when it scheduled none)."""

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


class ImportLineError(BaseModel):
    """The line that stopped an import, and why: what a live command would have been told."""

    line: int
    status: int
    code: str
    detail: str
    errors: list[dict[str, str]] = []


class ImportAnswer(BaseModel):
    """How far an import came. ``lines_done`` of its lines are in the log in all (so it resumes
    at ``next_line``); this request read ``lines_read`` lines, skipped ``skipped`` already
    imported, applied ``applied`` and wrote ``events`` events, the last at ``position``.
    ``complete`` is false when the request's lines were not all taken (a refused line, or more
    lines than one request takes)."""

    import_id: str
    first_line: int
    lines_read: int
    applied: int
    skipped: int
    lines_done: int
    next_line: int
    events: int
    position: int
    complete: bool
    error: ImportLineError | None = None
