"""What an import reads and answers: its raw lines, how far it came, and why a line was refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.infrastructure.http import ProblemError
from services.infrastructure.screening import Refused, parse_json


@dataclass(frozen=True)
class Oversized:
    """A line longer than a request may carry: refused with its number, as any bad line."""

    size: int
    limit: int


RawLine = bytes | str | Mapping[str, object] | Oversized


@dataclass(frozen=True)
class LineError:
    """Why a line was refused: its number and the problem a live command would be told."""

    line: int
    problem: ProblemError

    def as_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "line": self.line,
            "status": self.problem.status,
            "code": self.problem.code,
            "detail": self.problem.detail,
        }
        if self.problem.errors:
            answer["errors"] = self.problem.errors
        return answer


@dataclass
class ImportReport:
    """How far an import came: in this run, and in all runs under its id."""

    import_id: str
    first_line: int
    lines_read: int = 0
    applied: int = 0
    skipped: int = 0
    lines_done: int = 0
    events: int = 0
    position: int = 0
    error: LineError | None = None

    @property
    def next_line(self) -> int:
        """The line to resume from."""
        return self.lines_done + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "first_line": self.first_line,
            "lines_read": self.lines_read,
            "applied": self.applied,
            "skipped": self.skipped,
            "lines_done": self.lines_done,
            "next_line": self.next_line,
            "events": self.events,
            "position": self.position,
            "error": self.error.as_dict() if self.error else None,
        }


class ImportGap(Exception):
    """A run that starts past the next line the import needs."""


class ImportBusy(Exception):
    """Another run of the same import is writing."""


def parsed_line(raw: RawLine) -> Any:
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, Oversized):
        raise ProblemError(
            413,
            "line_too_long",
            f"the line is {raw.size} bytes or more; a line may have at most {raw.limit}",
        )
    text = raw.strip() if isinstance(raw, bytes | str) else raw
    if not text:
        return None
    try:
        return parse_json(text, "the line")
    except Refused as refused:
        raise ProblemError(refused.status, refused.code, refused.detail) from None
